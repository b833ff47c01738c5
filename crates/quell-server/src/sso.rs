//! Single sign-on with OpenID Connect: the authorisation code flow with PKCE (RFC 7636, S256),
//! a `state` and a `nonce`, the ID token's signature checked against the provider's published
//! keys (JWKS), then the claims mapped to an account (`quell_store::sso`).
//!
//! Written over the HTTP client the server already uses (ureq) and `jsonwebtoken` for the JWT
//! and JWK work, rather than the `openidconnect` crate: the flow is three requests, and that
//! crate would bring a second HTTP stack and a typestate API for what is checked here in a page.
//!
//! Invariants:
//! - Nothing from the browser is trusted but the `code` and `state`: the state must match a
//!   login this server began (stored hashed, spent once, [`SSO_LOGIN_LIFETIME`]); the code is
//!   exchanged with the PKCE verifier and the client secret over a back channel.
//! - The ID token must be signed by a key in the provider's JWKS with an asymmetric algorithm
//!   (RS*, PS*, ES*, EdDSA; never `none` or HMAC), be issued by the configured issuer for this
//!   client, be unexpired, and carry the nonce of this login. Userinfo claims are used only when
//!   their `sub` is the ID token's.
//! - The e-mail address must be verified by the provider (`email_verified: true`).
//! - The issuer must be `https`, except on loopback (tests, a provider on the same host).

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use quell_store::accounts::Role;
use quell_store::sso::Identity;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ServerError;

/// How long a login may stay at the provider before its callback.
pub const SSO_LOGIN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long one request to the provider may take.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from the provider (discovery, JWKS, token, userinfo).
pub const MAX_PROVIDER_RESPONSE_BYTES: u64 = 1024 * 1024;

/// `--oidc-*`: one OpenID provider.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer URL (`https://login.example/realms/cert`); discovery is at
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends the browser back: `<public URL>/login/oidc/callback`, registered
    /// at the provider.
    pub redirect_url: String,
    /// The claim that names the account's organisation (its name in quell).
    pub org_claim: String,
    /// The claim that gives the role (`coordinator`, `admin`, `member`; a string or a list, the
    /// highest wins); absent: `member`.
    pub role_claim: String,
    /// Scopes asked for besides `openid` (`email` is needed for the address).
    pub scopes: Vec<String>,
}

impl Config {
    pub const DEFAULT_ORG_CLAIM: &'static str = "quell_org";
    pub const DEFAULT_ROLE_CLAIM: &'static str = "quell_role";

    /// Refuses an issuer or redirect that is not https (loopback excepted).
    pub fn check(&self) -> Result<(), String> {
        for (what, url) in [("--oidc-issuer", &self.issuer), ("--oidc-redirect-url", &self.redirect_url)] {
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| url.starts_with(p));
            if !url.starts_with("https://") && !loopback {
                return Err(format!("{what} must be an https URL (http only on loopback): {url}"));
            }
        }
        if self.client_id.is_empty() || self.client_secret.is_empty() {
            return Err("--oidc-client-id and --oidc-client-secret-file are required with --oidc-issuer".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::config::Config::builder().timeout_global(Some(PROVIDER_TIMEOUT)).http_status_as_error(false).build(),
    )
}

fn provider_error(what: &str, detail: impl std::fmt::Display) -> ServerError {
    ServerError::Upstream(format!("the identity provider: {what}: {detail}"))
}

fn read_json<T: serde::de::DeserializeOwned>(
    what: &str,
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<T, ServerError> {
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_PROVIDER_RESPONSE_BYTES)
        .read_to_string()
        .map_err(|e| provider_error(what, e))?;
    if status != 200 {
        return Err(provider_error(what, format!("HTTP {status}: {}", text.chars().take(300).collect::<String>())));
    }
    serde_json::from_str(&text).map_err(|e| provider_error(what, e))
}

/// Runs a blocking provider request off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    let lang = crate::i18n::current();
    tokio::task::spawn_blocking(move || crate::i18n::with(lang, work))
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))?
}

async fn discover(config: &Config) -> Result<Discovery, ServerError> {
    let url = format!("{}/.well-known/openid-configuration", config.issuer.trim_end_matches('/'));
    let discovery: Discovery = blocking(move || {
        let response = agent().get(&url).call().map_err(|e| provider_error("discovery", e))?;
        read_json("discovery", response)
    })
    .await?;
    if discovery.issuer.trim_end_matches('/') != config.issuer.trim_end_matches('/') {
        return Err(provider_error(
            "discovery",
            format!("names issuer {:?}, not {:?}", discovery.issuer, config.issuer),
        ));
    }
    Ok(discovery)
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7636's S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// Where to send the browser to log in: the provider's authorisation URL for a new login whose
/// `state`, `nonce` and PKCE `verifier` the caller stored. `login_hint` is passed on.
pub async fn authorisation_url(
    config: &Config,
    state: &str,
    nonce: &str,
    verifier: &str,
    login_hint: Option<&str>,
) -> Result<String, ServerError> {
    let discovery = discover(config).await?;
    let mut scopes = vec!["openid".to_string()];
    scopes.extend(config.scopes.iter().filter(|s| s.as_str() != "openid").cloned());
    let mut query = vec![
        ("response_type", "code".to_string()),
        ("client_id", config.client_id.clone()),
        ("redirect_uri", config.redirect_url.clone()),
        ("scope", scopes.join(" ")),
        ("state", state.to_string()),
        ("nonce", nonce.to_string()),
        ("code_challenge", pkce_challenge(verifier)),
        ("code_challenge_method", "S256".to_string()),
    ];
    if let Some(hint) = login_hint {
        query.push(("login_hint", hint.to_string()));
    }
    let query = serde_urlencoded::to_string(&query).map_err(|e| ServerError::Internal(e.to_string()))?;
    let separator = if discovery.authorization_endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{}{separator}{query}", discovery.authorization_endpoint))
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: String,
    access_token: Option<String>,
}

/// The algorithms an ID token may be signed with: asymmetric only.
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Completes a login: exchanges `code` (with the stored `verifier`), checks the ID token
/// against the provider's keys, the issuer, this client and `nonce`, and maps the claims.
/// Returns the identity and whether the provider says a second factor was used (`amr`).
pub async fn complete(
    config: &Config,
    code: &str,
    nonce: &str,
    verifier: &str,
) -> Result<(Identity, bool), ServerError> {
    let discovery = discover(config).await?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &config.redirect_url),
        ("code_verifier", verifier),
    ];
    let body = serde_urlencoded::to_string(form).map_err(|e| ServerError::Internal(e.to_string()))?;
    // client_secret_basic: RFC 6749 §2.3.1 form-encodes id and secret before the Basic header.
    let credentials = format!(
        "{}:{}",
        serde_urlencoded::to_string([("", &config.client_id)]).unwrap_or_default().trim_start_matches('='),
        serde_urlencoded::to_string([("", &config.client_secret)]).unwrap_or_default().trim_start_matches('=')
    );
    let basic = {
        use base64::Engine as _;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
    };
    let token_url = discovery.token_endpoint.clone();
    let tokens: TokenResponse = blocking(move || {
        let response = agent()
            .post(&token_url)
            .header("Authorization", &basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .map_err(|e| provider_error("token", e))?;
        read_json("token", response)
    })
    .await?;
    let jwks_url = discovery.jwks_uri.clone();
    let keys: JwkSet = blocking(move || {
        let response = agent().get(&jwks_url).call().map_err(|e| provider_error("keys", e))?;
        read_json("keys", response)
    })
    .await?;
    let mut claims = verify_id_token(&tokens.id_token, &keys, &discovery.issuer, &config.client_id, nonce)?;
    if let (Some(userinfo), Some(access)) = (discovery.userinfo_endpoint.clone(), tokens.access_token) {
        let info: Map<String, Value> = blocking(move || {
            let response = agent()
                .get(&userinfo)
                .header("Authorization", &format!("Bearer {access}"))
                .call()
                .map_err(|e| provider_error("userinfo", e))?;
            read_json("userinfo", response)
        })
        .await?;
        if info.get("sub") != claims.get("sub") {
            return Err(provider_error("userinfo", "its subject is not the ID token's"));
        }
        for (name, value) in info {
            claims.entry(name).or_insert(value);
        }
    }
    map_claims(config, &discovery.issuer, &claims)
}

/// The ID token's claims when its signature, issuer, audience, expiry and nonce hold.
fn verify_id_token(
    token: &str,
    keys: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<Map<String, Value>, ServerError> {
    let refused = |why: String| ServerError::Forbidden(t!("sso-token-refused", why = why));
    let header = decode_header(token).map_err(|e| refused(e.to_string()))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(refused(t!("sso-algorithm", algorithm = format!("{:?}", header.alg))));
    }
    let key = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| refused(t!("sso-no-key")))?;
    let key = DecodingKey::from_jwk(key).map_err(|e| refused(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| refused(e.to_string()))?;
    if data.claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(refused(t!("sso-nonce")));
    }
    Ok(data.claims)
}

/// Claims → identity: a verified e-mail, the organisation and the role from the configured
/// claims, and whether `amr` names a second factor.
fn map_claims(config: &Config, issuer: &str, claims: &Map<String, Value>) -> Result<(Identity, bool), ServerError> {
    let refused = |why: String| ServerError::Forbidden(t!("sso-refused", why = why));
    let subject = claims.get("sub").and_then(Value::as_str).ok_or_else(|| refused(t!("sso-no-subject")))?;
    let email = claims.get("email").and_then(Value::as_str).ok_or_else(|| refused(t!("sso-no-email")))?;
    if claims.get("email_verified") != Some(&Value::Bool(true)) {
        return Err(refused(t!("sso-email-unverified")));
    }
    let org = claims.get(&config.org_claim).and_then(Value::as_str).map(str::to_string);
    let roles: Vec<&str> = match claims.get(&config.role_claim) {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let role = [Role::Coordinator, Role::Admin, Role::Member]
        .into_iter()
        .find(|r| roles.contains(&r.as_str()))
        .unwrap_or(Role::Member);
    let second_factor = match claims.get("amr") {
        Some(Value::Array(methods)) => {
            methods.iter().filter_map(Value::as_str).any(|m| matches!(m, "mfa" | "otp" | "hwk" | "swk" | "sc"))
        }
        _ => false,
    };
    let identity =
        Identity { issuer: issuer.to_string(), subject: subject.to_string(), email: email.to_string(), org, role };
    Ok((identity, second_factor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            issuer: "https://login.example".into(),
            client_id: "quell".into(),
            client_secret: "s".into(),
            redirect_url: "https://quell.example/login/oidc/callback".into(),
            org_claim: Config::DEFAULT_ORG_CLAIM.into(),
            role_claim: Config::DEFAULT_ROLE_CLAIM.into(),
            scopes: vec!["email".into()],
        }
    }

    /// RFC 7636 Appendix B.
    #[test]
    fn pkce_s256() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn claims_map_to_accounts() {
        let claims = |v: Value| v.as_object().cloned().unwrap_or_default();
        let (identity, mfa) = map_claims(
            &config(),
            "https://login.example",
            &claims(serde_json::json!({"sub": "1", "email": "a@x.example", "email_verified": true,
                "quell_org": "alpha", "quell_role": ["member", "admin"], "amr": ["pwd", "otp"]})),
        )
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((identity.org.as_deref(), identity.role, mfa), (Some("alpha"), Role::Admin, true));
        let unverified = claims(serde_json::json!({"sub": "1", "email": "a@x.example", "email_verified": false}));
        assert!(map_claims(&config(), "i", &unverified).is_err());
        let plain = claims(serde_json::json!({"sub": "1", "email": "a@x.example", "email_verified": true}));
        let (identity, mfa) =
            map_claims(&config(), "i", &plain).map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((identity.role, identity.org, mfa), (Role::Member, None, false));
    }

    #[test]
    fn only_https_issuers_except_on_loopback() {
        assert!(config().check().is_ok());
        let plain = Config { issuer: "http://login.example".into(), ..config() };
        assert!(plain.check().is_err());
        let local = Config { issuer: "http://127.0.0.1:4000".into(), ..config() };
        assert!(local.check().is_ok());
    }
}
