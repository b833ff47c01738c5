//! Advisories and their versions in the database: create (numbered per year), edit drafts,
//! publish (resolve recipients, queue deliveries, call list), new versions, reads.

use std::collections::BTreeMap;

use quell_advisory::rating::{Level, Rating};
use quell_advisory::{AdvisoryContent, AdvisoryId, Tlp, Version, Viewer};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{MAX_LISTED_VERSIONS, MAX_RECIPIENTS, StoredAudience, can_view, groups, placeholders, year_of};
use crate::auth::Principal;
use crate::{ServerError, now};
use quell_store::Db;

/// Who a version is addressed to, as the coordinator chose it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// Organisations by id.
    #[serde(default)]
    pub orgs: Vec<i64>,
    /// Target groups by id (their members, transitively).
    #[serde(default)]
    pub groups: Vec<i64>,
    /// Named individuals (user ids): the only readers of TLP:RED besides the author.
    #[serde(default)]
    pub users: Vec<i64>,
    /// Add the organisations whose scanned inventory has copies affected by the advisory's CVEs
    /// (hosts' latest reports).
    #[serde(default = "yes")]
    pub match_inventory: bool,
    /// Add the organisations that registered a product matching one of the advisory's products
    /// (`org_products`: the same registry entry, or the same normalised supplier and product).
    #[serde(default = "yes")]
    pub match_products: bool,
}

fn yes() -> bool {
    true
}

/// A draft as sent by a coordinator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub content: AdvisoryContent,
    #[serde(default)]
    pub recipients: Recipients,
}

/// One advisory version as stored.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRow {
    pub version_id: i64,
    pub advisory_id: i64,
    pub identifier: String,
    pub version: String,
    #[serde(skip)]
    pub version_index: i64,
    pub status: String,
    pub tlp: Tlp,
    pub title: String,
    pub chance: String,
    pub damage: String,
    pub severity: String,
    #[serde(skip)]
    pub author: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
    #[serde(skip)]
    pub content_json: String,
    #[serde(skip)]
    pub recipients_json: String,
}

impl VersionRow {
    pub fn published(&self) -> bool {
        self.status == "published"
    }
    pub fn content(&self) -> Result<AdvisoryContent, ServerError> {
        serde_json::from_str(&self.content_json).map_err(|e| ServerError::Internal(format!("stored content: {e}")))
    }
    pub fn recipients(&self) -> Result<Recipients, ServerError> {
        serde_json::from_str(&self.recipients_json)
            .map_err(|e| ServerError::Internal(format!("stored recipients: {e}")))
    }
    pub fn rating(&self) -> Result<Rating, ServerError> {
        self.content()?.rating.rate().map_err(|e| ServerError::Internal(e.0))
    }
    /// `[H/H]`.
    pub fn tag(&self) -> String {
        let l = |s: &str| Level::parse(s).map_or('?', Level::letter);
        format!("[{}/{}]", l(&self.chance), l(&self.damage))
    }
    /// `HIGH/HIGH`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.chance.to_uppercase(), self.damage.to_uppercase())
    }
}

pub(crate) const VERSION_COLUMNS: &str = "v.id, v.advisory_id, a.identifier, v.version, v.status, v.tlp, v.title, v.chance, \
     v.damage, v.severity, a.created_by, v.created_at, v.updated_at, v.published_at, v.content, v.recipients";

pub(crate) fn version_row(row: &AnyRow) -> Result<VersionRow, ServerError> {
    let tlp: String = row.try_get(5)?;
    let index: i64 = row.try_get(3)?;
    Ok(VersionRow {
        version_id: row.try_get(0)?,
        advisory_id: row.try_get(1)?,
        identifier: row.try_get(2)?,
        version: Version(index).to_string(),
        version_index: index,
        status: row.try_get(4)?,
        tlp: Tlp::parse(&tlp).ok_or_else(|| ServerError::Internal(format!("bad stored TLP {tlp:?}")))?,
        title: row.try_get(6)?,
        chance: row.try_get(7)?,
        damage: row.try_get(8)?,
        severity: row.try_get(9)?,
        author: row.try_get(10)?,
        created_at: row.try_get(11)?,
        updated_at: row.try_get(12)?,
        published_at: row.try_get(13)?,
        content_json: row.try_get(14)?,
        recipients_json: row.try_get(15)?,
    })
}

/// Checks a draft: content and rating, recipients exist and are within limits.
async fn check_draft(db: &Db, draft: &Draft) -> Result<Rating, ServerError> {
    let rating = draft.content.validate().map_err(|e| ServerError::Invalid(e.0))?;
    let r = &draft.recipients;
    if r.orgs.len() + r.groups.len() + r.users.len() > MAX_RECIPIENTS {
        return Err(ServerError::Invalid(format!("at most {MAX_RECIPIENTS} recipients")));
    }
    for (table, ids, what) in [("orgs", &r.orgs, "organisation"), ("target_groups", &r.groups, "target group")] {
        for id in ids {
            let found = sqlx::query(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(*id)
                .fetch_optional(&db.pool)
                .await?
                .is_some();
            if !found {
                return Err(ServerError::Invalid(format!("recipients: no {what} {id}")));
            }
        }
    }
    for id in &r.users {
        if sqlx::query("SELECT id FROM users WHERE id = $1").bind(*id).fetch_optional(&db.pool).await?.is_none() {
            return Err(ServerError::Invalid(format!("recipients: no user {id}")));
        }
    }
    Ok(rating)
}

fn json_text<T: Serialize>(value: &T) -> Result<String, ServerError> {
    serde_json::to_string(value).map_err(|e| ServerError::Internal(e.to_string()))
}

/// A created advisory.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: i64,
    pub identifier: String,
    pub version: String,
}

/// Creates an advisory with its first draft (1.00), numbered in the current year.
pub async fn create(db: &Db, prefix: &str, principal: &Principal, draft: &Draft) -> Result<Created, ServerError> {
    let rating = check_draft(db, draft).await?;
    let at = now();
    let year = year_of(at);
    let mut tx = db.pool.begin().await?;
    let number: i64 = sqlx::query(
        "INSERT INTO advisory_counters (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = advisory_counters.last + 1 RETURNING last",
    )
    .bind(year)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    let identifier = AdvisoryId { prefix: prefix.to_string(), year, number }.to_string();
    let id: i64 = sqlx::query(
        "INSERT INTO advisories (identifier, year, number, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(&identifier)
    .bind(year)
    .bind(number)
    .bind(principal.user_id)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    insert_version(&mut tx, id, 0, draft, &rating, principal.user_id, at).await?;
    tx.commit().await?;
    Ok(Created { id, identifier, version: Version::FIRST.to_string() })
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    advisory_id: i64,
    index: i64,
    draft: &Draft,
    rating: &Rating,
    user: i64,
    at: i64,
) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO advisory_versions (advisory_id, version, status, tlp, title, chance, damage, severity, content, \
         recipients, created_by, created_at, updated_at) VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(advisory_id)
    .bind(index)
    .bind(draft.content.tlp.as_str())
    .bind(draft.content.title.trim())
    .bind(rating.chance.as_str())
    .bind(rating.damage.as_str())
    .bind(rating.severity.as_str())
    .bind(json_text(&draft.content)?)
    .bind(json_text(&draft.recipients)?)
    .bind(user)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every version of an advisory, oldest first (`NotFound` when there is none).
pub async fn versions(db: &Db, advisory_id: i64) -> Result<Vec<VersionRow>, ServerError> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id \
         WHERE v.advisory_id = $1 ORDER BY v.version"
    ))
    .bind(advisory_id)
    .fetch_all(&db.pool)
    .await?;
    if rows.is_empty() {
        return Err(ServerError::NotFound(format!("advisory {advisory_id}")));
    }
    rows.iter().map(version_row).collect()
}

/// Finds an advisory id by identifier.
pub async fn id_of(db: &Db, identifier: &str) -> Result<i64, ServerError> {
    sqlx::query("SELECT id FROM advisories WHERE identifier = $1")
        .bind(identifier)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .ok_or_else(|| ServerError::NotFound(format!("advisory {identifier}")))
}

/// The versions of an advisory the viewer may see, oldest first; `NotFound` when none (so an
/// advisory the viewer may not see is indistinguishable from one that does not exist).
pub async fn visible_versions(db: &Db, advisory_id: i64, viewer: &Viewer) -> Result<Vec<VersionRow>, ServerError> {
    let mut out = Vec::new();
    for v in versions(db, advisory_id).await? {
        let audience = if v.published() { super::audience(db, v.version_id).await? } else { StoredAudience::default() };
        if can_view(v.published(), v.tlp, v.author, &audience, viewer) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(ServerError::NotFound(format!("advisory {advisory_id}")));
    }
    Ok(out)
}

/// The newest published version of every advisory the viewer may see (and, for coordinators,
/// drafts too), newest first. Audiences are read in one query each, the rule applied per row.
pub async fn list_visible(db: &Db, viewer: &Viewer, published_only: bool) -> Result<Vec<VersionRow>, ServerError> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id \
         ORDER BY v.advisory_id DESC, v.version DESC LIMIT $1"
    ))
    .bind(MAX_LISTED_VERSIONS)
    .fetch_all(&db.pool)
    .await?;
    let rows: Vec<VersionRow> = rows.iter().map(version_row).collect::<Result<_, _>>()?;
    let mut audiences: BTreeMap<i64, StoredAudience> = BTreeMap::new();
    for row in sqlx::query("SELECT version_id, org_id FROM advisory_audience").fetch_all(&db.pool).await? {
        audiences.entry(row.try_get(0)?).or_default().orgs.push(row.try_get(1)?);
    }
    for row in sqlx::query("SELECT version_id, user_id FROM advisory_named").fetch_all(&db.pool).await? {
        audiences.entry(row.try_get(0)?).or_default().named.push(row.try_get(1)?);
    }
    let empty = StoredAudience::default();
    let mut out: Vec<VersionRow> = Vec::new();
    for v in rows {
        if published_only && !v.published() {
            continue;
        }
        // One row per advisory: its newest version the viewer may see.
        if out.last().is_some_and(|last| last.advisory_id == v.advisory_id) {
            continue;
        }
        let audience = audiences.get(&v.version_id).unwrap_or(&empty);
        if can_view(v.published(), v.tlp, v.author, audience, viewer) {
            out.push(v);
        }
    }
    out.sort_by(|a, b| {
        b.published_at
            .unwrap_or(b.updated_at)
            .cmp(&a.published_at.unwrap_or(a.updated_at))
            .then(b.advisory_id.cmp(&a.advisory_id))
    });
    Ok(out)
}

/// Replaces a draft's content. A published version answers 409 (it never changes).
pub async fn update_draft(db: &Db, advisory_id: i64, index: i64, draft: &Draft) -> Result<(), ServerError> {
    let rating = check_draft(db, draft).await?;
    let result = sqlx::query(
        "UPDATE advisory_versions SET tlp = $1, title = $2, chance = $3, damage = $4, severity = $5, content = $6, \
         recipients = $7, updated_at = $8 WHERE advisory_id = $9 AND version = $10 AND status = 'draft'",
    )
    .bind(draft.content.tlp.as_str())
    .bind(draft.content.title.trim())
    .bind(rating.chance.as_str())
    .bind(rating.damage.as_str())
    .bind(rating.severity.as_str())
    .bind(json_text(&draft.content)?)
    .bind(json_text(&draft.recipients)?)
    .bind(now())
    .bind(advisory_id)
    .bind(index)
    .execute(&db.pool)
    .await?;
    if result.rows_affected() == 1 {
        return Ok(());
    }
    let exists = sqlx::query("SELECT status FROM advisory_versions WHERE advisory_id = $1 AND version = $2")
        .bind(advisory_id)
        .bind(index)
        .fetch_optional(&db.pool)
        .await?;
    match exists {
        Some(_) => Err(ServerError::Conflict(format!(
            "version {} is published and cannot change: create a new version",
            Version(index)
        ))),
        None => Err(ServerError::NotFound(format!("advisory {advisory_id} version {}", Version(index)))),
    }
}

/// Starts the next version as a draft: a copy of the newest published one, or `draft` when
/// given. 409 when a draft exists or nothing is published yet.
pub async fn new_version(
    db: &Db,
    advisory_id: i64,
    principal: &Principal,
    draft: Option<&Draft>,
) -> Result<Created, ServerError> {
    let all = versions(db, advisory_id).await?;
    let Some(last) = all.last() else { return Err(ServerError::NotFound(format!("advisory {advisory_id}"))) };
    if !last.published() {
        return Err(ServerError::Conflict(format!("version {} is still a draft: edit or publish it", last.version)));
    }
    let draft = match draft {
        Some(d) => d.clone(),
        None => {
            let mut content = last.content()?;
            content.revision_note = String::new();
            Draft { content, recipients: last.recipients()? }
        }
    };
    let rating = check_draft(db, &draft).await?;
    let index = last.version_index + 1;
    let mut tx = db.pool.begin().await?;
    // UNIQUE (advisory_id, version) makes a concurrent second "new version" fail, not duplicate.
    insert_version(&mut tx, advisory_id, index, &draft, &rating, principal.user_id, now()).await.map_err(
        |e| match e {
            ServerError::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                ServerError::Conflict("another new version was started at the same time".into())
            }
            other => other,
        },
    )?;
    tx.commit().await?;
    Ok(Created { id: advisory_id, identifier: last.identifier.clone(), version: Version(index).to_string() })
}

/// What publishing did.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub id: i64,
    pub identifier: String,
    pub version: String,
    pub published_at: i64,
    pub recipient_orgs: usize,
    pub named: usize,
    pub webhooks: usize,
    pub emails: usize,
    pub call_list: usize,
}

/// Publishes the advisory's draft: resolves and stores the audience, queues webhooks and
/// e-mail (each recipient checked by the access rule), and for High/High makes the call list.
/// All in one transaction; the draft → published change is conditional, so two concurrent
/// publications publish once (the other gets 409).
pub async fn publish(db: &Db, advisory_id: i64, principal: &Principal, email: bool) -> Result<Published, ServerError> {
    let all = versions(db, advisory_id).await?;
    let Some(draft) = all.last().filter(|v| !v.published()) else {
        return Err(ServerError::Conflict("nothing to publish: the newest version is already published".into()));
    };
    let content = draft.content()?;
    let rating = content.validate().map_err(|e| ServerError::Invalid(e.0))?;
    if content.products.is_empty() {
        return Err(ServerError::Invalid("publishing needs at least one affected product".into()));
    }
    let recipients = draft.recipients()?;
    let audience = groups::resolve(db, &recipients, &content).await?;
    let at = now();
    let mut tx = db.pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE advisory_versions SET status = 'published', published_at = $1, published_by = $2 \
         WHERE id = $3 AND status = 'draft'",
    )
    .bind(at)
    .bind(principal.user_id)
    .bind(draft.version_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(ServerError::Conflict("this version was published meanwhile".into()));
    }
    for cve in &content.cves {
        sqlx::query("INSERT INTO advisory_cves (version_id, cve) VALUES ($1, $2)")
            .bind(draft.version_id)
            .bind(cve)
            .execute(&mut *tx)
            .await?;
    }
    for (org, via) in &audience {
        sqlx::query("INSERT INTO advisory_audience (version_id, org_id, via) VALUES ($1, $2, $3)")
            .bind(draft.version_id)
            .bind(*org)
            .bind(via)
            .execute(&mut *tx)
            .await?;
    }
    let mut named = recipients.users.clone();
    named.sort_unstable();
    named.dedup();
    for user in &named {
        sqlx::query("INSERT INTO advisory_named (version_id, user_id) VALUES ($1, $2)")
            .bind(draft.version_id)
            .bind(*user)
            .execute(&mut *tx)
            .await?;
    }
    let stored = StoredAudience { orgs: audience.keys().copied().collect(), named: named.clone() };
    let mut webhooks = 0;
    let mut emails = 0;
    // Webhooks: each recipient organisation's endpoint, when the rule lets the organisation see it.
    for org in audience.keys() {
        if !can_view(true, draft.tlp, draft.author, &stored, &Viewer::Organisation { org_id: *org }) {
            continue;
        }
        let hook =
            sqlx::query("SELECT url FROM org_webhooks WHERE org_id = $1").bind(*org).fetch_optional(&mut *tx).await?;
        if let Some(hook) = hook {
            let url: String = hook.try_get(0)?;
            queue(&mut tx, draft.version_id, Some(*org), None, "webhook", &url, at).await?;
            webhooks += 1;
        }
    }
    // E-mail: every account of the recipient organisations and every named individual, each
    // checked by the rule as the user it goes to.
    if email {
        let mut users = Vec::new();
        if !stored.orgs.is_empty() {
            let sql =
                format!("SELECT id, email, org_id FROM users WHERE org_id IN ({})", placeholders(1, stored.orgs.len()));
            let mut q = sqlx::query(&sql);
            for org in &stored.orgs {
                q = q.bind(*org);
            }
            for row in q.fetch_all(&mut *tx).await? {
                users.push((
                    row.try_get::<i64, _>(0)?,
                    row.try_get::<String, _>(1)?,
                    row.try_get::<Option<i64>, _>(2)?,
                ));
            }
        }
        for user in &named {
            if let Some(row) = sqlx::query("SELECT id, email, org_id, role FROM users WHERE id = $1")
                .bind(*user)
                .fetch_optional(&mut *tx)
                .await?
                && !users.iter().any(|(id, _, _)| id == user)
            {
                users.push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
            }
        }
        for (user_id, address, org_id) in users {
            let viewer = Viewer::User { user_id, org_id, coordinator: org_id.is_none() };
            if can_view(true, draft.tlp, draft.author, &stored, &viewer) {
                queue(&mut tx, draft.version_id, org_id, Some(user_id), "email", &address, at).await?;
                emails += 1;
            }
        }
    }
    // High/High: the people to phone (contacts of recipient organisations).
    let mut call_list = 0;
    if rating.chance == Level::High && rating.damage == Level::High && !stored.orgs.is_empty() {
        let sql =
            format!("SELECT id, org_id FROM org_contacts WHERE org_id IN ({})", placeholders(1, stored.orgs.len()));
        let mut q = sqlx::query(&sql);
        for org in &stored.orgs {
            q = q.bind(*org);
        }
        for row in q.fetch_all(&mut *tx).await? {
            let contact: i64 = row.try_get(0)?;
            let org: i64 = row.try_get(1)?;
            let inserted = sqlx::query(
                "INSERT INTO call_list (advisory_id, version_id, contact_id, org_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (advisory_id, contact_id) DO NOTHING",
            )
            .bind(advisory_id)
            .bind(draft.version_id)
            .bind(contact)
            .bind(org)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            call_list += inserted.rows_affected() as usize;
        }
    }
    tx.commit().await?;
    tracing::info!(advisory = %draft.identifier, version = %draft.version, orgs = stored.orgs.len(), "advisory published");
    Ok(Published {
        id: advisory_id,
        identifier: draft.identifier.clone(),
        version: draft.version.clone(),
        published_at: at,
        recipient_orgs: stored.orgs.len(),
        named: named.len(),
        webhooks,
        emails,
        call_list,
    })
}

async fn queue(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    version_id: i64,
    org_id: Option<i64>,
    user_id: Option<i64>,
    channel: &str,
    target: &str,
    at: i64,
) -> Result<(), ServerError> {
    sqlx::query(
        "INSERT INTO deliveries (version_id, org_id, user_id, channel, target, state, attempts, next_at_ms, \
         lease_until_ms, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, 0, $7) \
         ON CONFLICT (version_id, channel, target) DO NOTHING",
    )
    .bind(version_id)
    .bind(org_id)
    .bind(user_id)
    .bind(channel)
    .bind(target)
    .bind(at.saturating_mul(1000))
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The time of first publication of an advisory (deadlines count from it), if published.
pub async fn first_published(db: &Db, advisory_id: i64) -> Result<Option<i64>, ServerError> {
    let row =
        sqlx::query("SELECT MIN(published_at) FROM advisory_versions WHERE advisory_id = $1 AND status = 'published'")
            .bind(advisory_id)
            .fetch_one(&db.pool)
            .await?;
    Ok(row.try_get::<Option<i64>, _>(0)?)
}
