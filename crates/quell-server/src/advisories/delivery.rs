//! Delivery of published advisories: signed webhooks and e-mail, from the `deliveries` table.
//!
//! - State lives in the database, so several server processes share the work: a process claims
//!   a due delivery with a conditional `UPDATE` (pending and due, or claimed by a process whose
//!   lease ran out); only the one whose update changed the row sends it.
//! - Every attempt is logged in `delivery_attempts` (time, duration, HTTP status or 0, error).
//!   A failed attempt is retried after `retry_base × 2^(attempt-1)`, until `max_attempts`, then
//!   the delivery is `failed`.
//! - Before sending, the access rule is asked again for the recipient (the organisation for a
//!   webhook, the user for an e-mail).
//! - Webhook signature: `X-Quell-Timestamp: <unix seconds>` and
//!   `X-Quell-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, with the
//!   organisation's secret; a receiver recomputes it and rejects old timestamps (replays).
//!   Webhook URLs are set by organisation admins; the server posts to them as given.

use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use quell_advisory::Viewer;
use serde_json::json;
use sha2::Sha256;
use sqlx::Row;

use super::store::{self, VERSION_COLUMNS, version_row};
use super::{Config, can_view};
use crate::{AppState, ServerError, now};

/// Deliveries claimed per poll.
pub const CLAIM_BATCH: i64 = 32;

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

/// Delivery schedules are finer than seconds.
pub use quell_model::time::now_ms;

async fn tick(state: &AppState) -> Result<(), ServerError> {
    let at = now_ms();
    let due = sqlx::query(
        "SELECT id FROM deliveries WHERE (state = 'pending' AND next_at_ms <= $1) \
         OR (state = 'sending' AND lease_until_ms < $1) ORDER BY next_at_ms LIMIT $2",
    )
    .bind(at)
    .bind(CLAIM_BATCH)
    .fetch_all(&state.db.pool)
    .await?;
    for row in due {
        let id: i64 = row.try_get(0)?;
        let claimed = sqlx::query(
            "UPDATE deliveries SET state = 'sending', lease_until_ms = $1, attempts = attempts + 1 WHERE id = $2 \
             AND ((state = 'pending' AND next_at_ms <= $3) OR (state = 'sending' AND lease_until_ms < $3))",
        )
        .bind(at + state.advisories.lease.as_millis() as i64)
        .bind(id)
        .bind(at)
        .execute(&state.db.pool)
        .await?;
        if claimed.rows_affected() == 1 {
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(e) = attempt(&state, id).await {
                    tracing::warn!(delivery = id, error = %e, "delivery attempt");
                }
            });
        }
    }
    Ok(())
}

async fn attempt(state: &AppState, id: i64) -> Result<(), ServerError> {
    let row =
        sqlx::query("SELECT version_id, org_id, user_id, channel, target, attempts FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_one(&state.db.pool)
            .await?;
    let version_id: i64 = row.try_get(0)?;
    let org_id: Option<i64> = row.try_get(1)?;
    let user_id: Option<i64> = row.try_get(2)?;
    let channel: String = row.try_get(3)?;
    let target: String = row.try_get(4)?;
    let attempts: i64 = row.try_get(5)?;
    let version = version_row(
        &sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id WHERE v.id = $1"
        ))
        .bind(version_id)
        .fetch_one(&state.db.pool)
        .await?,
    )?;
    let audience = super::audience(&state.db, version_id).await?;
    let viewer = match (channel.as_str(), org_id, user_id) {
        ("webhook", Some(org_id), _) => Some(Viewer::Organisation { org_id }),
        ("email", _, Some(user_id)) => {
            let u = sqlx::query("SELECT org_id, role FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&state.db.pool)
                .await?;
            match u {
                Some(u) => Some(Viewer::User {
                    user_id,
                    org_id: u.try_get(0)?,
                    coordinator: u.try_get::<String, _>(1)? == "coordinator",
                }),
                None => None,
            }
        }
        _ => None,
    };
    let allowed = viewer.is_some_and(|v| can_view(version.published(), version.tlp, version.author, &audience, &v));
    let started = Instant::now();
    let outcome: Result<i64, String> = if !allowed {
        Err("the recipient may no longer see this advisory".into())
    } else if channel == "webhook" {
        send_webhook(state, &version, org_id.unwrap_or(0), &target).await
    } else {
        send_email(&state.advisories, &version, &target).await
    };
    let elapsed = started.elapsed().as_millis() as i64;
    let at = now();
    let (status, error) = match &outcome {
        Ok(s) => (*s, None),
        Err(e) => (0, Some(e.clone())),
    };
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, at, duration_ms, status, error) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(at)
    .bind(elapsed)
    .bind(status)
    .bind(&error)
    .execute(&state.db.pool)
    .await?;
    match outcome {
        Ok(_) => {
            sqlx::query(
                "UPDATE deliveries SET state = 'delivered', delivered_at = $1, last_error = NULL WHERE id = $2",
            )
            .bind(at)
            .bind(id)
            .execute(&state.db.pool)
            .await?;
        }
        Err(e) => {
            let give_up = !allowed || attempts >= state.advisories.max_attempts;
            let wait = backoff(state.advisories.retry_base, attempts);
            sqlx::query("UPDATE deliveries SET state = $1, next_at_ms = $2, last_error = $3 WHERE id = $4")
                .bind(if give_up { "failed" } else { "pending" })
                .bind(now_ms().saturating_add(wait))
                .bind(&e)
                .bind(id)
                .execute(&state.db.pool)
                .await?;
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
pub async fn payload(state: &AppState, version: &store::VersionRow) -> Result<serde_json::Value, ServerError> {
    let rating = version.rating()?;
    let csaf = super::csaf_dir::document(state, version).await?;
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

async fn send_webhook(state: &AppState, version: &store::VersionRow, org: i64, url: &str) -> Result<i64, String> {
    let secret: String = sqlx::query("SELECT secret FROM org_webhooks WHERE org_id = $1")
        .bind(org)
        .fetch_optional(&state.db.pool)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the organisation removed its webhook")?
        .try_get(0)
        .map_err(|e| e.to_string())?;
    let body =
        serde_json::to_vec(&payload(state, version).await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let timestamp = now();
    let sig = signature(&secret, timestamp, &body).map_err(|e| e.to_string())?;
    let timeout = state.advisories.delivery_timeout;
    let url = url.to_string();
    let identifier = version.identifier.clone();
    // ureq is a blocking client: off the async threads.
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
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

async fn send_email(config: &Config, version: &store::VersionRow, to: &str) -> Result<i64, String> {
    use lettre::message::header::ContentType;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let smtp = config.smtp.as_ref().ok_or("no SMTP relay configured")?;
    let content = version.content().map_err(|e| e.to_string())?;
    let rating = version.rating().map_err(|e| e.to_string())?;
    let subject = format!(
        "[TLP:{}] {} {} v{}: {}",
        version.tlp.as_str(),
        rating.tag,
        version.identifier,
        version.version,
        version.title
    );
    let mut text = format!(
        "TLP:{tlp}\n\n{id} version {v} ({label})\n{title}\n\nSummary\n{summary}\n",
        tlp = version.tlp.as_str(),
        id = version.identifier,
        v = version.version,
        label = rating.label,
        title = version.title,
        summary = content.summary,
    );
    if !content.cves.is_empty() {
        text.push_str(&format!("\nCVEs: {}\n", content.cves.join(", ")));
    }
    if !content.consequences.is_empty() {
        text.push_str(&format!("\nConsequences\n{}\n", content.consequences));
    }
    if !content.solution.is_empty() {
        text.push_str(&format!("\nSolution\n{}\n", content.solution));
    }
    text.push_str(&format!(
        "\n{}/advisories/{}\n\nThis message is TLP:{}: share it only as that marking allows.\n",
        config.public_url.trim_end_matches('/'),
        version.advisory_id,
        version.tlp.as_str()
    ));
    let message = Message::builder()
        .from(smtp.from.parse().map_err(|e| format!("bad --smtp-from: {e}"))?)
        .to(to.parse().map_err(|e| format!("bad address {to:?}: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| e.to_string())?;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .timeout(Some(config.delivery_timeout))
        .build();
    let response = mailer.send(message).await.map_err(|e| e.to_string())?;
    Ok(i64::from(u16::from(response.code())))
}

/// The delivery log of a version (for coordinators).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub version: String,
    pub org_id: Option<i64>,
    pub channel: String,
    pub target: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub log: Vec<AttemptEntry>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AttemptEntry {
    pub at: i64,
    pub duration_ms: i64,
    pub status: i64,
    pub error: Option<String>,
}

/// The deliveries of every version of an advisory, with their attempts.
pub async fn log(db: &crate::Db, advisory_id: i64) -> Result<Vec<LogEntry>, ServerError> {
    let rows = sqlx::query(
        "SELECT d.id, v.version, d.org_id, d.channel, d.target, d.state, d.attempts, d.last_error, d.delivered_at \
         FROM deliveries d JOIN advisory_versions v ON v.id = d.version_id WHERE v.advisory_id = $1 ORDER BY d.id",
    )
    .bind(advisory_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let log = sqlx::query(
            "SELECT at, duration_ms, status, error FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|a| {
            Ok(AttemptEntry {
                at: a.try_get(0)?,
                duration_ms: a.try_get(1)?,
                status: a.try_get(2)?,
                error: a.try_get(3)?,
            })
        })
        .collect::<Result<_, ServerError>>()?;
        out.push(LogEntry {
            id,
            version: quell_advisory::Version(row.try_get(1)?).to_string(),
            org_id: row.try_get(2)?,
            channel: row.try_get(3)?,
            target: row.try_get(4)?,
            state: row.try_get(5)?,
            attempts: row.try_get(6)?,
            last_error: row.try_get(7)?,
            delivered_at: row.try_get(8)?,
            log,
        });
    }
    Ok(out)
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
