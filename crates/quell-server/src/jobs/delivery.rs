//! The delivery worker: sends published advisories as signed webhooks and e-mail, from the
//! delivery queue (`quell_store::advisories::deliveries`).
//!
//! - State lives in the database, so several server processes share the work: a process claims
//!   a due delivery with a conditional `UPDATE` (pending and due, or claimed by a process whose
//!   lease ran out); only the one whose update changed the row sends it.
//! - Every attempt is logged in `delivery_attempts` (time, duration, HTTP status or 0, error).
//!   A failed attempt is retried after `retry_base × 2^(attempt-1)`, until `max_attempts`, then
//!   the delivery is `failed`.
//! - Before sending, the access rule is asked again for the recipient (the organisation for a
//!   webhook, the user for an e-mail).
//! - E-mail goes through the configured relay with STARTTLS required by default and SMTP AUTH
//!   when configured. AMBER+STRICT and RED go to an addressee only as PGP/MIME encrypted to the
//!   OpenPGP key they registered; without a key they are not e-mailed at all (given up at once,
//!   the reason in the delivery log) and the addressee reads the advisory on the platform.
//! - Webhook signature: `X-Quell-Timestamp: <unix seconds>` and
//!   `X-Quell-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, with the
//!   organisation's secret; a receiver recomputes it and rejects old timestamps (replays).
//!   Webhook URLs are set by organisation admins; the server posts to them as given.

use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use quell_advisory::{Tlp, Viewer};
use quell_store::advisories::deliveries::{self, Delivery};
use quell_store::advisories::store::{self, VersionRow};
use serde_json::json;
use sha2::Sha256;

use crate::advisories::{Config, SmtpTls, csaf_document};
use crate::audit::Channel;
use crate::i18n::Lang;
use crate::{AppState, ServerError, now};
use quell_store::audit::Actor;

/// Deliveries claimed per poll.
pub const CLAIM_BATCH: i64 = 32;

/// Delivery schedules are finer than seconds.
pub use quell_model::time::now_ms;

/// The HMAC-SHA256 signature header value of a webhook body.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> Result<String, ServerError> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|e| ServerError::Internal(e.to_string()))?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("sha256={}", crate::auth::hex(&mac.finalize().into_bytes())))
}

/// Starts this process's delivery worker.
pub fn start(state: AppState) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(state.advisories.poll_interval).await;
            if let Err(e) = tick(&state).await {
                tracing::warn!(error = %e, "delivery worker");
            }
        }
    });
}

/// Claims the due deliveries and sends each in its own task.
async fn tick(state: &AppState) -> Result<(), ServerError> {
    let at = now_ms();
    let lease_until = at + state.advisories.lease.as_millis() as i64;
    for id in deliveries::claim_due(&state.db, at, lease_until, CLAIM_BATCH).await? {
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = attempt(&state, id).await {
                tracing::warn!(delivery = id, error = %e, "delivery attempt");
            }
        });
    }
    Ok(())
}

/// Who a delivery goes to, as the access rule sees them (`None`: nobody it may go to), for
/// e-mail the addressee's OpenPGP key if they registered one, and the language of an e-mail's
/// addressee (their setting, else the server's default).
async fn recipient(state: &AppState, d: &Delivery) -> Result<(Option<Viewer>, Option<String>, Lang), ServerError> {
    let default = state.default_language;
    Ok(match (d.channel.as_str(), d.org_id, d.user_id) {
        ("webhook", Some(org_id), _) => (Some(Viewer::Organisation { org_id }), None, default),
        ("email", _, Some(user_id)) => match deliveries::addressee(&state.db, user_id).await? {
            Some(u) => (
                Some(Viewer::User { user_id, org_id: u.org_id, coordinator: u.role == "coordinator", strict: true }),
                u.openpgp_key,
                u.language.as_deref().and_then(Lang::parse).unwrap_or(default),
            ),
            None => (None, None, default),
        },
        _ => (None, None, default),
    })
}

/// Whether e-mail of a marking goes out only encrypted to the addressee's OpenPGP key.
pub fn needs_encryption(tlp: Tlp) -> bool {
    matches!(tlp, Tlp::AmberStrict | Tlp::Red)
}

/// The delivery log's reasons that quell itself gives (the others are the receiving server's own
/// words: an HTTP status, an SMTP reply). Stored and served by the API in English; the pages say
/// them in the reader's language ([`reason_for_reader`]).
const ACCESS_WITHDRAWN: &str = "the recipient may no longer see this advisory";
const NO_OPENPGP_KEY: &str = "not sent by e-mail: TLP:";
const NO_OPENPGP_KEY_REST: &str = " goes out only encrypted and the addressee has no OpenPGP key registered \
                                   (PUT /api/v1/me/openpgp-key); they read it on the platform";

/// A stored delivery reason in the reader's language: quell's own reasons translated, the
/// receiving side's words as they were.
pub(crate) fn reason_for_reader(stored: &str) -> String {
    if stored == ACCESS_WITHDRAWN {
        return t!("delivery-access-withdrawn");
    }
    if let Some(tlp) = stored.strip_prefix(NO_OPENPGP_KEY).and_then(|rest| rest.strip_suffix(NO_OPENPGP_KEY_REST)) {
        return t!("delivery-no-openpgp-key", tlp = tlp.to_string());
    }
    stored.to_string()
}

/// One attempt of a claimed delivery: ask the rule again, send, log, and mark it delivered,
/// pending a retry, or failed.
async fn attempt(state: &AppState, id: i64) -> Result<(), ServerError> {
    let d = deliveries::delivery(&state.db, id).await?;
    let version = store::version_by_id(&state.db, d.version_id).await?;
    let audience = store::audience(&state.db, d.version_id).await?;
    let (viewer, key, lang) = recipient(state, &d).await?;
    let allowed = viewer.is_some_and(|v| version.visible_to(&audience, &v));
    // AMBER+STRICT and RED by e-mail only encrypted; without a key, not by e-mail at all.
    let unencryptable = d.channel == "email" && needs_encryption(version.tlp) && key.is_none();
    let started = Instant::now();
    let outcome: Result<i64, String> = if !allowed {
        Err(ACCESS_WITHDRAWN.into())
    } else if unencryptable {
        Err(format!("{NO_OPENPGP_KEY}{}{NO_OPENPGP_KEY_REST}", version.tlp.as_str()))
    } else if d.channel == "webhook" {
        send_webhook(state, &version, d.org_id.unwrap_or(0), &d.target).await
    } else {
        let key = key.filter(|_| needs_encryption(version.tlp));
        send_email(&state.advisories, &version, &d.target, key.as_deref(), lang).await
    };
    let elapsed = started.elapsed().as_millis() as i64;
    let at = now();
    let (status, error) = match &outcome {
        Ok(s) => (*s, None),
        Err(e) => (0, Some(e.as_str())),
    };
    deliveries::record_attempt(&state.db, id, at, elapsed, status, error).await?;
    match &outcome {
        Ok(_) => {
            // The audit event before the delivered mark: a delivery has happened once the send
            // succeeded, so a crash between the two writes may at worst send and audit it again
            // (both true), never leave a delivered advisory out of the audit log.
            let (org, channel) = match (d.channel.as_str(), viewer) {
                ("webhook", _) => (d.org_id, Channel::Webhook),
                (_, Some(Viewer::User { org_id, .. })) => (org_id, Channel::Email),
                _ => (d.org_id, Channel::Email),
            };
            // The event's actor is who received it: the addressee, or the organisation's endpoint.
            let email = (channel == Channel::Email).then(|| d.target.clone());
            let addressee = Actor { user_id: d.user_id, email, org_id: org };
            crate::audit::advisory(state, addressee, org, &version, "advisory_delivered", channel, &d.target).await?;
            deliveries::mark_delivered(&state.db, id, at).await?;
        }
        Err(e) => {
            let give_up = !allowed || unencryptable || d.attempts >= state.advisories.max_attempts;
            let wait = backoff(state.advisories.retry_base, d.attempts);
            deliveries::mark_failed(&state.db, id, give_up, now_ms().saturating_add(wait), e).await?;
        }
    }
    Ok(())
}

/// Milliseconds to wait after the `attempts`-th failed attempt: base × 2^(attempts-1).
pub fn backoff(base: Duration, attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    (base.as_millis().max(1) as i64).saturating_mul(1_i64 << exp)
}

/// The JSON a webhook receives.
pub async fn payload(state: &AppState, version: &VersionRow) -> Result<serde_json::Value, ServerError> {
    let rating = version.rating()?;
    let csaf = csaf_document(state, version, None).await?;
    Ok(json!({
        "event": "advisory.published",
        "identifier": version.identifier,
        "version": version.version,
        "title": version.title,
        "tlp": version.tlp.as_str(),
        "label": rating.label,
        "tag": rating.tag,
        "urgency": rating.urgency,
        "published_at": version.published_at,
        "url": format!("{}/advisories/{}", state.advisories.public_url.trim_end_matches('/'), version.advisory_id),
        "csaf": csaf,
    }))
}

async fn send_webhook(state: &AppState, version: &VersionRow, org: i64, url: &str) -> Result<i64, String> {
    let secret = deliveries::webhook_secret(&state.db, org)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the organisation removed its webhook")?;
    let body =
        serde_json::to_vec(&payload(state, version).await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let timestamp = now();
    let sig = signature(&secret, timestamp, &body).map_err(|e| e.to_string())?;
    let timeout = state.advisories.delivery_timeout;
    let allow_private = state.advisories.allow_private_webhooks;
    let url = url.to_string();
    let identifier = version.identifier.clone();
    // ureq is a blocking client: off the async threads.
    tokio::task::spawn_blocking(move || {
        // Every address the client connects to is checked where it is resolved (DNS rebinding).
        let agent = ureq::Agent::with_parts(
            ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .build(),
            ureq::unversioned::transport::DefaultConnector::new(),
            super::webhook_target::CheckedResolver::new(allow_private),
        );
        let response = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("X-Quell-Event", "advisory.published")
            .header("X-Quell-Advisory", &identifier)
            .header("X-Quell-Timestamp", timestamp.to_string())
            .header("X-Quell-Signature", &sig)
            .send(&body[..])
            .map_err(|e| e.to_string())?;
        let status = i64::from(response.status().as_u16());
        if (200..300).contains(&status) { Ok(status) } else { Err(format!("HTTP {status}")) }
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The subject and text of an advisory's e-mail, in the current language ([`crate::i18n`]).
/// The subject and text of an advisory's e-mail, in the language the caller set (the texts in
/// that language when the advisory has them).
fn email_text(config: &Config, version: &VersionRow) -> Result<(String, String), String> {
    let content = version.content().map_err(|e| e.to_string())?.in_language(crate::i18n::current().code());
    let rating = version.rating().map_err(|e| e.to_string())?;
    let subject = format!(
        "[TLP:{}] {} {} v{}: {}",
        version.tlp.as_str(),
        rating.tag,
        version.identifier,
        version.version,
        content.title
    );
    let mut text = format!(
        "TLP:{tlp}\n\n{heading}\n{title}\n\n{summary_heading}\n{summary}\n",
        tlp = version.tlp.as_str(),
        heading = t!(
            "mail-heading",
            identifier = version.identifier.as_str(),
            version = version.version.as_str(),
            label = crate::i18n::rating_label(&rating)
        ),
        title = content.title,
        summary_heading = t!("adv-summary"),
        summary = content.summary,
    );
    if !content.cves.is_empty() {
        text.push_str(&format!("\n{}: {}\n", t!("col-cves"), content.cves.join(", ")));
    }
    if !content.consequences.is_empty() {
        text.push_str(&format!("\n{}\n{}\n", t!("adv-consequences"), content.consequences));
    }
    if !content.solution.is_empty() {
        text.push_str(&format!("\n{}\n{}\n", t!("adv-solution"), content.solution));
    }
    text.push_str(&format!(
        "\n{}/advisories/{}\n\n{}\n",
        config.public_url.trim_end_matches('/'),
        version.advisory_id,
        t!("mail-tlp-footer", tlp = version.tlp.as_str(), meaning = crate::i18n::tlp_meaning(version.tlp))
    ));
    Ok((subject, text))
}

/// Sends one advisory e-mail in `lang`; with `key`, as PGP/MIME (RFC 3156) encrypted to it, the
/// title left out of the (unencrypted) subject.
async fn send_email(
    config: &Config,
    version: &VersionRow,
    to: &str,
    key: Option<&str>,
    lang: Lang,
) -> Result<i64, String> {
    use lettre::message::header::ContentType;
    use lettre::message::{MultiPart, SinglePart};
    use lettre::{AsyncTransport, Message};
    let smtp = config.smtp.as_ref().ok_or("no SMTP relay configured")?;
    let rating = version.rating().map_err(|e| e.to_string())?;
    let (subject, text) = crate::i18n::with(lang, || email_text(config, version))?;
    let builder = Message::builder()
        .from(smtp.from.parse().map_err(|e| format!("bad --smtp-from: {e}"))?)
        .to(to.parse().map_err(|e| format!("bad address {to:?}: {e}"))?);
    let tag = format!("[TLP:{}] {} {} v{}", version.tlp.as_str(), rating.tag, version.identifier, version.version);
    let message = match key {
        None => builder.subject(subject).header(ContentType::TEXT_PLAIN).body(text).map_err(|e| e.to_string())?,
        Some(key) => {
            let inner =
                format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}");
            let armored = crate::openpgp::encrypt(key, inner.as_bytes())?;
            let parse = |t: &str| ContentType::parse(t).map_err(|e| e.to_string());
            let body = MultiPart::encrypted("application/pgp-encrypted".to_string())
                .singlepart(
                    SinglePart::builder()
                        .header(parse("application/pgp-encrypted")?)
                        .body("Version: 1\r\n".to_string()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(parse("application/octet-stream; name=\"encrypted.asc\"")?)
                        .body(armored),
                );
            let subject = crate::i18n::with(lang, || t!("mail-encrypted-subject", tag = tag.as_str()));
            builder.subject(subject).multipart(body).map_err(|e| e.to_string())?
        }
    };
    let response = mailer(config, smtp)?.send(message).await.map_err(|e| e.to_string())?;
    Ok(i64::from(u16::from(response.code())))
}

/// Sends one plain-text e-mail through the configured relay (STARTTLS and login as for
/// advisories): account messages such as a password-reset link.
pub(crate) async fn send_plain(config: &Config, to: &str, subject: &str, text: String) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::{AsyncTransport, Message};
    let smtp = config.smtp.as_ref().ok_or("no SMTP relay configured")?;
    let message = Message::builder()
        .from(smtp.from.parse().map_err(|e| format!("bad --smtp-from: {e}"))?)
        .to(to.parse().map_err(|e| format!("bad address {to:?}: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| e.to_string())?;
    mailer(config, smtp)?.send(message).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// The SMTP transport of the configuration: STARTTLS required, opportunistic or off; login.
fn mailer(
    config: &Config,
    smtp: &crate::advisories::Smtp,
) -> Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>, String> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let tls_parameters = || {
        let mut params = TlsParameters::builder(smtp.host.clone());
        if let Some(pem) = &smtp.extra_roots_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| format!("--smtp-ca-file: {e}"))?;
            params = params.add_root_certificate(cert);
        }
        params.build_rustls().map_err(|e| format!("TLS towards the SMTP relay: {e}"))
    };
    let tls = match smtp.tls {
        SmtpTls::Required => Tls::Required(tls_parameters()?),
        SmtpTls::Opportunistic => Tls::Opportunistic(tls_parameters()?),
        SmtpTls::None => Tls::None,
    };
    let mut builder = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(config.delivery_timeout));
    if let Some((user, password)) = &smtp.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), 30_000);
        assert_eq!(backoff(base, 2), 60_000);
        assert_eq!(backoff(base, 4), 240_000);
        assert_eq!(backoff(Duration::from_millis(10), 3), 40);
    }
}

#[cfg(test)]
mod reason_tests {
    use super::*;
    use crate::i18n::{self, Lang};

    #[test]
    fn quells_own_delivery_reasons_are_said_in_the_readers_language() {
        let no_key = format!("{NO_OPENPGP_KEY}RED{NO_OPENPGP_KEY_REST}");
        for stored in [ACCESS_WITHDRAWN, no_key.as_str()] {
            assert_eq!(i18n::with(Lang::En, || reason_for_reader(stored)), stored);
            let dutch = i18n::with(Lang::Nl, || reason_for_reader(stored));
            assert!(dutch != stored && !dutch.contains("delivery-"), "{dutch}");
        }
        assert!(i18n::with(Lang::Nl, || reason_for_reader(&no_key)).contains("TLP:RED"));
        assert_eq!(i18n::with(Lang::Nl, || reason_for_reader("HTTP 503")), "HTTP 503");
    }
}
