//! Two-factor on the pages: enrolment (QR code, first code, recovery codes), removal, and the
//! coordinators' policy (the code step of the login is in [`crate::pages::accounts`]). Codes are checked in
//! [`crate::two_factor`]; what must hold across processes (one use per code, pending logins,
//! the policy) in `quell_store::two_factor`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{PreEscaped, html};
use quell_store::two_factor::{self as store, Policy};
use serde::Deserialize;

use crate::extract::{CsrfForm, PageCoordinator, PageManager, Session, cookie};
use crate::html::{layout, page};
use crate::pages::accounts::{CodeForm, code_valid};
use crate::two_factor::{matching_step, new_secret, otpauth_uri, qr_svg};
use crate::{AppState, ServerError, now};

// ---- one's own second factor ----

fn enrolment_view(state_text: Option<&str>, session: &Session, body: maud::Markup, status: StatusCode) -> Response {
    let body = html! {
        @if session.must_enrol { p.notice.warn #must-enrol { (t!("two-factor-must-enrol")) } }
        @if let Some(text) = state_text { p.notice { (text) } }
        (body)
    };
    page(status, layout(&t!("two-factor-title"), Some(session), body))
}

/// The enrolment form: a fresh secret as QR code and text, and the first code.
async fn enrol_form(
    state: &AppState,
    session: &Session,
    message: Option<&str>,
    status: StatusCode,
) -> Result<Response, ServerError> {
    let secret = new_secret()?;
    store::begin_enrolment(&state.db, session.principal.user_id, &secret).await?;
    let uri = otpauth_uri(&secret, &session.principal.email)?;
    let qr = qr_svg(&uri)?;
    let body = html! {
        @if let Some(m) = message { p.bad { (m) } }
        p { (t!("two-factor-scan")) }
        div #qr { (PreEscaped(qr)) }
        p { (t!("two-factor-or-type")) " " code #secret { (secret) } }
        form method="post" action="/account/two-factor" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="code" { (t!("two-factor-code")) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
            button type="submit" { (t!("two-factor-confirm")) }
        }
    };
    Ok(enrolment_view(None, session, body, status))
}

/// `GET /account/two-factor`: the state of one's second factor, or the enrolment form.
pub(crate) async fn two_factor_page(State(state): State<AppState>, session: Session) -> Result<Response, ServerError> {
    let status = store::status(&state.db, session.principal.user_id).await?;
    if !status.enrolled {
        return enrol_form(&state, &session, None, StatusCode::OK).await;
    }
    let body = html! {
        p #enrolled { (t!("two-factor-on", left = status.recovery_codes_left)) }
        form method="post" action="/account/two-factor/remove" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="code" { (t!("two-factor-remove-code")) }
            input #code type="text" name="code" autocomplete="one-time-code" required;
            button type="submit" { (t!("two-factor-remove")) }
        }
    };
    Ok(enrolment_view(None, &session, body, StatusCode::OK))
}

/// `POST /account/two-factor`: the first code confirms the enrolment; the recovery codes are
/// shown once, and this session counts as one with a second factor from now on.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { session, form }: CsrfForm<CodeForm>,
) -> Result<Response, ServerError> {
    let user_id = session.principal.user_id;
    let step = match store::secret(&state.db, user_id).await? {
        Some((secret, false)) => matching_step(&secret, &form.code, now())?,
        _ => None,
    };
    let Some(step) = step else {
        return enrol_form(&state, &session, Some(&t!("two-factor-wrong")), StatusCode::BAD_REQUEST).await;
    };
    let codes = store::confirm_enrolment(&state.db, &session.principal, step).await?;
    if let Some(secret) = cookie(&headers, crate::extract::SESSION_COOKIE) {
        crate::auth::mark_session_two_factor(&state.db, secret).await?;
    }
    let body = html! {
        p #enrolled { (t!("two-factor-enrolled")) }
        p { (t!("two-factor-recovery-intro")) }
        ul #recovery-codes { @for code in &codes { li { code { (code) } } } }
        p { a href="/" { (t!("two-factor-continue")) } }
    };
    let session = Session { must_enrol: false, ..session };
    Ok(enrolment_view(None, &session, body, StatusCode::OK))
}

/// `POST /account/two-factor/remove`: with a current code (or a recovery code), unless the
/// policy requires a second factor for the account.
pub(crate) async fn remove_own(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<CodeForm>,
) -> Result<Response, ServerError> {
    let policy = store::policy(&state.db).await?;
    if policy.requires(session.principal.role) {
        return Err(ServerError::Forbidden(t!("two-factor-required-by-policy")));
    }
    if !code_valid(&state, session.principal.user_id, &form.code).await? {
        let body = html! { p.bad { (t!("two-factor-wrong")) } p { a href="/account/two-factor" { (t!("two-factor-title")) } } };
        return Ok(enrolment_view(None, &session, body, StatusCode::FORBIDDEN));
    }
    store::remove_own(&state.db, &session.principal).await?;
    Ok(Redirect::to("/account/two-factor").into_response())
}

/// `POST /users/{id}/two-factor/remove`: an administrator removes the second factor of an
/// account that lost its authenticator and its recovery codes (audited); its owner enrols again.
pub(crate) async fn remove_for(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    manager: PageManager,
    CsrfForm { session, .. }: CsrfForm<crate::pages::accounts::Empty>,
) -> Result<Response, ServerError> {
    store::remove_for(&state.db, &session.principal, id).await?;
    let back = manager.scope.map_or_else(|| "/users".to_string(), |org| format!("/users?org={org}"));
    Ok(Redirect::to(&back).into_response())
}

// ---- the policy ----

#[derive(Debug, Deserialize)]
pub(crate) struct PolicyForm {
    policy: String,
}

/// The policy's name in the reader's language.
pub(crate) fn policy_name(policy: Policy) -> String {
    match policy {
        Policy::Off => t!("two-factor-policy-off"),
        Policy::Coordinators => t!("two-factor-policy-coordinators"),
        Policy::Sensitive => t!("two-factor-policy-sensitive"),
    }
}

/// The policy form on the accounts page (coordinators).
pub(crate) fn policy_form(session: &Session, current: Policy) -> maud::Markup {
    html! {
        form #two-factor-policy method="post" action="/users/two-factor-policy" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="policy" { (t!("two-factor-policy")) }
            select #policy name="policy" {
                @for p in Policy::ALL {
                    option value=(p.as_str()) selected[p == current] { (policy_name(p)) }
                }
            }
            button type="submit" { (t!("two-factor-policy-set")) }
        }
    }
}

/// `POST /users/two-factor-policy`.
pub(crate) async fn set_policy(
    State(state): State<AppState>,
    PageCoordinator(_): PageCoordinator,
    CsrfForm { session, form }: CsrfForm<PolicyForm>,
) -> Result<Response, ServerError> {
    let policy = Policy::parse(&form.policy).ok_or_else(|| ServerError::Invalid(t!("two-factor-policy-unknown")))?;
    store::set_policy(&state.db, &session.principal, policy).await?;
    Ok(Redirect::to("/users").into_response())
}
