//! What an organisation sets up to receive advisories: its webhook (URL and signing secret) and
//! its contacts (the call list of High/High advisories). Always of the caller's organisation.

use crate::Refusal;
use serde::Serialize;
use sqlx::Row;

use super::{MAX_NOTE_BYTES, check_note};
use crate::accounts::new_secret;
use crate::db::Db;
use crate::{Result, StoreError};
use quell_model::time::now;

/// An organisation's webhook as shown (the secret is shown once, when set).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Webhook {
    pub url: String,
    pub updated_at: i64,
}

/// The organisation's webhook, if it set one.
pub async fn webhook(db: &Db, org_id: i64) -> Result<Option<Webhook>> {
    Ok(sqlx::query_as("SELECT url, updated_at FROM org_webhooks WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(&db.pool)
        .await?)
}

/// Sets the organisation's webhook URL (an http(s) URL) with a fresh signing secret; returns the
/// URL as stored and the secret.
pub async fn set_webhook(db: &Db, org_id: i64, url: &str) -> Result<(String, String)> {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > MAX_NOTE_BYTES
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(StoreError::Invalid(Refusal::WebhookUrl));
    }
    let secret = new_secret("whsec_")?;
    sqlx::query(
        "INSERT INTO org_webhooks (org_id, url, secret, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET url = $2, secret = $3, updated_at = $4",
    )
    .bind(org_id)
    .bind(url)
    .bind(&secret)
    .bind(now())
    .execute(&db.pool)
    .await?;
    Ok((url.to_string(), secret))
}

/// A contact of an organisation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub email: String,
}

/// The organisation's contacts, by name.
pub async fn contacts(db: &Db, org_id: i64) -> Result<Vec<Contact>> {
    Ok(sqlx::query_as("SELECT id, name, phone, email FROM org_contacts WHERE org_id = $1 ORDER BY name, id")
        .bind(org_id)
        .fetch_all(&db.pool)
        .await?)
}

/// Adds a contact (name and phone required, each field one line); returns its id.
pub async fn create_contact(db: &Db, org_id: i64, name: &str, phone: &str, email: &str) -> Result<i64> {
    check_note("name", name, true)?;
    check_note("phone", phone, true)?;
    check_note("email", email, false)?;
    if name.contains('\n') || phone.contains('\n') || email.contains('\n') {
        return Err(StoreError::Invalid(Refusal::ContactOneLine));
    }
    Ok(sqlx::query(
        "INSERT INTO org_contacts (org_id, name, phone, email, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(org_id)
    .bind(name.trim())
    .bind(phone.trim())
    .bind(email.trim())
    .bind(now())
    .fetch_one(&db.pool)
    .await?
    .try_get("id")?)
}
