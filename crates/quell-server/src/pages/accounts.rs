//! Logging in and out, and API tokens.
//!
//! Invariants:
//! - The login form carries a token bound to a cookie (double submit). Session cookies are
//!   `HttpOnly; SameSite=Lax`; sessions are stored hashed.
//! - Failed logins are counted in the database (so every server process shares the count) per
//!   e-mail and per client address; beyond the limits the login is refused with 429 before the
//!   password is checked.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::auth::{self, Scope};
use crate::extract::{ClientAddress, CsrfForm, LOGIN_COOKIE, SESSION_COOKIE, Session, cookie};
use crate::html::{layout, page};
use crate::limits::{
    LOGIN_BACKOFF_MAX, LOGIN_WINDOW, MAX_LOGIN_FAILURES_PER_ADDRESS, MAX_LOGIN_FAILURES_PER_EMAIL, SESSION_LIFETIME,
};
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

/// Why a login is refused before its password is checked, if it is.
async fn login_refusal(state: &AppState, email: &str, client: &str) -> Result<Option<String>, ServerError> {
    let since = now() - LOGIN_WINDOW.as_secs() as i64;
    let pair = auth::login_pair_key(email, client);
    if auth::login_failures(&state.db, &pair, since).await? >= MAX_LOGIN_FAILURES_PER_EMAIL
        || auth::login_failures(&state.db, &format!("address:{client}"), since).await? >= MAX_LOGIN_FAILURES_PER_ADDRESS
    {
        return Ok(Some("Too many failed logins; wait a quarter of an hour and try again.".into()));
    }
    // From everywhere together, an account's failures beyond the limit slow further attempts
    // down (doubling, at most LOGIN_BACKOFF_MAX) instead of locking it: nobody can keep its
    // owner out for longer than that.
    let (count, last) = auth::login_failures_and_last(&state.db, email, since).await?;
    if let Some(wait) = login_backoff(count)
        && let Some(last) = last
    {
        let remaining = last + wait - now();
        if remaining > 0 {
            return Ok(Some(format!("Too many failed logins for this account; try again in {remaining} s.")));
        }
    }
    Ok(None)
}

/// The wait after `failures` failed logins of one account: none up to the per-account limit,
/// then 1, 2, 4, … seconds, at most [`LOGIN_BACKOFF_MAX`].
fn login_backoff(failures: i64) -> Option<i64> {
    let beyond = failures - MAX_LOGIN_FAILURES_PER_EMAIL;
    // 2^30 s is far beyond any cap: shifting no further keeps it exact and positive.
    (beyond >= 0).then(|| (1i64 << beyond.min(30)).min(LOGIN_BACKOFF_MAX.as_secs() as i64))
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ServerError> {
    if form.csrf.is_empty() || cookie(&headers, LOGIN_COOKIE) != Some(form.csrf.as_str()) {
        return Ok(login_page(StatusCode::FORBIDDEN, Some("The form expired; please try again.")));
    }
    let email = form.email.trim().to_lowercase();
    let client = client.to_string();
    if let Some(reason) = login_refusal(&state, &email, &client).await? {
        Metrics::add(&state.metrics.logins_failed, 1);
        return Ok(login_page(StatusCode::TOO_MANY_REQUESTS, Some(&reason)));
    }
    let Some(user_id) = auth::check_login(&state.db, &email, &form.password).await? else {
        Metrics::add(&state.metrics.logins_failed, 1);
        let forget_before = now() - LOGIN_WINDOW.as_secs() as i64;
        let keys = [email.clone(), format!("address:{client}"), auth::login_pair_key(&email, &client)];
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        auth::record_login_failure(&state.db, &keys, forget_before).await?;
        tracing::warn!(%email, address = %client, "failed login");
        return Ok(login_page(StatusCode::UNAUTHORIZED, Some("Wrong e-mail or password.")));
    };
    auth::forget_login_failures(&state.db, &[&email, &auth::login_pair_key(&email, &client)]).await?;
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

#[cfg(test)]
mod tests {
    use super::login_backoff;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(login_backoff(0), None);
        assert_eq!(login_backoff(4), None);
        assert_eq!(login_backoff(5), Some(1));
        assert_eq!(login_backoff(7), Some(4));
        assert_eq!(login_backoff(20), Some(60));
        assert_eq!(login_backoff(i64::MAX), Some(60));
    }
}
