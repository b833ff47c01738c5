//! Single sign-on on the pages: `/login/oidc` sends the browser to the OpenID provider,
//! `/login/oidc/callback` brings it back with a code. The protocol is [`crate::sso`]; accounts
//! and the one-use state are `quell_store::sso`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::extract::ClientAddress;
use crate::pages::accounts::{after_first_factor, login_page};
use crate::sso::SSO_LOGIN_LIFETIME;
use crate::{AppState, ServerError};

#[derive(Debug, Deserialize)]
pub(crate) struct BeginQuery {
    /// Passed on to the provider (which account to offer).
    login_hint: Option<String>,
}

/// `GET /login/oidc`: a new login at the provider (404 when single sign-on is not configured).
pub(crate) async fn begin(
    State(state): State<AppState>,
    Query(query): Query<BeginQuery>,
) -> Result<Response, ServerError> {
    let Some(config) = state.sso.clone() else {
        return Err(ServerError::NotFound(t!("not-found-sso-off", path = "/login/oidc")));
    };
    let login_state = quell_store::sso::random()?;
    let nonce = quell_store::sso::random()?;
    let verifier = quell_store::sso::random()?;
    let hint = query.login_hint.filter(|h| !h.is_empty() && h.len() <= 200);
    let url = crate::sso::authorisation_url(&config, &login_state, &nonce, &verifier, hint.as_deref()).await?;
    quell_store::sso::begin(&state.db, &login_state, &nonce, &verifier, SSO_LOGIN_LIFETIME.as_secs() as i64).await?;
    Ok(Redirect::to(&url).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/oidc/callback`: the provider's answer; a session (or the code step) for the
/// account the identity maps to, the login page with the reason otherwise.
pub(crate) async fn callback(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ServerError> {
    let Some(config) = state.sso.clone() else {
        return Err(ServerError::NotFound(t!("not-found-sso-off", path = "/login/oidc/callback")));
    };
    let refuse = |reason: String| {
        tracing::warn!(address = %client, %reason, "single sign-on refused");
        Ok(login_page(&state, StatusCode::FORBIDDEN, Some(&t!("login-sso-refused", reason = reason.as_str()))))
    };
    if let Some(error) = query.error {
        return refuse(error);
    }
    let (Some(code), Some(login_state)) = (query.code, query.state) else {
        return refuse(t!("login-sso-incomplete"));
    };
    let Some((nonce, verifier)) = quell_store::sso::take(&state.db, &login_state).await? else {
        return refuse(t!("login-sso-expired"));
    };
    let (identity, provider_mfa) = match crate::sso::complete(&config, &code, &nonce, &verifier).await {
        Ok(done) => done,
        Err(ServerError::Forbidden(reason)) => return refuse(reason),
        Err(other) => return Err(other),
    };
    let user_id = match quell_store::sso::account(&state.db, &identity).await {
        Ok(id) => id,
        Err(quell_store::StoreError::Forbidden(reason)) => return refuse(crate::refusals::refusal(&reason)),
        Err(other) => return Err(other.into()),
    };
    after_first_factor(&state, user_id, &client.to_string(), "sso", provider_mfa).await
}
