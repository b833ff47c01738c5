//! Every route of `quell serve`, in one table, grouped by resource. A handler extracts who the
//! caller is ([`crate::extract`]), calls one store or service function, and renders; the page
//! routes are wrapped in [`html_errors`], so their errors are HTML pages while the API's are JSON.
//!
//! The OpenAPI test (`crate::openapi`) checks that `openapi.json` names exactly the API routes
//! listed here.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};

use crate::html::html_errors;
use crate::{AppState, api, pages};

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new().merge(api_routes(&state)).merge(page_routes(&state)).with_state(state)
}

/// The JSON API (and the health and metrics endpoints).
fn api_routes(state: &AppState) -> Router<AppState> {
    let report_limit = DefaultBodyLimit::max(state.limits.max_report_bytes);
    Router::new()
        // operations
        .route("/healthz", get(api::ops::healthz))
        .route("/metrics", get(api::ops::metrics))
        .route("/api/openapi.json", get(api::ops::openapi))
        // reports and the inventory read from them
        .route("/api/v1/reports", post(api::reports::upload).layer(report_limit))
        .route("/api/v1/reports/{id}", get(api::reports::get_report))
        .route("/api/v1/hosts", get(api::reports::list_hosts))
        .route("/api/v1/hosts/{id}", get(api::reports::get_host))
        .route("/api/v1/hosts/{id}/reports", get(api::reports::host_reports))
        .route("/api/v1/inventory", get(api::reports::get_inventory))
        .route("/api/v1/search", get(api::reports::search))
        .route("/api/v1/trend", get(api::reports::trend))
        // accounts, organisations, tokens, sharing
        .route("/api/v1/me", get(api::accounts::me))
        .route("/api/v1/orgs", get(api::accounts::list_orgs).post(api::accounts::create_org))
        .route("/api/v1/orgs/{id}/inventory", get(api::accounts::org_inventory))
        .route("/api/v1/orgs/{id}/hosts", get(api::accounts::org_hosts))
        .route("/api/v1/users", get(api::accounts::list_users).post(api::accounts::create_user))
        .route("/api/v1/tokens", get(api::accounts::list_tokens).post(api::accounts::create_token))
        .route("/api/v1/tokens/{id}", delete(api::accounts::revoke_token))
        .route("/api/v1/sharing", get(api::accounts::get_sharing).put(api::accounts::put_sharing))
        // indicators (hunt uploads, the pool, exports)
        .merge(crate::indicators::router(&state.limits))
        // advisories (API, Atom, CSAF provider, pages)
        .merge(crate::advisories::router())
        // the product status registry (API and pages)
        .merge(crate::registry::router())
}

/// The web pages; errors become HTML pages.
fn page_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        // login and the organisation's own inventory
        .route("/", get(pages::inventory::dashboard))
        .route("/login", get(pages::accounts::login_form).post(pages::accounts::login))
        .route("/logout", post(pages::accounts::logout))
        .route("/hosts", get(pages::inventory::hosts))
        .route("/hosts/{id}", get(pages::inventory::host))
        .route("/search", get(pages::inventory::search))
        .route("/tokens", get(pages::accounts::tokens).post(pages::accounts::create_token))
        .route("/tokens/{id}/revoke", post(pages::accounts::revoke_token))
        .layer(from_fn_with_state(state.clone(), html_errors))
}
