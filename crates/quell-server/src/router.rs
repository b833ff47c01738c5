//! Every route of `quell serve`, in one table, grouped by resource. A handler extracts who the
//! caller is ([`crate::extract`]), calls one store or service function, and renders; the page
//! routes are wrapped in [`html_errors`], so their errors are HTML pages while the API's are JSON.
//!
//! The OpenAPI test (`crate::openapi`) checks that `openapi.json` names exactly the API routes
//! listed here.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};

use crate::api::{advisories, aggregator, csaf};
use crate::html::html_errors;
use crate::{AppState, api, pages, registry};

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new().merge(api_routes(&state)).merge(page_routes(&state)).with_state(state)
}

/// The JSON API (and the health and metrics endpoints).
fn api_routes(state: &AppState) -> Router<AppState> {
    let report_limit = DefaultBodyLimit::max(state.limits.max_report_bytes);
    let import_limit = DefaultBodyLimit::max(registry::limits::MAX_IMPORT_BYTES);
    let small = DefaultBodyLimit::max(registry::limits::MAX_BODY_BYTES);
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
        // inventories and SBOMs: where does a component run?
        .route("/api/v1/components", get(api::components::ask))
        .route("/api/v1/inventories", get(api::components::list_sources))
        .route("/api/v1/sboms", post(api::components::upload_sbom).layer(report_limit))
        // accounts, organisations, tokens, sharing
        .route("/api/v1/me", get(api::accounts::me).put(api::accounts::set_me))
        .route(
            "/api/v1/me/openpgp-key",
            put(api::accounts::put_openpgp_key)
                .delete(api::accounts::delete_openpgp_key)
                .layer(DefaultBodyLimit::max(crate::openpgp::MAX_KEY_BODY_BYTES)),
        )
        .route("/api/v1/orgs", get(api::accounts::list_orgs).post(api::accounts::create_org))
        .route("/api/v1/orgs/{id}/inventory", get(api::accounts::org_inventory))
        .route("/api/v1/orgs/{id}/hosts", get(api::accounts::org_hosts))
        .route("/api/v1/users", get(api::accounts::list_users).post(api::accounts::create_user))
        .route("/api/v1/users/{id}", delete(api::accounts::remove_user))
        .route("/api/v1/users/{id}/disable", post(api::accounts::disable_user))
        .route("/api/v1/users/{id}/enable", post(api::accounts::enable_user))
        .route("/api/v1/users/{id}/reset-link", post(api::accounts::reset_link))
        .route("/api/v1/users/{id}/two-factor", delete(api::accounts::remove_two_factor))
        .route(
            "/api/v1/two-factor/policy",
            get(api::accounts::two_factor_policy).put(api::accounts::set_two_factor_policy),
        )
        .route("/api/v1/me/password", put(api::accounts::change_password))
        .route("/api/v1/audit", get(api::accounts::audit_log))
        .route("/api/v1/tokens", get(api::accounts::list_tokens).post(api::accounts::create_token))
        .route("/api/v1/tokens/{id}", delete(api::accounts::revoke_token))
        .route("/api/v1/sharing", get(api::accounts::get_sharing).put(api::accounts::put_sharing))
        // indicators (hunt uploads, the pool, exports)
        .route(
            "/api/v1/indicators",
            post(api::indicators::upload)
                .get(api::indicators::list_own)
                .layer(DefaultBodyLimit::max(state.limits.max_report_bytes)),
        )
        .route("/api/v1/indicators/pool", get(api::indicators::list_pool))
        .route("/api/v1/indicators/days", get(api::indicators::list_days))
        .route("/api/v1/indicators/feed", get(api::indicators::feed))
        .route("/api/v1/indicators/lines", get(api::indicators::list_lines))
        // signed detection packs for `quell scan --rules-from`
        .route(
            "/api/v1/packs",
            get(api::packs::list)
                .post(api::packs::upload)
                .layer(DefaultBodyLimit::max(crate::limits::MAX_PACK_UPLOAD_BYTES)),
        )
        .route("/api/v1/packs/{name}", delete(api::packs::withdraw))
        .route("/api/v1/packs/{name}/history", get(api::packs::history))
        // advisories: the JSON API, target groups, webhooks, contacts, call lists
        .route("/api/v1/advisories", get(advisories::list).post(advisories::create))
        .route("/api/v1/advisories/overdue", get(advisories::overdue))
        .route("/api/v1/advisories/import", post(csaf::import))
        .route("/api/v1/advisories/external", get(csaf::list_external))
        .route("/api/v1/advisories/external/{id}", get(aggregator::show_external))
        .route("/api/v1/advisories/external/{id}/forward", post(aggregator::forward_external))
        // the aggregator: subscriptions to other CSAF providers
        .route("/api/v1/csaf/subscriptions", get(aggregator::list).post(aggregator::create))
        .route("/api/v1/csaf/subscriptions/{id}", get(aggregator::show).delete(aggregator::remove))
        .route("/api/v1/csaf/subscriptions/{id}/poll", post(aggregator::poll))
        .route("/api/v1/advisories/{id}", get(advisories::show))
        .route("/api/v1/advisories/{id}/versions", post(advisories::new_version))
        .route("/api/v1/advisories/{id}/versions/{version}", get(advisories::show_version).put(advisories::edit))
        .route("/api/v1/advisories/{id}/publish", post(advisories::publish))
        .route("/api/v1/advisories/{id}/csaf", get(advisories::csaf))
        .route("/api/v1/advisories/{id}/recipients", get(advisories::recipients))
        .route("/api/v1/advisories/{id}/deliveries", get(advisories::deliveries))
        .route("/api/v1/advisories/{id}/call-list", get(advisories::call_list))
        .route("/api/v1/advisories/{id}/call-list/{entry}/calls", post(advisories::record_call))
        .route("/api/v1/advisories/{id}/systems", get(advisories::list_systems))
        .route(
            "/api/v1/advisories/{id}/systems/{host}/decisions",
            get(advisories::decision_history).post(advisories::decide),
        )
        .route(
            "/api/v1/advisories/{id}/products/{product}/decisions",
            get(advisories::product_decision_history).post(advisories::decide_product),
        )
        .route("/api/v1/advisories/{id}/progress", get(advisories::progress))
        .route("/api/v1/target-groups", get(advisories::list_groups).post(advisories::create_group))
        .route("/api/v1/target-groups/{id}", get(advisories::get_group).put(advisories::put_group))
        .route("/api/v1/webhook", get(advisories::get_webhook).put(advisories::put_webhook))
        .route("/api/v1/contacts", get(advisories::list_contacts).post(advisories::create_contact))
        // advisories as public documents (not pages: JSON errors): the Atom feed, the CSAF provider
        .route("/advisories.atom", get(advisories::feed))
        .route("/.well-known/csaf/provider-metadata.json", get(csaf::provider_metadata))
        .route("/.well-known/csaf/{dir}/index.txt", get(csaf::index_txt))
        .route("/.well-known/csaf/{dir}/changes.csv", get(csaf::changes_csv))
        .route("/.well-known/csaf/{dir}/feed.json", get(csaf::rolie_feed))
        .route("/.well-known/csaf/{dir}/", get(csaf::listing))
        .route("/.well-known/csaf/{dir}/{year}/", get(csaf::year_listing))
        .route("/.well-known/csaf/openpgp/{file}", get(csaf::public_key))
        .route("/.well-known/security.txt", get(csaf::security_txt))
        .route("/.well-known/csaf-aggregator/aggregator.json", get(aggregator::aggregator_json))
        .route("/.well-known/csaf/{dir}/{year}/{file}", get(csaf::document_file))
        // the product status registry
        .route("/api/v1/registry/import", post(api::registry::import).layer(import_limit))
        .route("/api/v1/registry/entries", get(api::registry::search))
        .route("/api/v1/registry/entries/{id}", get(api::registry::get_entry).put(api::registry::edit).layer(small))
        .route("/api/v1/registry/entries/{id}/history", get(api::registry::get_history))
        .route("/api/v1/registry/entries/{id}/merge", post(api::registry::merge_entries).layer(small))
        .route("/api/v1/registry/export.csv", get(api::registry::export_csv))
        .route("/api/v1/registry/export.json", get(api::registry::export_json))
        .route("/api/v1/registry/export.md", get(api::registry::export_md))
        .route("/api/v1/registry/export/full.json", get(api::registry::export_full))
        .route("/api/v1/registry/suppliers/{supplier}/csaf.json", get(api::registry::csaf))
        .route(
            "/api/v1/registry/proposals",
            get(api::registry::list_proposals).post(api::registry::propose).layer(small),
        )
        .route("/api/v1/registry/proposals/{id}", get(api::registry::get_proposal))
        .route("/api/v1/registry/proposals/{id}/accept", post(api::registry::accept_proposal))
        .route("/api/v1/registry/proposals/{id}/reject", post(api::registry::reject_proposal).layer(small))
        .route(
            "/api/v1/registry/my-products",
            get(api::registry::list_products).post(api::registry::add_product).layer(small),
        )
        .route("/api/v1/registry/my-products/status", get(api::registry::products_status))
        .route(
            "/api/v1/registry/my-products/{id}",
            put(api::registry::update_product).delete(api::registry::delete_product).layer(small),
        )
        .route("/api/v1/registry/notifications", get(api::registry::list_notifications))
        .route("/api/v1/registry/notifications/{id}/read", post(api::registry::read_notification))
        .route("/api/v1/registry/supplier-orgs/{id}", put(api::registry::set_supplier_org).layer(small))
        .route(
            "/api/v1/registry/confirmations",
            get(api::registry::list_confirmations).post(api::registry::request_confirmation).layer(small),
        )
        .route("/api/v1/registry/confirmations/{id}/answer", post(api::registry::answer_confirmation).layer(small))
        // JSON `message`s in the caller's language (`Accept-Language`); codes stay English.
        .layer(from_fn_with_state(state.clone(), crate::i18n::api_language))
}

/// The metrics listener (`--metrics-listen`): `/metrics` only, without login.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(api::ops::open_metrics)).with_state(state)
}

/// The web pages; errors become HTML pages.
fn page_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        // login and the organisation's own inventory
        .route("/", get(pages::inventory::dashboard))
        .route("/login", get(pages::accounts::login_form).post(pages::accounts::login))
        .route("/login/code", post(pages::accounts::login_code))
        .route("/login/oidc", get(pages::sso::begin))
        .route("/login/oidc/callback", get(pages::sso::callback))
        .route("/logout", post(pages::accounts::logout))
        .route("/hosts", get(pages::inventory::hosts))
        .route("/hosts/{id}", get(pages::inventory::host))
        .route("/search", get(pages::inventory::search))
        .route("/components", get(pages::components::ask))
        .route("/tokens", get(pages::accounts::tokens).post(pages::accounts::create_token))
        .route("/tokens/{id}/revoke", post(pages::accounts::revoke_token))
        .route("/account/language", post(pages::accounts::set_language))
        // accounts: managing them, one's own password and second factor, reset links, the
        // two-factor policy, the audit log
        .route("/users", get(pages::users::users_page))
        .route("/users/{id}/reset-link", post(pages::users::reset_link))
        .route("/users/two-factor-policy", post(pages::two_factor::set_policy))
        .route("/users/{id}/two-factor/remove", post(pages::two_factor::remove_for))
        .route("/account/two-factor", get(pages::two_factor::two_factor_page).post(pages::two_factor::confirm))
        .route("/account/two-factor/remove", post(pages::two_factor::remove_own))
        .route("/users/{id}/{action}", post(pages::users::change_user))
        .route("/account/password", get(pages::users::password_form).post(pages::users::change_password))
        .route("/reset/{secret}", get(pages::users::reset_form).post(pages::users::reset))
        .route("/audit", get(pages::users::audit_page))
        .route("/audit/{file}", get(pages::users::audit_export))
        // advisories
        .route("/advisories", get(pages::advisories::list))
        .route("/advisories/new", get(pages::advisories::new_form).post(pages::advisories::create))
        .route(
            "/advisories/external/{id}/forward",
            get(pages::advisories::forward_form).post(pages::advisories::forward),
        )
        .route("/advisories/subscriptions", get(pages::subscriptions::list).post(pages::subscriptions::create))
        .route("/advisories/subscriptions/{id}", get(pages::subscriptions::show))
        .route("/advisories/subscriptions/{id}/poll", post(pages::subscriptions::poll))
        .route("/advisories/subscriptions/{id}/remove", post(pages::subscriptions::remove))
        .route("/advisories/{id}", get(pages::advisories::show))
        .route("/advisories/{id}/publish", post(pages::advisories::publish))
        .route("/advisories/{id}/decide", post(pages::advisories::decide))
        .route("/advisories/{id}/calls", post(pages::advisories::record_call))
        .route("/advisories/{id}/edit", get(pages::advisories::edit_form).post(pages::advisories::save_edit))
        .route("/advisories/{id}/new-version", post(pages::advisories::new_version))
        // indicators
        .route("/indicators", get(pages::indicators::indicators_page))
        // the product status registry
        .route("/registry", get(pages::registry::search))
        .route("/registry/entries/{id}", get(pages::registry::entry_page))
        .route("/registry/entries/{id}/edit", get(pages::registry::edit_form).post(pages::registry::save_edit))
        .route(
            "/registry/entries/{id}/propose",
            get(pages::registry::propose_form).post(pages::registry::save_proposal),
        )
        .route("/registry/entries/{id}/confirm", post(pages::registry::ask_supplier))
        .route("/registry/proposals", get(pages::registry::proposals_page))
        .route("/registry/proposals/{id}/accept", post(pages::registry::accept_proposal))
        .route("/registry/proposals/{id}/reject", post(pages::registry::reject_proposal))
        .route("/registry/confirmations", get(pages::registry::confirmations_page))
        .route("/registry/confirmations/{id}/answer", post(pages::registry::answer_request))
        .route("/registry/my-products", get(pages::registry::my_products).post(pages::registry::add_product))
        .layer(from_fn_with_state(state.clone(), html_errors))
}
