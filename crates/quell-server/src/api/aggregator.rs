//! The aggregator: coordinators' subscriptions to other CSAF providers
//! (`/api/v1/csaf/subscriptions`: subscribe, list, end, read a subscription's log, poll now),
//! forwarding an imported advisory to target groups as a new own advisory, and
//! `/.well-known/csaf-aggregator/aggregator.json` (CSAF 2.0 section 7.1.21, category `lister`:
//! the subscribed providers that ask to be listed). The polling itself is
//! [`crate::jobs::aggregator`], the checks and forwarding [`crate::aggregator`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quell_store::advisories::subscriptions;
use quell_store::{Missing, Thing};
use serde_json::{Value, json};

use crate::advisories::base;
use crate::aggregator::{ForwardBody, SubscribeBody, forward, poll_now, subscribe, unsubscribe};
use crate::extract::{ApiCoordinator, Caller, JsonBody};
use crate::time::format_rfc3339;
use crate::{AppState, ServerError, now};

/// `POST /api/v1/csaf/subscriptions`.
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiCoordinator(p): ApiCoordinator,
    JsonBody(body): JsonBody<SubscribeBody>,
) -> Result<Response, ServerError> {
    let id = subscribe(&state, &p, &body).await?;
    Ok((StatusCode::CREATED, Json(subscriptions::get(&state.db, id).await?)).into_response())
}

/// `GET /api/v1/csaf/subscriptions`.
pub(crate) async fn list(State(state): State<AppState>, _: ApiCoordinator) -> Result<Response, ServerError> {
    Ok(Json(subscriptions::list(&state.db).await?).into_response())
}

pub(crate) fn subscription_id(text: &str) -> Result<i64, ServerError> {
    text.parse().map_err(|_| ServerError::missing(&Missing::thing(Thing::Subscription, text)))
}

/// `GET /api/v1/csaf/subscriptions/{id}`: the subscription and its log (newest first).
pub(crate) async fn show(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = subscription_id(&id)?;
    let subscription = subscriptions::get(&state.db, id).await?;
    let log = subscriptions::log_entries(&state.db, id, subscriptions::MAX_LOG_ROWS).await?;
    Ok(Json(json!({ "subscription": subscription, "log": log })).into_response())
}

/// `DELETE /api/v1/csaf/subscriptions/{id}`: no more polls; what it imported stays.
pub(crate) async fn remove(
    State(state): State<AppState>,
    ApiCoordinator(p): ApiCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    unsubscribe(&state, &p, subscription_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/csaf/subscriptions/{id}/poll`: polls now and answers what the poll did.
pub(crate) async fn poll(
    State(state): State<AppState>,
    _: ApiCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    Ok(Json(poll_now(&state, subscription_id(&id)?).await?).into_response())
}

/// `POST /api/v1/advisories/external/{id}/forward`: 201 with the new advisory (a draft).
pub(crate) async fn forward_external(
    State(state): State<AppState>,
    ApiCoordinator(p): ApiCoordinator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ForwardBody>,
) -> Result<Response, ServerError> {
    let id: i64 = id.parse().map_err(|_| ServerError::missing(&Missing::thing(Thing::ImportedAdvisory, &id)))?;
    Ok((StatusCode::CREATED, Json(forward(&state, &p, id, body).await?)).into_response())
}

/// `/.well-known/csaf-aggregator/aggregator.json`: this server as a CSAF lister of the
/// subscribed providers whose metadata asks to be listed (`list_on_CSAF_aggregators`).
pub(crate) async fn aggregator_json(State(state): State<AppState>) -> Result<Response, ServerError> {
    let b = base(&state.advisories);
    let providers: Vec<Value> = subscriptions::listed(&state.db)
        .await?
        .into_iter()
        .map(|s| {
            json!({ "metadata": {
                "last_updated": s.metadata_updated,
                "publisher": {
                    "category": s.publisher_category,
                    "name": s.publisher_name,
                    "namespace": s.publisher_namespace,
                },
                "role": s.role,
                "url": s.metadata_url,
            }})
        })
        .collect();
    let mut aggregator = json!({ "category": "lister", "name": state.advisories.publisher_name, "namespace": b });
    if let Some(contact) = &state.advisories.security_contact {
        aggregator["contact_details"] = json!(contact);
    }
    Ok(Json(json!({
        "aggregator": aggregator,
        "aggregator_version": "2.0",
        "canonical_url": format!("{b}/.well-known/csaf-aggregator/aggregator.json"),
        "csaf_providers": providers,
        "last_updated": format_rfc3339(now()),
    }))
    .into_response())
}

/// `GET /api/v1/advisories/external/{id}`: an imported advisory and its CSAF document as the
/// provider served it (same access rule as the list).
pub(crate) async fn show_external(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let viewer = caller.viewer()?;
    let id: i64 = id.parse().map_err(|_| ServerError::missing(&Missing::thing(Thing::ImportedAdvisory, &id)))?;
    let (row, document) = crate::aggregator::visible_document(&state.db, &viewer, id).await?;
    Ok(Json(json!({ "advisory": row, "document": document })).into_response())
}
