//! Operations: the health check, Prometheus metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::extract::ApiCoordinator;

pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "database unreachable" }))).into_response()
        }
    }
}

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::DOCUMENT).into_response()
}

/// `/metrics` on the main address: coordinators only (the counters tell who uploads how much).
pub(crate) async fn metrics(State(state): State<AppState>, _: ApiCoordinator) -> Response {
    open_metrics(State(state)).await
}

/// `/metrics` on the `--metrics-listen` address, for a Prometheus on the operator's network: no
/// login (that address is the access control).
pub(crate) async fn open_metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}
