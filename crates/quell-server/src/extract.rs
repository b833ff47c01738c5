//! Who a request acts as, as extractor types in the handler's signature. No handler checks a
//! token, a session, a role or a CSRF token by hand: it names what it needs, and a request that
//! lacks it never reaches the handler.
//!
//! | extractor | from | refuses |
//! |---|---|---|
//! | [`Principal`] | `Authorization: Bearer` (any scope) | 401 without a live token |
//! | [`ApiUser`] | a bearer token of scope `full` | 401; 403 for upload-only tokens |
//! | [`ApiCoordinator`] | as `ApiUser`, role coordinator | 403 for everyone else |
//! | [`ApiOrgUser`] | as `ApiUser`, with an organisation | 403 for coordinators |
//! | [`Caller`] | a bearer token, else a session cookie, else nobody | 401 for a bad token |
//! | [`Session`] | the session cookie | a redirect to `/login`; to the enrolment page when the two-factor policy asks |
//! | [`MaybeSession`] | the session cookie, if any | nothing |
//! | [`PageCoordinator`] / [`PageOrgUser`] | as `Session`, with the role | 403 page |
//! | [`CsrfForm<T>`] | a session and a form whose `csrf` field is the session's | 403 page |
//! | [`JsonBody<T>`] | a JSON body | 400 with the JSON error |
//! | [`ApiOrgAdmin`] | as `ApiOrgUser`, role admin | 403 for members and coordinators |
//! | [`OrgReader`] | a full-scope token or a session, with an organisation | 401; 403 |
//! | [`ApiUploader`] | a bearer token of any scope, with an organisation | 401; 403 for coordinators |
//! | [`ClientAddress`] | the peer, or behind a `--trusted-proxy` the forwarded client | nothing |
//!
//! Invariants:
//! - The organisation a handler reads or writes comes from here (the principal), never from the
//!   request's path, query or body.
//! - The two-factor policy is applied here, once ([`two_factor::apply_policy`]): a credential
//!   without a second factor has AMBER+STRICT and RED withheld when the policy says so, and an
//!   account the policy requires to enrol reaches nothing but the enrolment page.
//! - A session is looked up once per request: the first extractor stores it in the request's
//!   extensions and the others read it from there.

use std::convert::Infallible;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use quell_advisory::Viewer;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::{self, Principal, Role, Scope};
use crate::metrics::Metrics;
use crate::two_factor;
use crate::{AppState, ServerError};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "quell_session";
/// The name of the login form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "quell_login";
/// The name of the cookie that carries a login from its password to its second factor.
pub const PENDING_COOKIE: &str = "quell_pending";

/// A cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

// ---- the JSON API ----

/// A request's caller, from `Authorization: Bearer <token>`, of any scope (upload routes).
impl FromRequestParts<AppState> for Principal {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Metrics::add(&state.metrics.requests, 1);
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim) else {
            return Err(ServerError::Unauthorized(t!("api-send-bearer")));
        };
        let mut principal = auth::principal_for_token(&state.db, token)
            .await?
            .ok_or_else(|| ServerError::Unauthorized(t!("api-unknown-token")))?;
        // Upload-only tokens (agents, the ingest path) read nothing and belong to organisations,
        // so the policy cannot change what they may do: no policy lookup per upload.
        if principal.scope != Scope::Upload
            && two_factor::apply_policy(state, &mut principal).await? == two_factor::Effect::MustEnrol
        {
            return Err(ServerError::Forbidden(t!("two-factor-required")));
        }
        Ok(principal)
    }
}

fn full_scope(principal: Principal) -> Result<Principal, ServerError> {
    if principal.scope != Scope::Full {
        return Err(ServerError::Forbidden(t!("api-upload-only")));
    }
    Ok(principal)
}

fn coordinator(principal: Principal) -> Result<Principal, ServerError> {
    if principal.role != Role::Coordinator {
        return Err(ServerError::Forbidden(t!("api-coordinators-only")));
    }
    Ok(principal)
}

fn org_user(principal: &Principal) -> Result<i64, ServerError> {
    principal.org_id.ok_or_else(|| ServerError::Forbidden(t!("api-org-data")))
}

/// A bearer token of scope `full`.
pub struct ApiUser(pub Principal);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        full_scope(Principal::from_request_parts(parts, state).await?).map(ApiUser)
    }
}

/// A coordinator's bearer token of scope `full`.
pub struct ApiCoordinator(pub Principal);

impl FromRequestParts<AppState> for ApiCoordinator {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiUser(principal) = ApiUser::from_request_parts(parts, state).await?;
        coordinator(principal).map(ApiCoordinator)
    }
}

/// An organisation user's bearer token of scope `full`, with the organisation.
pub struct ApiOrgUser {
    pub principal: Principal,
    pub org_id: i64,
}

impl FromRequestParts<AppState> for ApiOrgUser {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiUser(principal) = ApiUser::from_request_parts(parts, state).await?;
        let org_id = org_user(&principal)?;
        Ok(ApiOrgUser { principal, org_id })
    }
}

/// The caller of a route that also serves anonymous readers: a bearer token (an invalid one is
/// 401), else a browser session (read-only use), else nobody.
pub struct Caller {
    pub principal: Option<Principal>,
    /// Whether the principal came from a session cookie (which may read, never change: the
    /// JSON API has no CSRF token).
    pub by_session: bool,
}

impl Caller {
    /// The principal for a change: a full-scope bearer token.
    pub fn require(&self) -> Result<Principal, ServerError> {
        match &self.principal {
            Some(p) if !self.by_session => full_scope(p.clone()),
            _ => Err(ServerError::Unauthorized(t!("api-send-bearer"))),
        }
    }

    /// The viewer for a read; upload-only tokens are refused (403).
    pub fn viewer(&self) -> Result<Viewer, ServerError> {
        if let Some(p) = &self.principal
            && p.scope != Scope::Full
        {
            return Err(ServerError::Forbidden(t!("api-upload-only")));
        }
        Ok(viewer_of(self.principal.as_ref()))
    }
}

/// The advisory viewer a principal is (`None`: anonymous).
pub fn viewer_of(principal: Option<&Principal>) -> Viewer {
    match principal {
        None => Viewer::Anonymous,
        Some(p) => Viewer::User {
            user_id: p.user_id,
            org_id: p.org_id,
            coordinator: p.role == Role::Coordinator,
            strict: !p.strict_withheld,
        },
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let principal = Principal::from_request_parts(parts, state).await?;
            return Ok(Caller { principal: Some(principal), by_session: false });
        }
        let MaybeSession(session) = MaybeSession::from_request_parts(parts, state).await.unwrap_or(MaybeSession(None));
        let by_session = session.is_some();
        Ok(Caller { principal: session.map(|s| s.principal), by_session })
    }
}

/// A JSON request body; a bad one is a 400 with the usual JSON error (axum's own `Json`
/// rejection is plain text). The size limit is the route's `DefaultBodyLimit`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ServerError::TooLarge(format!("the body is too large: {e}"))
            } else {
                ServerError::Invalid(format!("cannot read the body: {e}"))
            }
        })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ServerError::Invalid(format!("bad JSON body: {e}")))
    }
}

// ---- the client ----

/// The address of the client a request comes from: the TCP peer, unless the peer is one of the
/// `--trusted-proxy` networks; then the nearest address in `Forwarded: for=` (RFC 7239) or else
/// `X-Forwarded-For` that is not itself a trusted proxy. Headers from untrusted peers are
/// ignored, so a client cannot choose its own address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        Ok(ClientAddress(client_address(peer, &parts.headers, &state.trusted_proxies)))
    }
}

/// See [`ClientAddress`].
pub fn client_address(peer: std::net::IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = if headers.contains_key(header::FORWARDED) {
        headers
            .get_all(header::FORWARDED)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .flat_map(|element| element.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
            .filter_map(|(_, value)| forwarded_ip(value))
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(forwarded_ip)
            .collect()
    };
    // Nearest first: the last address was added by our own proxy.
    forwarded.iter().rev().find(|ip| !is_trusted(ip)).or(forwarded.first()).copied().unwrap_or(peer)
}

/// An address of a forwarding header: `192.0.2.7`, `"[2001:db8::1]:4711"`, `192.0.2.7:80`.
fn forwarded_ip(value: &str) -> Option<std::net::IpAddr> {
    let value = value.trim().trim_matches('"');
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    value.rsplit_once(':').and_then(|(host, _port)| host.parse().ok())
}

// ---- the pages ----

/// A logged-in browser: the user and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    /// The two-factor policy requires this account to enrol before anything else: only the
    /// [`ENROLMENT_PATHS`] accept the session; [`MaybeSession`] and the API ignore it.
    pub must_enrol: bool,
}

/// The pages a session that must enrol a second factor may still use.
pub const ENROLMENT_PATHS: [&str; 3] = ["/account/two-factor", "/logout", "/account/language"];

impl Session {
    /// The session of a request's cookie, looked up once per request (cached in `parts`).
    pub(crate) async fn lookup(parts: &mut Parts, state: &AppState) -> Result<Option<Session>, ServerError> {
        if let Some(cached) = parts.extensions.get::<Option<Session>>() {
            return Ok(cached.clone());
        }
        Metrics::add(&state.metrics.requests, 1);
        let record = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(secret) => auth::session(&state.db, secret).await?,
            None => None,
        };
        let session = match record {
            Some(record) => {
                let mut principal = record.principal;
                let effect = two_factor::apply_policy(state, &mut principal).await?;
                Some(Session { principal, csrf: record.csrf, must_enrol: effect == two_factor::Effect::MustEnrol })
            }
            None => None,
        };
        parts.extensions.insert(session.clone());
        Ok(session)
    }

    /// Whether a form's token is this session's.
    pub fn csrf_ok(&self, given: &str) -> bool {
        !given.is_empty() && given == self.csrf
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Session::lookup(parts, state).await {
            Ok(Some(session)) if session.must_enrol && !ENROLMENT_PATHS.contains(&parts.uri.path()) => {
                Err(Redirect::to(ENROLMENT_PATHS[0]).into_response())
            }
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A session when there is one (public pages also serve visitors without login).
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // A session that must enrol first is no session outside the enrolment pages.
        Ok(MaybeSession(Session::lookup(parts, state).await.ok().flatten().filter(|s| !s.must_enrol)))
    }
}

/// A coordinator's session.
pub struct PageCoordinator(pub Session);

impl FromRequestParts<AppState> for PageCoordinator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        if session.principal.role != Role::Coordinator {
            return Err(ServerError::Forbidden(t!("error-coordinators-only")).into_response());
        }
        Ok(PageCoordinator(session))
    }
}

/// An organisation user's session, with the organisation.
pub struct PageOrgUser {
    pub session: Session,
    pub org_id: i64,
}

impl FromRequestParts<AppState> for PageOrgUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let Some(org_id) = session.principal.org_id else {
            return Err(ServerError::Forbidden(t!("error-org-page")).into_response());
        };
        Ok(PageOrgUser { session, org_id })
    }
}

/// The session of someone who manages accounts and reads the audit log: an organisation admin
/// (`scope`: their organisation) or a coordinator (`scope: None`, every organisation); 403 for
/// members. The scope rule is the store's ([`auth::managed_scope`]).
pub struct PageManager {
    pub session: Session,
    pub scope: Option<i64>,
}

impl FromRequestParts<AppState> for PageManager {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let scope = auth::managed_scope(&session.principal)
            .map_err(|_| ServerError::Forbidden(t!("error-managers-only")).into_response())?;
        Ok(PageManager { session, scope })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted from one of our pages: the session, and the form, whose `csrf` field matched
/// the session's token (403 otherwise). `T` may ignore the `csrf` field.
pub struct CsrfForm<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField { csrf: String::new() });
        if !session.csrf_ok(&token.csrf) {
            return Err(ServerError::Forbidden(t!("error-form-token")).into_response());
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| ServerError::Invalid(t!("error-form-incomplete", detail = e.to_string())).into_response())?;
        Ok(CsrfForm { session, form })
    }
}

/// An organisation admin's bearer token of scope `full`, with the organisation (403 for members
/// and coordinators).
pub struct ApiOrgAdmin {
    pub principal: Principal,
    pub org_id: i64,
}

impl FromRequestParts<AppState> for ApiOrgAdmin {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiOrgUser { principal, org_id } = ApiOrgUser::from_request_parts(parts, state).await?;
        if principal.role != Role::Admin {
            return Err(ServerError::Forbidden(t!("api-admins-only")));
        }
        Ok(ApiOrgAdmin { principal, org_id })
    }
}

/// An organisation user reading its own data through the JSON API: a full-scope bearer token or
/// a browser session (reads only), with the organisation. 401 without either; 403 for
/// upload-only tokens and for coordinators (who see counts).
pub struct OrgReader {
    pub principal: Principal,
    pub org_id: i64,
}

impl FromRequestParts<AppState> for OrgReader {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.viewer()?;
        let principal = caller.principal.ok_or_else(|| ServerError::Unauthorized(t!("api-log-in")))?;
        let org_id = org_user(&principal)?;
        Ok(OrgReader { principal, org_id })
    }
}

/// The caller of an upload route (`POST /api/v1/indicators`): a bearer token of any scope
/// (upload-only tokens included), of an organisation's user, with the organisation; a
/// coordinator's token is refused (403: a coordinator belongs to no organisation).
pub struct ApiUploader {
    pub principal: Principal,
    pub org_id: i64,
}

impl FromRequestParts<AppState> for ApiUploader {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let org_id = principal.org_id.ok_or_else(|| ServerError::Forbidden(t!("api-coordinator-upload")))?;
        Ok(ApiUploader { principal, org_id })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let ip = |s: &str| -> std::net::IpAddr { s.parse().unwrap() };
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "198.51.100.9, 203.0.113.7, 10.0.0.2".parse().unwrap());
        assert_eq!(client_address(ip("10.0.0.1"), &headers, &proxy), ip("203.0.113.7"));
        assert_eq!(client_address(ip("192.0.2.1"), &headers, &proxy), ip("192.0.2.1"), "untrusted peer");
        assert_eq!(client_address(ip("10.0.0.1"), &headers, &[]), ip("10.0.0.1"), "no trusted proxies");
        let mut headers = HeaderMap::new();
        headers.insert(header::FORWARDED, "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.3".parse().unwrap());
        assert_eq!(client_address(ip("::1"), &headers, &proxy), ip("2001:db8::7"));
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_address(ip("10.0.0.1"), &headers, &proxy), ip("10.0.0.1"));
    }
}
