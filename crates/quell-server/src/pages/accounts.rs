//! Logging in and out, and API tokens.
//!
//! Invariants:
//! - The login form carries a token bound to a cookie (double submit). Session cookies are
//!   `HttpOnly; SameSite=Lax`; sessions are stored hashed.
//! - Failed logins are counted in the database (so every server process shares the count) per
//!   e-mail and per client address; beyond the limits the login is refused with 429 before the
//!   password is checked.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::auth::{self, Scope};
use crate::extract::{CsrfForm, LOGIN_COOKIE, SESSION_COOKIE, Session, cookie};
use crate::html::{layout, page};
use crate::limits::{LOGIN_WINDOW, MAX_LOGIN_FAILURES_PER_ADDRESS, MAX_LOGIN_FAILURES_PER_EMAIL, SESSION_LIFETIME};
use crate::metrics::Metrics;
use crate::{AppState, ServerError, now};

// ---- login ----

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    csrf: String,
}

fn login_page(status: StatusCode, message: Option<&str>) -> Response {
    let token = auth::new_secret("").unwrap_or_default();
    let markup = layout(
        "Log in",
        None,
        html! {
            form.login method="post" action="/login" {
                @if let Some(message) = message { p.bad { (message) } }
                label for="email" { "E-mail" }
                input #email type="email" name="email" autocomplete="username" required;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                input type="hidden" name="csrf" value=(token);
                button type="submit" { "Log in" }
            }
        },
    );
    let mut response = page(status, markup);
    let cookie = format!("{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=3600");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

pub(crate) async fn failures(state: &AppState, key: &str) -> Result<i64, ServerError> {
    Ok(auth::login_failures(&state.db, key, now() - LOGIN_WINDOW.as_secs() as i64).await?)
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ServerError> {
    if form.csrf.is_empty() || cookie(&headers, LOGIN_COOKIE) != Some(form.csrf.as_str()) {
        return Ok(login_page(StatusCode::FORBIDDEN, Some("The form expired; please try again.")));
    }
    let email = form.email.trim().to_lowercase();
    let address = format!("address:{}", peer.ip());
    if failures(&state, &email).await? >= MAX_LOGIN_FAILURES_PER_EMAIL
        || failures(&state, &address).await? >= MAX_LOGIN_FAILURES_PER_ADDRESS
    {
        Metrics::add(&state.metrics.logins_failed, 1);
        return Ok(login_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed logins; wait a quarter of an hour and try again."),
        ));
    }
    let Some(user_id) = auth::check_login(&state.db, &email, &form.password).await? else {
        Metrics::add(&state.metrics.logins_failed, 1);
        let forget_before = now() - LOGIN_WINDOW.as_secs() as i64;
        auth::record_login_failure(&state.db, &[&email, &address], forget_before).await?;
        tracing::warn!(%email, address = %peer.ip(), "failed login");
        return Ok(login_page(StatusCode::UNAUTHORIZED, Some("Wrong e-mail or password.")));
    };
    auth::clear_login_failures(&state.db, &email).await?;
    let csrf = auth::new_secret("")?;
    let lifetime = SESSION_LIFETIME.as_secs() as i64;
    let secret = auth::create_session(&state.db, user_id, &csrf, lifetime).await?;
    let mut response = Redirect::to("/").into_response();
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={lifetime}{secure}");
    response
        .headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ServerError::Internal(e.to_string()))?);
    Ok(response)
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct Empty {}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        auth::delete_session(&state.db, secret).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("quell_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    Ok(response)
}

// ---- tokens ----

#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    name: String,
    scope: String,
}

pub(crate) async fn tokens_page(
    state: &AppState,
    session: &Session,
    created: Option<auth::NewToken>,
) -> Result<Response, ServerError> {
    let list = auth::list_tokens(&state.db, session.principal.token_owner()).await?;
    let body = html! {
        @if let Some(t) = &created {
            p.notice { "New " (t.scope.as_str()) " token " strong { (t.name) } ", shown only now: " br; code #new-token { (t.token) } }
        }
        table {
            tr { th { "Id" } th { "Name" } th { "Scope" } th { "User" } th { "Created" } th { "" } }
            @for token in &list {
                tr {
                    td { (token.id) } td { (token.name) } td { (token.scope) } td { (token.email) }
                    td { (crate::time::format_rfc3339(token.created_at)) }
                    td {
                        @if token.revoked_at.is_some() { "revoked" } @else {
                            form.inline method="post" action=(format!("/tokens/{}/revoke", token.id)) {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" { "Revoke" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "New token" }
        form method="post" action="/tokens" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="text" name="name" placeholder="what it is for" required;
            " " select name="scope" { option value="upload" { "upload only (scan agents)" } option value="full" { "full" } }
            " " button type="submit" { "Create" }
        }
    };
    Ok(page(StatusCode::OK, layout("API tokens", Some(session), body)))
}

pub(crate) async fn tokens(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    tokens_page(&state, &session, None).await
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<TokenForm>,
) -> Result<Response, ServerError> {
    let scope = Scope::parse(&form.scope).ok_or_else(|| ServerError::Invalid("Unknown scope.".into()))?;
    let created = auth::create_token(&state.db, session.principal.user_id, form.name.trim(), scope).await?;
    tokens_page(&state, &session, Some(created)).await
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { session, .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    if !auth::revoke_owned_token(&state.db, session.principal.token_owner(), id).await? {
        return Err(ServerError::NotFound(format!("token {id}")));
    }
    Ok(Redirect::to("/tokens").into_response())
}
