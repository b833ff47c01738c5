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
use maud::{Markup, html};
use serde::Deserialize;

use crate::auth::{self, Scope};
use crate::extract::{ClientAddress, CsrfForm, LOGIN_COOKIE, PENDING_COOKIE, SESSION_COOKIE, Session, cookie};
use crate::html::{layout, page};
use crate::i18n::{self, LANG_COOKIE, Lang};
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

pub(crate) fn login_page(state: &AppState, status: StatusCode, message: Option<&str>) -> Response {
    let token = auth::new_secret("").unwrap_or_default();
    let markup = layout(
        &t!("login-title"),
        None,
        html! {
            form.login method="post" action="/login" {
                @if let Some(message) = message { p.bad { (message) } }
                label for="email" { (t!("login-email")) }
                input #email type="email" name="email" autocomplete="username" required;
                label for="password" { (t!("login-password")) }
                input #password type="password" name="password" autocomplete="current-password" required;
                input type="hidden" name="csrf" value=(token);
                button type="submit" { (t!("login-submit")) }
            }
            @if state.sso.is_some() {
                p.sso { a #sso href="/login/oidc" { (t!("login-sso")) } }
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

pub(crate) async fn login_form(State(state): State<AppState>) -> Response {
    login_page(&state, StatusCode::OK, None)
}

/// Why a login is refused before its password is checked, if it is.
async fn login_refusal(state: &AppState, email: &str, client: &str) -> Result<Option<String>, ServerError> {
    let since = now() - LOGIN_WINDOW.as_secs() as i64;
    let pair = auth::login_pair_key(email, client);
    if auth::login_failures(&state.db, &pair, since).await? >= MAX_LOGIN_FAILURES_PER_EMAIL
        || auth::login_failures(&state.db, &format!("address:{client}"), since).await? >= MAX_LOGIN_FAILURES_PER_ADDRESS
    {
        return Ok(Some(t!("login-too-many")));
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
            return Ok(Some(t!("login-backoff", seconds = remaining)));
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
        return Ok(login_page(&state, StatusCode::FORBIDDEN, Some(&t!("login-expired"))));
    }
    let email = form.email.trim().to_lowercase();
    let client = client.to_string();
    if let Some(reason) = login_refusal(&state, &email, &client).await? {
        Metrics::add(&state.metrics.logins_failed, 1);
        return Ok(login_page(&state, StatusCode::TOO_MANY_REQUESTS, Some(&reason)));
    }
    let Some(user_id) = auth::check_login(&state.db, &email, &form.password).await? else {
        failed_login(&state, &email, &client, &client).await?;
        return Ok(login_page(&state, StatusCode::UNAUTHORIZED, Some(&t!("login-wrong"))));
    };
    auth::forget_login_failures(&state.db, &[&email, &auth::login_pair_key(&email, &client)]).await?;
    after_first_factor(&state, user_id, &client, "password", false).await
}

/// A first factor (the password, or the OpenID provider) accepted for `user_id`: a session, or
/// with a second factor set up the code step (`/login/code`) first — unless the provider says it
/// checked a second factor itself (`provider_mfa`).
pub(crate) async fn after_first_factor(
    state: &AppState,
    user_id: i64,
    client: &str,
    via: &str,
    provider_mfa: bool,
) -> Result<Response, ServerError> {
    if provider_mfa {
        return start_session(state, user_id, client, &format!("{via} two-factor"), true).await;
    }
    if quell_store::two_factor::status(&state.db, user_id).await?.enrolled {
        let lifetime = quell_store::limits::PENDING_LOGIN_LIFETIME.as_secs() as i64;
        let pending = quell_store::two_factor::begin_login(&state.db, user_id, lifetime).await?;
        let mut response = code_page(StatusCode::OK, None);
        let cookie = format!(
            "{PENDING_COOKIE}={pending}; HttpOnly; SameSite=Strict; Path=/login; Max-Age={lifetime}{}",
            secure_flag(state)
        );
        append_cookie(&mut response, &cookie)?;
        return Ok(response);
    }
    start_session(state, user_id, client, via, false).await
}

/// A wrong password or second factor: counted towards the login limits (per account, per
/// address, per pair), logged and audited (`login_failed`, `detail`: the address and the step).
pub(crate) async fn failed_login(state: &AppState, email: &str, client: &str, detail: &str) -> Result<(), ServerError> {
    Metrics::add(&state.metrics.logins_failed, 1);
    let forget_before = now() - LOGIN_WINDOW.as_secs() as i64;
    let keys = [email.to_string(), format!("address:{client}"), auth::login_pair_key(email, client)];
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    auth::record_login_failure(&state.db, &keys, forget_before).await?;
    tracing::warn!(%email, address = %client, "failed login");
    let org = auth::user_org(&state.db, email).await?;
    quell_store::audit::record(
        &state.db.pool,
        &quell_store::audit::Event {
            actor: quell_store::audit::Actor::default(),
            action: "login_failed",
            org_id: org,
            target: email.to_string(),
            detail: detail.to_string(),
        },
    )
    .await?;
    Ok(())
}

fn secure_flag(state: &AppState) -> &'static str {
    if state.secure_cookies { "; Secure" } else { "" }
}

fn append_cookie(response: &mut Response, cookie: &str) -> Result<(), ServerError> {
    let value = HeaderValue::from_str(cookie).map_err(|e| ServerError::Internal(e.to_string()))?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(())
}

/// Tells the browser to forget cookie `name` (of path `path`).
pub(crate) fn expire_cookie(response: &mut Response, name: &str, path: &str) {
    if let Ok(value) = HeaderValue::from_str(&format!("{name}=; HttpOnly; Path={path}; Max-Age=0")) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The end of a successful login (`two_factor`: with a second factor; `how`: the factors, for
/// the audit log): audited, a new session, its cookie, and the dashboard.
pub(crate) async fn start_session(
    state: &AppState,
    user_id: i64,
    client: &str,
    how: &str,
    two_factor: bool,
) -> Result<Response, ServerError> {
    let (email, org) = auth::account_of(&state.db, user_id).await?;
    let detail = format!("{client} {how}");
    quell_store::audit::record(
        &state.db.pool,
        &quell_store::audit::Event {
            actor: quell_store::audit::Actor { user_id: Some(user_id), email: Some(email.clone()), org_id: org },
            action: "login",
            org_id: org,
            target: format!("user:{user_id} {email}"),
            detail,
        },
    )
    .await?;
    let csrf = auth::new_secret("")?;
    let lifetime = SESSION_LIFETIME.as_secs() as i64;
    let secret = auth::create_session(&state.db, user_id, &csrf, lifetime, two_factor).await?;
    let mut response = Redirect::to("/").into_response();
    let cookie =
        format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={lifetime}{}", secure_flag(state));
    append_cookie(&mut response, &cookie)?;
    Ok(response)
}

// ---- the second factor of a login ----

#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    pub(crate) code: String,
}

/// The second step of a login: the code form.
pub(crate) fn code_page(status: StatusCode, message: Option<&str>) -> Response {
    let body = html! {
        form.login method="post" action="/login/code" {
            @if let Some(message) = message { p.bad { (message) } }
            p { (t!("two-factor-login-intro")) }
            label for="code" { (t!("two-factor-code")) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus;
            button type="submit" { (t!("login-submit")) }
        }
    };
    page(status, layout(&t!("login-title"), None, body))
}

/// Checks a TOTP code (6 digits) or a recovery code for the account; spends it when valid.
pub(crate) async fn code_valid(state: &AppState, user_id: i64, code: &str) -> Result<bool, ServerError> {
    let Some((secret, true)) = quell_store::two_factor::secret(&state.db, user_id).await? else { return Ok(false) };
    if let Some(step) = crate::two_factor::matching_step(&secret, code, now())? {
        return Ok(quell_store::two_factor::accept_step(&state.db, user_id, step).await?);
    }
    Ok(quell_store::two_factor::use_recovery_code(&state.db, user_id, code).await?)
}

/// `POST /login/code`: the pending login's code; a session with a second factor on success.
/// The pending cookie is `SameSite=Strict` and scoped to `/login`, so no other site can post it.
pub(crate) async fn login_code(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, ServerError> {
    let Some(secret) = cookie(&headers, PENDING_COOKIE) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(user_id) = quell_store::two_factor::pending_login(&state.db, secret).await? else {
        let mut response = login_page(&state, StatusCode::UNAUTHORIZED, Some(&t!("two-factor-expired")));
        expire_cookie(&mut response, PENDING_COOKIE, "/login");
        return Ok(response);
    };
    let client = client.to_string();
    if !code_valid(&state, user_id, &form.code).await? {
        let (email, _) = crate::auth::account_of(&state.db, user_id).await?;
        failed_login(&state, &email, &client, &format!("{client} second factor")).await?;
        return Ok(code_page(StatusCode::UNAUTHORIZED, Some(&t!("two-factor-wrong"))));
    }
    quell_store::two_factor::end_login(&state.db, secret).await?;
    let mut response = start_session(&state, user_id, &client, "two-factor", true).await?;
    expire_cookie(&mut response, PENDING_COOKIE, "/login");
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
            p.notice { (t!("tokens-new-shown", scope = scope_name(t.scope.as_str()))) " " strong { (t.name) } br; code #new-token { (t.token) } }
        }
        table {
            tr { th { (t!("tokens-id")) } th { (t!("tokens-name")) } th { (t!("tokens-scope")) } th { (t!("tokens-user")) } th { (t!("tokens-created")) } th {} }
            @for token in &list {
                tr {
                    td { (token.id) } td { (token.name) } td { (scope_name(&token.scope)) } td { (token.email) }
                    td { (i18n::date_time(token.created_at)) }
                    td {
                        @if token.revoked_at.is_some() { (t!("tokens-revoked")) } @else {
                            form.inline method="post" action=(format!("/tokens/{}/revoke", token.id)) {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" { (t!("tokens-revoke")) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t!("tokens-new")) }
        form method="post" action="/tokens" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="text" name="name" placeholder=(t!("tokens-what-for")) required;
            " " select name="scope" { option value="upload" { (scope_name("upload")) } option value="full" { (scope_name("full")) } }
            " " button type="submit" { (t!("tokens-create")) }
        }
        (language_form(session))
    };
    Ok(page(StatusCode::OK, layout(&t!("tokens-title"), Some(session), body)))
}

pub(crate) async fn tokens(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    tokens_page(&state, &session, None).await
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<TokenForm>,
) -> Result<Response, ServerError> {
    let scope = Scope::parse(&form.scope).ok_or_else(|| ServerError::Invalid(t!("error-unknown-scope")))?;
    let created = auth::create_token(&state.db, session.principal.user_id, form.name.trim(), scope).await?;
    tokens_page(&state, &session, Some(created)).await
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { session, .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    if !auth::revoke_owned_token(&state.db, session.principal.token_owner(), id).await? {
        return Err(ServerError::NotFound(t!("tokens-not-found", id = id)));
    }
    Ok(Redirect::to("/tokens").into_response())
}

/// A token scope as the reader says it.
fn scope_name(scope: &str) -> String {
    match scope {
        "upload" => t!("scope-upload"),
        _ => t!("scope-full"),
    }
}

// ---- the account's language ----

/// The account's language setting: pages, e-mail and API messages (`language=` empty: follow
/// the browser).
fn language_form(session: &Session) -> Markup {
    let setting = session.principal.language.as_deref().and_then(Lang::parse);
    html! {
        h2 #language { (t!("account-language")) }
        form method="post" action="/account/language" {
            input type="hidden" name="csrf" value=(session.csrf);
            select name="language" {
                option value="" selected[setting.is_none()] { (t!("account-language-browser")) }
                @for lang in Lang::ALL {
                    option value=(lang.code()) selected[setting == Some(lang)] { (lang.name()) }
                }
            }
            " " button type="submit" { (t!("account-language-save")) }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LanguageForm {
    language: String,
}

/// Stores the account's language and sets the switch's cookie to it.
pub(crate) async fn set_language(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<LanguageForm>,
) -> Result<Response, ServerError> {
    let language = match form.language.trim() {
        "" => None,
        code => Some(Lang::parse(code).ok_or_else(|| ServerError::Invalid(t!("error-unknown-language")))?),
    };
    auth::set_language(&state.db, session.principal.user_id, language.map(Lang::code)).await?;
    let mut response = Redirect::to("/tokens#language").into_response();
    let cookie = match language {
        Some(lang) => format!("{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000", lang.code()),
        None => format!("{LANG_COOKIE}=; SameSite=Lax; Path=/; Max-Age=0"),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
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
