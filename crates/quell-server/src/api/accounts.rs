//! Accounts, organisations, tokens and sharing; the coordinators' counts per organisation.
//!
//! Invariant: coordinators see an organisation's host names only when it shares them
//! (`orgs.shares_details`), and never paths.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quell_store::{Missing, Thing};
use serde::Deserialize;
use serde_json::json;

use crate::api::reports::Page;
use crate::audit::{self, Channel};
use crate::auth::{self, Principal, Role, Scope};
use crate::extract::{ApiCoordinator, ApiOrgAdmin, ApiOrgUser, ApiUser, JsonBody};
use crate::i18n::Lang;
use crate::inventory::{self, page_limit};
use crate::{AppState, ServerError, agents};

pub(crate) async fn me(principal: Principal) -> Result<Response, ServerError> {
    Ok(Json(json!({
        "user_id": principal.user_id,
        "email": principal.email,
        "role": principal.role,
        "org_id": principal.org_id,
        "scope": principal.scope,
        "language": principal.language,
    }))
    .into_response())
}

/// `PUT /api/v1/me/openpgp-key` body.
#[derive(Debug, Deserialize)]
pub(crate) struct OpenPgpKey {
    /// The ASCII-armored public key (`gpg --armor --export you@example.org`).
    key: String,
}

/// Registers the caller's OpenPGP public key: AMBER+STRICT and RED e-mail then reaches them
/// encrypted to it (without one, not by e-mail at all). 400 with the reason for a key that is
/// not usable for encryption.
pub(crate) async fn put_openpgp_key(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    JsonBody(body): JsonBody<OpenPgpKey>,
) -> Result<Response, ServerError> {
    let fingerprint = crate::openpgp::check_recipient_key(body.key.trim()).map_err(ServerError::Invalid)?;
    auth::set_openpgp_key(&state.db, principal.user_id, Some(body.key.trim())).await?;
    Ok(Json(json!({ "fingerprint": fingerprint })).into_response())
}

/// Removes the caller's OpenPGP key (AMBER+STRICT and RED are then no longer e-mailed to them).
pub(crate) async fn delete_openpgp_key(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
) -> Result<Response, ServerError> {
    auth::set_openpgp_key(&state.db, principal.user_id, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct MeBody {
    /// `nl`, `en`, or null: follow the browser (pages) and the server's default (e-mail).
    language: Option<String>,
}

/// Sets the caller's language (pages, e-mail, API messages).
pub(crate) async fn set_me(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    JsonBody(body): JsonBody<MeBody>,
) -> Result<Response, ServerError> {
    let language = match body.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(Lang::parse(code).ok_or_else(|| ServerError::Invalid(t!("error-unknown-language")))?),
    };
    auth::set_language(&state.db, principal.user_id, language.map(Lang::code)).await?;
    me(Principal { language: language.map(|l| l.code().to_string()), ..principal }).await
}

pub(crate) async fn list_orgs(State(state): State<AppState>, _: ApiCoordinator) -> Result<Response, ServerError> {
    Ok(Json(inventory::org_counts(&state.db).await?).into_response())
}

/// Whether an organisation lets coordinators see its host names; `NotFound` for no such org.
pub(crate) async fn shares_details(state: &AppState, org: i64) -> Result<bool, ServerError> {
    auth::shares_details(&state.db, org)
        .await?
        .ok_or_else(|| ServerError::missing(&Missing::thing(Thing::Organisation, org)))
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub(crate) struct Sharing {
    shares_details: bool,
}

pub(crate) async fn get_sharing(
    State(state): State<AppState>,
    ApiOrgUser { org_id: org, .. }: ApiOrgUser,
) -> Result<Response, ServerError> {
    Ok(Json(Sharing { shares_details: shares_details(&state, org).await? }).into_response())
}

/// An organisation admin lets coordinators see the organisation's host names (or stops).
pub(crate) async fn put_sharing(
    State(state): State<AppState>,
    ApiOrgAdmin { org_id: org, .. }: ApiOrgAdmin,
    JsonBody(body): JsonBody<Sharing>,
) -> Result<Response, ServerError> {
    auth::set_shares_details(&state.db, org, body.shares_details).await?;
    tracing::info!(org, shares_details = body.shares_details, "sharing changed");
    Ok(Json(body).into_response())
}

/// Coordinators: one organisation's counts (hosts, copies, versions, CVE statuses): no names.
pub(crate) async fn org_inventory(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    shares_details(&state, id).await?;
    let mut inventory = inventory::inventory(&state.db, id).await?;
    agents::mark_inventory(&mut inventory, &state.limits.oldest_agent_version);
    let what = format!("GET /api/v1/orgs/{id}/inventory");
    audit::inventory(&state, &principal, Some(id), "inventory_exported", &what, Channel::Api).await?;
    Ok(Json(inventory).into_response())
}

/// Coordinators: one organisation's hosts, only when that organisation shares them.
pub(crate) async fn org_hosts(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    Path(id): Path<i64>,
    Query(page): Query<Page>,
) -> Result<Response, ServerError> {
    if !shares_details(&state, id).await? {
        return Err(ServerError::Forbidden(t!("api-no-host-sharing")));
    }
    let mut hosts =
        inventory::hosts(&state.db, id, page.q.as_deref(), page_limit(page.limit), page.offset.unwrap_or(0)).await?;
    agents::mark_hosts(&mut hosts, &state.limits.oldest_agent_version);
    let what = format!("GET /api/v1/orgs/{id}/hosts");
    audit::inventory(&state, &principal, Some(id), "inventory_exported", &what, Channel::Api).await?;
    Ok(Json(hosts).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewOrg {
    name: String,
}

pub(crate) async fn create_org(
    State(state): State<AppState>,
    _: ApiCoordinator,
    JsonBody(body): JsonBody<NewOrg>,
) -> Result<Response, ServerError> {
    let id = auth::create_org(&state.db, &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "name": body.name }))).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewUser {
    email: String,
    password: String,
    role: String,
    /// Coordinators name the organisation; an organisation admin's users always go to their own.
    org_id: Option<i64>,
}

/// Creates an account: an organisation admin adds admins and members to their own organisation;
/// a coordinator adds them to any organisation, or adds coordinators. Members may not.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<Response, ServerError> {
    let role = Role::parse(&body.role).ok_or_else(|| ServerError::Invalid(t!("api-role")))?;
    let (id, org) = auth::create_account(&state.db, &principal, &body.email, &body.password, role, body.org_id).await?;
    let event = quell_store::audit::Event {
        actor: quell_store::audit::Actor::of(&principal),
        action: "account_created",
        org_id: org,
        target: format!("user:{id} {}", body.email.to_lowercase()),
        detail: role.as_str().to_string(),
    };
    quell_store::audit::record(&state.db.pool, &event).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "email": body.email.to_lowercase(), "role": role, "org_id": org })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct UsersQuery {
    org_id: Option<i64>,
}

/// Lists accounts: an organisation admin, their organisation's; a coordinator, one organisation's
/// (`?org_id=`) or, without it, the coordinators. Members may not.
pub(crate) async fn list_users(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(query): Query<UsersQuery>,
) -> Result<Response, ServerError> {
    let org = auth::listable_accounts(&principal, query.org_id)?;
    let users = auth::list_users(&state.db, org).await?;
    Ok(Json(users).into_response())
}

pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
) -> Result<Response, ServerError> {
    let tokens: Vec<_> = auth::list_tokens(&state.db, principal.token_owner())
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "scope": t.scope,
                "user": t.email,
                "created_at": crate::time::format_rfc3339(t.created_at),
                "revoked_at": t.revoked_at.map(crate::time::format_rfc3339),
            })
        })
        .collect();
    Ok(Json(tokens).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewTokenBody {
    name: String,
    scope: Scope,
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> Result<Response, ServerError> {
    let token = auth::create_token(&state.db, principal.user_id, &body.name, body.scope).await?;
    Ok((StatusCode::CREATED, Json(token)).into_response())
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    if !auth::revoke_owned_token(&state.db, principal.token_owner(), id).await? {
        return Err(ServerError::NotFound(t!("tokens-not-found", id = id)));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/users/{id}/disable`: the account cannot log in; its sessions end and its tokens
/// are revoked. Organisation admins for their organisation, coordinators for any organisation's
/// accounts; audited.
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    Ok(Json(auth::change_account(&state.db, &principal, id, auth::Lifecycle::Disable).await?).into_response())
}

/// `POST /api/v1/users/{id}/enable`: the account may log in again (new tokens needed).
pub(crate) async fn enable_user(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    Ok(Json(auth::change_account(&state.db, &principal, id, auth::Lifecycle::Enable).await?).into_response())
}

/// `DELETE /api/v1/users/{id}`: disabled for good, its e-mail address freed.
pub(crate) async fn remove_user(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    auth::change_account(&state.db, &principal, id, auth::Lifecycle::Remove).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/users/{id}/reset-link`: a one-time link with which the account's owner sets a
/// new password (e-mailed to them when SMTP is configured; returned either way). Same scope as
/// disabling; audited.
pub(crate) async fn reset_link(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    let issued = crate::resets::issue(&state, &principal, id).await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// `DELETE /api/v1/users/{id}/two-factor`: removes the second factor of an account that lost
/// its authenticator and recovery codes (same scope as disabling; audited). Its owner enrols
/// again on `/account/two-factor`.
pub(crate) async fn remove_two_factor(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ServerError> {
    quell_store::two_factor::remove_for(&state.db, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, serde::Serialize)]
pub(crate) struct TwoFactorPolicy {
    /// `off`, `coordinators`, `sensitive`.
    policy: String,
}

/// `GET /api/v1/two-factor/policy`: who must log in with a second factor.
pub(crate) async fn two_factor_policy(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
) -> Result<Response, ServerError> {
    let policy = quell_store::two_factor::policy(&state.db).await?;
    Ok(Json(TwoFactorPolicy { policy: policy.as_str().into() }).into_response())
}

/// `PUT /api/v1/two-factor/policy` (coordinators): `{"policy": "off"|"coordinators"|"sensitive"}`.
pub(crate) async fn set_two_factor_policy(
    State(state): State<AppState>,
    ApiCoordinator(principal): ApiCoordinator,
    JsonBody(body): JsonBody<TwoFactorPolicy>,
) -> Result<Response, ServerError> {
    let policy = quell_store::two_factor::Policy::parse(&body.policy)
        .ok_or_else(|| ServerError::Invalid(t!("two-factor-policy-unknown")))?;
    quell_store::two_factor::set_policy(&state.db, &principal, policy).await?;
    Ok(Json(TwoFactorPolicy { policy: policy.as_str().into() }).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordChange {
    current: String,
    new: String,
}

/// `PUT /api/v1/me/password`: the caller's own password, the current one checked (403 when
/// wrong); every session of the account ends.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<Response, ServerError> {
    auth::change_password(&state.db, &principal, &body.current, &body.new).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    limit: Option<i64>,
    before: Option<i64>,
    action: Option<String>,
    /// `json` (a page, the default), `jsonl` or `csv` (the whole log, streamed: an export).
    format: Option<String>,
}

/// `GET /api/v1/audit`: the audit log, newest first (`?before=ID` pages back, `?action=` picks
/// one kind of event). Coordinators read every event; organisation admins those of their
/// organisation; others 403. `?format=jsonl|csv` exports every matching event, streamed.
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    ApiUser(principal): ApiUser,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ServerError> {
    let org = match (principal.role, principal.org_id) {
        (Role::Coordinator, _) => None,
        (Role::Admin, Some(org)) => Some(org),
        _ => return Err(ServerError::Forbidden(t!("api-audit-readers"))),
    };
    let filter = quell_store::audit::Filter { org, action: query.action, before: query.before };
    match query.format.as_deref().unwrap_or("json") {
        "json" => {
            let limit = query.limit.unwrap_or(200);
            Ok(Json(quell_store::audit::list(&state.db, &filter, limit).await?).into_response())
        }
        "jsonl" => Ok(crate::audit::export(state, filter, crate::audit::ExportFormat::JsonLines)),
        "csv" => Ok(crate::audit::export(state, filter, crate::audit::ExportFormat::Csv)),
        other => Err(ServerError::Invalid(format!("unknown format {other:?}: use json, jsonl or csv"))),
    }
}
