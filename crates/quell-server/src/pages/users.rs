//! Accounts on the pages: an organisation admin (or a coordinator, for any organisation) lists
//! accounts, disables, re-enables and removes them and issues one-time password-reset links;
//! everyone changes their own password; whoever holds a reset link sets a new password with it;
//! admins and coordinators read and export the audit log. The rules (who manages whom, what a
//! change ends, what is audited) are the store's (`quell_store::accounts`,
//! `quell_store::password_resets`, `quell_store::audit`); these handlers extract, call, render.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::{self, Lifecycle, Role};
use crate::extract::{CsrfForm, PageManager, Session};
use crate::html::{layout, page, role_name};
use crate::i18n::code;
use crate::pages::accounts::Empty;
use crate::{AppState, ServerError};

// ---- the accounts of an organisation ----

#[derive(Debug, Deserialize)]
pub(crate) struct UsersQuery {
    /// A coordinator's choice of organisation (without it: the list of organisations).
    org: Option<i64>,
}

/// `GET /users`: an admin's organisation's accounts; a coordinator picks an organisation.
pub(crate) async fn users_page(
    State(state): State<AppState>,
    manager: PageManager,
    Query(query): Query<UsersQuery>,
) -> Result<Response, ServerError> {
    users_view(&state, &manager, manager.scope.or(query.org), None).await
}

async fn users_view(
    state: &AppState,
    manager: &PageManager,
    org: Option<i64>,
    issued: Option<crate::resets::IssuedLink>,
) -> Result<Response, ServerError> {
    let session = &manager.session;
    let policy = match session.principal.role {
        Role::Coordinator => Some(quell_store::two_factor::policy(&state.db).await?),
        _ => None,
    };
    let Some(org) = org else {
        // A coordinator without a choice: the organisations to choose from.
        let orgs = crate::inventory::org_counts(&state.db).await?;
        let body = html! {
            @if let Some(policy) = policy { (crate::pages::two_factor::policy_form(session, policy)) }
            p { (t!("users-pick-org")) }
            ul #orgs { @for o in &orgs { li { a href=(format!("/users?org={}", o.id)) { (o.name) } } } }
        };
        return Ok(page(StatusCode::OK, layout(&t!("users-title"), Some(session), body)));
    };
    let users = auth::list_users(&state.db, auth::listable_accounts(&session.principal, Some(org))?).await?;
    let body = html! {
        @if let Some(policy) = policy { (crate::pages::two_factor::policy_form(session, policy)) }
        @if let Some(link) = &issued {
            p.notice #reset-link {
                (t!("users-reset-issued", email = link.email.as_str(), expires = crate::i18n::date_text(&link.expires_at)))
                br; code { (link.url) }
                br; @if link.emailed { (t!("users-reset-emailed")) } @else { (t!("users-reset-not-emailed")) }
            }
        }
        table #users {
            tr { th { (t!("users-email")) } th { (t!("users-role")) } th { (t!("users-state")) } th { (t!("users-two-factor")) } th {} }
            @for user in &users {
                tr {
                    td { (user.email) }
                    td { (Role::parse(&user.role).map(role_name).unwrap_or_else(|| user.role.clone())) }
                    td { @if user.disabled { (t!("users-disabled")) } @else { (t!("users-active")) } }
                    td { @if user.two_factor { (t!("users-two-factor-on")) } @else { "–" } }
                    td {
                        @if user.id != session.principal.user_id {
                            @if user.disabled {
                                (action_button(session, user.id, "enable", &t!("users-enable")))
                            } @else {
                                (action_button(session, user.id, "disable", &t!("users-disable")))
                                (action_button(session, user.id, "reset-link", &t!("users-reset")))
                            }
                            @if user.two_factor {
                                (action_button(session, user.id, "two-factor/remove", &t!("users-two-factor-remove")))
                            }
                            (action_button(session, user.id, "remove", &t!("users-remove")))
                        }
                    }
                }
            }
        }
    };
    Ok(page(StatusCode::OK, layout(&t!("users-title"), Some(session), body)))
}

fn action_button(session: &Session, user_id: i64, action: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(format!("/users/{user_id}/{action}")) {
            input type="hidden" name="csrf" value=(session.csrf);
            button type="submit" data-action=(action) { (label) }
        }
    }
}

/// `POST /users/{id}/disable|enable|remove`: back to the account's organisation's list.
pub(crate) async fn change_user(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm { session, .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    let what = match action.as_str() {
        "disable" => Lifecycle::Disable,
        "enable" => Lifecycle::Enable,
        "remove" => Lifecycle::Remove,
        _ => return Err(ServerError::NotFound(action)),
    };
    let org = auth::change_account(&state.db, &session.principal, id, what).await?.org_id;
    let back = org.map_or_else(|| "/users".to_string(), |org| format!("/users?org={org}"));
    Ok(Redirect::to(&back).into_response())
}

/// `POST /users/{id}/reset-link`: the list again, with the new link shown once.
pub(crate) async fn reset_link(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { session, .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    let issued = crate::resets::issue(&state, &session.principal, id).await?;
    let scope = auth::managed_scope(&session.principal)?;
    let org = scope.or(issued.org_id);
    users_view(&state, &PageManager { session, scope }, org, Some(issued)).await
}

// ---- one's own password ----

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

fn password_view(session: &Session, status: StatusCode, message: Option<&str>) -> Response {
    let body = html! {
        @if let Some(m) = message { p.notice.warn { (m) } }
        form method="post" action="/account/password" {
            input type="hidden" name="csrf" value=(session.csrf);
            p { label { (t!("password-current")) br; input type="password" name="current" required autocomplete="current-password"; } }
            p { label { (t!("password-new", min = crate::limits::MIN_PASSWORD_CHARS)) br; input type="password" name="new" required autocomplete="new-password"; } }
            p { label { (t!("password-repeat")) br; input type="password" name="repeat" required autocomplete="new-password"; } }
            button type="submit" { (t!("password-change")) }
        }
    };
    page(status, layout(&t!("password-title"), Some(session), body))
}

/// `GET /account/password`.
pub(crate) async fn password_form(session: Session) -> Response {
    password_view(&session, StatusCode::OK, None)
}

/// `POST /account/password`: every session ends, so the next page is the login.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<PasswordForm>,
) -> Result<Response, ServerError> {
    if form.new != form.repeat {
        return Ok(password_view(&session, StatusCode::BAD_REQUEST, Some(&t!("password-mismatch"))));
    }
    match auth::change_password(&state.db, &session.principal, &form.current, &form.new).await {
        Ok(()) => Ok(Redirect::to("/login").into_response()),
        Err(quell_store::StoreError::Forbidden(_)) => {
            Ok(password_view(&session, StatusCode::FORBIDDEN, Some(&t!("password-wrong-current"))))
        }
        Err(quell_store::StoreError::Invalid(_)) => Ok(password_view(
            &session,
            StatusCode::BAD_REQUEST,
            Some(&t!("password-too-short", min = crate::limits::MIN_PASSWORD_CHARS)),
        )),
        Err(e) => Err(e.into()),
    }
}

// ---- a reset link ----

#[derive(Debug, Deserialize)]
pub(crate) struct ResetForm {
    new: String,
    repeat: String,
}

fn reset_view(secret: &str, email: &str, status: StatusCode, message: Option<&str>) -> Response {
    let body = html! {
        @if let Some(m) = message { p.notice.warn { (m) } }
        p { (t!("reset-for", email = email)) }
        form method="post" action=(crate::resets::path(secret)) {
            p { label { (t!("password-new", min = crate::limits::MIN_PASSWORD_CHARS)) br; input type="password" name="new" required autocomplete="new-password"; } }
            p { label { (t!("password-repeat")) br; input type="password" name="repeat" required autocomplete="new-password"; } }
            button type="submit" { (t!("reset-submit")) }
        }
    };
    page(status, layout(&t!("reset-title"), None, body))
}

fn reset_gone() -> Response {
    let body = html! { p.notice.warn #reset-gone { (t!("reset-gone")) } };
    page(StatusCode::NOT_FOUND, layout(&t!("reset-title"), None, body))
}

/// `GET /reset/{secret}`: the form, when the link is usable. No session needed: the secret is
/// the credential (the form posts back to the same secret URL, so it needs no CSRF token).
pub(crate) async fn reset_form(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Result<Response, ServerError> {
    Ok(match quell_store::password_resets::account_of(&state.db, &secret).await? {
        Some(email) => reset_view(&secret, &email, StatusCode::OK, None),
        None => reset_gone(),
    })
}

/// `POST /reset/{secret}`: sets the password and sends the owner to the login.
pub(crate) async fn reset(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    axum::Form(form): axum::Form<ResetForm>,
) -> Result<Response, ServerError> {
    let Some(email) = quell_store::password_resets::account_of(&state.db, &secret).await? else {
        return Ok(reset_gone());
    };
    if form.new != form.repeat {
        return Ok(reset_view(&secret, &email, StatusCode::BAD_REQUEST, Some(&t!("password-mismatch"))));
    }
    match quell_store::password_resets::complete(&state.db, &secret, &form.new).await {
        Ok(_) => Ok(Redirect::to("/login").into_response()),
        Err(quell_store::StoreError::Invalid(_)) => Ok(reset_view(
            &secret,
            &email,
            StatusCode::BAD_REQUEST,
            Some(&t!("password-too-short", min = crate::limits::MIN_PASSWORD_CHARS)),
        )),
        Err(quell_store::StoreError::NotFound(_)) => Ok(reset_gone()),
        Err(e) => Err(e.into()),
    }
}

// ---- the audit log ----

#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    action: Option<String>,
    before: Option<i64>,
}

/// Actions the filter offers.
const AUDIT_ACTIONS: [&str; 17] = [
    "login",
    "login_failed",
    "account_created",
    "account_disabled",
    "account_enabled",
    "account_removed",
    "password_changed",
    "password_reset_issued",
    "password_reset",
    "two_factor_enabled",
    "two_factor_removed",
    "two_factor_policy",
    "advisory_read",
    "advisory_exported",
    "advisory_delivered",
    "inventory_read",
    "inventory_exported",
];

/// Rows per page of the audit page.
const AUDIT_PAGE_ROWS: i64 = 100;

fn audit_filter(manager: &PageManager, query: &AuditQuery) -> quell_store::audit::Filter {
    // Only the actions the page offers: the value goes back into the page's links.
    let action = query.action.clone().filter(|a| AUDIT_ACTIONS.contains(&a.as_str()));
    quell_store::audit::Filter { org: manager.scope, action, before: query.before }
}

/// `GET /audit`: the newest events (an admin's organisation's, a coordinator's all), a filter
/// by action, paging back, and the export links.
pub(crate) async fn audit_page(
    State(state): State<AppState>,
    manager: PageManager,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ServerError> {
    let filter = audit_filter(&manager, &query);
    let entries = quell_store::audit::list(&state.db, &filter, AUDIT_PAGE_ROWS).await?;
    let action = filter.action.clone().unwrap_or_default();
    let body = html! {
        form method="get" action="/audit" {
            select name="action" {
                option value="" selected[action.is_empty()] { (t!("audit-all")) }
                @for a in AUDIT_ACTIONS { option value=(a) selected[action == a] { (code(a)) } }
            }
            " " button type="submit" { (t!("audit-filter")) }
        }
        p {
            a #export-csv href=(format!("/audit/export.csv?action={action}")) { (t!("audit-export-csv")) } " · "
            a #export-jsonl href=(format!("/audit/export.jsonl?action={action}")) { (t!("audit-export-jsonl")) }
        }
        table #audit {
            tr { th { (t!("audit-at")) } th { (t!("audit-actor")) } th { (t!("audit-action")) } th { (t!("audit-target")) } th { (t!("audit-detail")) } }
            @for e in &entries {
                tr { td { (crate::i18n::date_text(&e.at)) } td { (e.actor.clone().unwrap_or_default()) } td { (code(&e.action)) } td { (e.target) } td { (e.detail) } }
            }
        }
        @if let Some(last) = entries.last().filter(|_| entries.len() as i64 == AUDIT_PAGE_ROWS) {
            p { a href=(format!("/audit?action={action}&before={}", last.id)) { (t!("audit-older")) } }
        }
    };
    Ok(page(StatusCode::OK, layout(&t!("audit-title"), Some(&manager.session), body)))
}

/// `GET /audit/export.csv` and `/audit/export.jsonl`: every matching event, streamed.
pub(crate) async fn audit_export(
    State(state): State<AppState>,
    manager: PageManager,
    Path(file): Path<String>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ServerError> {
    let format = match file.as_str() {
        "export.csv" => crate::audit::ExportFormat::Csv,
        "export.jsonl" => crate::audit::ExportFormat::JsonLines,
        _ => return Err(ServerError::NotFound(file)),
    };
    let filter = audit_filter(&manager, &query);
    Ok(crate::audit::export(state, filter, format))
}
