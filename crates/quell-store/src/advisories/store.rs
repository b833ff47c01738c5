//! Advisories and their versions: create (numbered per year), edit drafts, publish (resolve
//! recipients, queue deliveries, call list), new versions, reads, recipients and the call list.

use crate::Refusal;
use crate::{Missing, Thing};
use std::collections::BTreeMap;

use quell_advisory::rating::{Level, Rating, Severity};
use quell_advisory::{AdvisoryContent, AdvisoryId, Tlp, Version, Viewer, can_view};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{MAX_LISTED_VERSIONS, MAX_RECIPIENTS, StoredAudience, check_note, groups, placeholders, year_of};
use crate::db::Db;
use crate::{Result, StoreError};
use quell_model::time::now;

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
    /// (hosts' latest reports), and those whose current inventories or SBOMs hold one of the
    /// advisory's components in an affected version.
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
    /// The deadline class.
    pub severity: Severity,
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
    pub fn content(&self) -> Result<AdvisoryContent> {
        serde_json::from_str(&self.content_json).map_err(|e| StoreError::Internal(format!("stored content: {e}")))
    }
    pub fn recipients(&self) -> Result<Recipients> {
        serde_json::from_str(&self.recipients_json).map_err(|e| StoreError::Internal(format!("stored recipients: {e}")))
    }
    pub fn rating(&self) -> Result<Rating> {
        self.content()?.rating.rate().map_err(|e| StoreError::Internal(e.to_string()))
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
    /// Whether a viewer may see this version, given its stored audience.
    pub fn visible_to(&self, audience: &StoredAudience, viewer: &Viewer) -> bool {
        can_view(self.published(), self.tlp, &audience.of(self.author), viewer)
    }
}

/// The columns of a [`VersionRecord`] (`v`: the version, `a`: its advisory).
pub(crate) const VERSION_COLUMNS: &str = "v.id AS version_id, v.advisory_id, a.identifier, v.version AS version_index, \
     v.status, v.tlp, v.title, v.chance, v.damage, v.severity, a.created_by AS author, v.created_at, v.updated_at, \
     v.published_at, v.content AS content_json, v.recipients AS recipients_json";

/// A version as read, before its TLP and deadline class are parsed.
#[derive(sqlx::FromRow)]
pub(crate) struct VersionRecord {
    version_id: i64,
    advisory_id: i64,
    identifier: String,
    version_index: i64,
    status: String,
    tlp: String,
    title: String,
    chance: String,
    damage: String,
    severity: String,
    author: i64,
    created_at: i64,
    updated_at: i64,
    published_at: Option<i64>,
    content_json: String,
    recipients_json: String,
}

impl TryFrom<VersionRecord> for VersionRow {
    type Error = StoreError;

    fn try_from(r: VersionRecord) -> Result<VersionRow> {
        Ok(VersionRow {
            version_id: r.version_id,
            advisory_id: r.advisory_id,
            identifier: r.identifier,
            version: Version(r.version_index).to_string(),
            version_index: r.version_index,
            status: r.status,
            tlp: Tlp::parse(&r.tlp).ok_or_else(|| StoreError::Internal(format!("bad stored TLP {:?}", r.tlp)))?,
            title: r.title,
            chance: r.chance,
            damage: r.damage,
            severity: Severity::parse(&r.severity)
                .ok_or_else(|| StoreError::Internal(format!("bad stored deadline class {:?}", r.severity)))?,
            author: r.author,
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
            content_json: r.content_json,
            recipients_json: r.recipients_json,
        })
    }
}

fn rows(records: Vec<VersionRecord>) -> Result<Vec<VersionRow>> {
    records.into_iter().map(VersionRow::try_from).collect()
}

/// Checks a draft: content and rating, recipients exist and are within limits.
async fn check_draft(db: &Db, draft: &Draft) -> Result<Rating> {
    let rating = draft.content.validate().map_err(|e| StoreError::Invalid(e.into()))?;
    let r = &draft.recipients;
    if r.orgs.len() + r.groups.len() + r.users.len() > MAX_RECIPIENTS {
        return Err(StoreError::Invalid(Refusal::TooManyRecipients { max: MAX_RECIPIENTS }));
    }
    for (table, ids, what) in [("orgs", &r.orgs, "organisation"), ("target_groups", &r.groups, "target group")] {
        for id in ids {
            let found = sqlx::query(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(*id)
                .fetch_optional(&db.pool)
                .await?
                .is_some();
            if !found {
                return Err(StoreError::Invalid(Refusal::NoRecipient { what, id: *id }));
            }
        }
    }
    for id in &r.users {
        if sqlx::query("SELECT id FROM users WHERE id = $1").bind(*id).fetch_optional(&db.pool).await?.is_none() {
            return Err(StoreError::Invalid(Refusal::NoRecipient { what: "user", id: *id }));
        }
    }
    Ok(rating)
}

fn json_text<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

/// A created advisory.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: i64,
    pub identifier: String,
    pub version: String,
}

/// Creates an advisory with its first draft (1.00), numbered in the current year by an upsert
/// of `advisory_counters` in the same transaction.
pub async fn create(db: &Db, prefix: &str, user: i64, draft: &Draft) -> Result<Created> {
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
    .try_get("last")?;
    let identifier = AdvisoryId { prefix: prefix.to_string(), year, number }.to_string();
    let id: i64 = sqlx::query(
        "INSERT INTO advisories (identifier, year, number, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(&identifier)
    .bind(year)
    .bind(number)
    .bind(user)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    insert_version(&mut tx, id, 0, draft, &rating, user, at).await?;
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
) -> Result<()> {
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
pub async fn versions(db: &Db, advisory_id: i64) -> Result<Vec<VersionRow>> {
    let records: Vec<VersionRecord> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id \
         WHERE v.advisory_id = $1 ORDER BY v.version"
    ))
    .bind(advisory_id)
    .fetch_all(&db.pool)
    .await?;
    if records.is_empty() {
        return Err(StoreError::NotFound(Missing::thing(Thing::Advisory, advisory_id)));
    }
    rows(records)
}

/// One version by its row id.
pub async fn version_by_id(db: &Db, version_id: i64) -> Result<VersionRow> {
    let record: VersionRecord = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id WHERE v.id = $1"
    ))
    .bind(version_id)
    .fetch_one(&db.pool)
    .await?;
    record.try_into()
}

/// Finds an advisory id by identifier.
pub async fn id_of(db: &Db, identifier: &str) -> Result<i64> {
    sqlx::query("SELECT id FROM advisories WHERE identifier = $1")
        .bind(identifier)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::Advisory, identifier)))
}

/// Reads a version's audience.
pub async fn audience(db: &Db, version_id: i64) -> Result<StoredAudience> {
    let orgs = sqlx::query_scalar("SELECT org_id FROM advisory_audience WHERE version_id = $1")
        .bind(version_id)
        .fetch_all(&db.pool)
        .await?;
    let named = sqlx::query_scalar("SELECT user_id FROM advisory_named WHERE version_id = $1")
        .bind(version_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(StoredAudience { orgs, named })
}

/// The versions of an advisory the viewer may see, oldest first; `NotFound` when none (so an
/// advisory the viewer may not see is indistinguishable from one that does not exist).
pub async fn visible_versions(db: &Db, advisory_id: i64, viewer: &Viewer) -> Result<Vec<VersionRow>> {
    let mut out = Vec::new();
    for v in versions(db, advisory_id).await? {
        let audience = if v.published() { audience(db, v.version_id).await? } else { StoredAudience::default() };
        if v.visible_to(&audience, viewer) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(StoreError::NotFound(Missing::thing(Thing::Advisory, advisory_id)));
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct AudienceEntry {
    version_id: i64,
    member: i64,
}

/// The newest published version of every advisory the viewer may see (and, for coordinators,
/// drafts too), newest first. Audiences are read in one query each, the rule applied per row.
pub async fn list_visible(db: &Db, viewer: &Viewer, published_only: bool) -> Result<Vec<VersionRow>> {
    let records: Vec<VersionRecord> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id \
         ORDER BY v.advisory_id DESC, v.version DESC LIMIT $1"
    ))
    .bind(MAX_LISTED_VERSIONS)
    .fetch_all(&db.pool)
    .await?;
    let all = rows(records)?;
    let mut audiences: BTreeMap<i64, StoredAudience> = BTreeMap::new();
    let orgs: Vec<AudienceEntry> =
        sqlx::query_as("SELECT version_id, org_id AS member FROM advisory_audience").fetch_all(&db.pool).await?;
    for e in orgs {
        audiences.entry(e.version_id).or_default().orgs.push(e.member);
    }
    let named: Vec<AudienceEntry> =
        sqlx::query_as("SELECT version_id, user_id AS member FROM advisory_named").fetch_all(&db.pool).await?;
    for e in named {
        audiences.entry(e.version_id).or_default().named.push(e.member);
    }
    let empty = StoredAudience::default();
    let mut out: Vec<VersionRow> = Vec::new();
    for v in all {
        if published_only && !v.published() {
            continue;
        }
        // One row per advisory: its newest version the viewer may see.
        if out.last().is_some_and(|last| last.advisory_id == v.advisory_id) {
            continue;
        }
        if v.visible_to(audiences.get(&v.version_id).unwrap_or(&empty), viewer) {
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
pub async fn update_draft(db: &Db, advisory_id: i64, index: i64, draft: &Draft) -> Result<()> {
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
        Some(_) => Err(StoreError::Conflict(Refusal::VersionPublished { version: Version(index).to_string() })),
        None => Err(StoreError::NotFound(Missing::AdvisoryVersion {
            advisory: advisory_id,
            version: Version(index).to_string(),
        })),
    }
}

/// Replaces the newest version's draft (the form's "save draft").
pub async fn update_latest_draft(db: &Db, advisory_id: i64, draft: &Draft) -> Result<()> {
    let all = versions(db, advisory_id).await?;
    let index = all.last().map_or(0, |v| v.version_index);
    update_draft(db, advisory_id, index, draft).await
}

/// Starts the next version as a draft: a copy of the newest published one, or `draft` when
/// given. 409 when a draft exists or nothing is published yet.
pub async fn new_version(db: &Db, advisory_id: i64, user: i64, draft: Option<&Draft>) -> Result<Created> {
    let all = versions(db, advisory_id).await?;
    let Some(last) = all.last() else { return Err(StoreError::NotFound(Missing::thing(Thing::Advisory, advisory_id))) };
    if !last.published() {
        return Err(StoreError::Conflict(Refusal::StillDraft { version: last.version.to_string() }));
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
    insert_version(&mut tx, advisory_id, index, &draft, &rating, user, now()).await.map_err(|e| match e {
        StoreError::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            StoreError::Conflict(Refusal::ConcurrentVersion)
        }
        other => other,
    })?;
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
pub async fn publish(db: &Db, advisory_id: i64, user: i64, email: bool) -> Result<Published> {
    let all = versions(db, advisory_id).await?;
    let Some(draft) = all.last().filter(|v| !v.published()) else {
        return Err(StoreError::Conflict(Refusal::NothingToPublish));
    };
    let content = draft.content()?;
    let rating = content.validate().map_err(|e| StoreError::Invalid(e.into()))?;
    if content.products.is_empty() && content.components.is_empty() {
        return Err(StoreError::Invalid(Refusal::PublishNeedsProduct));
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
    .bind(user)
    .bind(draft.version_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict(Refusal::PublishedMeanwhile));
    }
    let named = store_audience(&mut tx, draft.version_id, &content.cves, &audience, &recipients.users).await?;
    let stored = StoredAudience { orgs: audience.keys().copied().collect(), named: named.clone() };
    let webhooks = queue_webhooks(&mut tx, draft, &stored, at).await?;
    let emails = if email { queue_emails(&mut tx, draft, &stored, at).await? } else { 0 };
    // High/High: the people to phone (contacts of recipient organisations).
    let call_list = if rating.chance == Level::High && rating.damage == Level::High {
        make_call_list(&mut tx, advisory_id, draft.version_id, &stored.orgs, at).await?
    } else {
        0
    };
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

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Stores a version's CVEs, recipient organisations (with why) and named individuals; returns
/// the named individuals, sorted and without repeats.
async fn store_audience(
    tx: &mut Tx<'_>,
    version_id: i64,
    cves: &[String],
    audience: &BTreeMap<i64, String>,
    users: &[i64],
) -> Result<Vec<i64>> {
    for cve in cves {
        sqlx::query("INSERT INTO advisory_cves (version_id, cve) VALUES ($1, $2)")
            .bind(version_id)
            .bind(cve)
            .execute(&mut **tx)
            .await?;
    }
    for (org, via) in audience {
        sqlx::query("INSERT INTO advisory_audience (version_id, org_id, via) VALUES ($1, $2, $3)")
            .bind(version_id)
            .bind(*org)
            .bind(via)
            .execute(&mut **tx)
            .await?;
    }
    let mut named = users.to_vec();
    named.sort_unstable();
    named.dedup();
    for user in &named {
        sqlx::query("INSERT INTO advisory_named (version_id, user_id) VALUES ($1, $2)")
            .bind(version_id)
            .bind(*user)
            .execute(&mut **tx)
            .await?;
    }
    Ok(named)
}

/// Webhooks: each recipient organisation's endpoint, when the rule lets the organisation see it.
async fn queue_webhooks(tx: &mut Tx<'_>, draft: &VersionRow, stored: &StoredAudience, at: i64) -> Result<usize> {
    let mut webhooks = 0;
    for org in &stored.orgs {
        if !can_view(true, draft.tlp, &stored.of(draft.author), &Viewer::Organisation { org_id: *org }) {
            continue;
        }
        let url: Option<String> = sqlx::query_scalar("SELECT url FROM org_webhooks WHERE org_id = $1")
            .bind(*org)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(url) = url {
            queue(tx, draft.version_id, Some(*org), None, "webhook", &url, at).await?;
            webhooks += 1;
        }
    }
    Ok(webhooks)
}

#[derive(sqlx::FromRow)]
struct Addressee {
    id: i64,
    email: String,
    org_id: Option<i64>,
}

/// E-mail: every account of the recipient organisations and every named individual, each
/// checked by the rule as the user it goes to.
async fn queue_emails(tx: &mut Tx<'_>, draft: &VersionRow, stored: &StoredAudience, at: i64) -> Result<usize> {
    let mut users: Vec<Addressee> = Vec::new();
    if !stored.orgs.is_empty() {
        let sql =
            format!("SELECT id, email, org_id FROM users WHERE org_id IN ({})", placeholders(1, stored.orgs.len()));
        let mut q = sqlx::query_as(&sql);
        for org in &stored.orgs {
            q = q.bind(*org);
        }
        users = q.fetch_all(&mut **tx).await?;
    }
    for user in &stored.named {
        let row: Option<Addressee> = sqlx::query_as("SELECT id, email, org_id, role FROM users WHERE id = $1")
            .bind(*user)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(row) = row
            && !users.iter().any(|u| u.id == *user)
        {
            users.push(row);
        }
    }
    let mut emails = 0;
    for u in users {
        let viewer = Viewer::User { user_id: u.id, org_id: u.org_id, coordinator: u.org_id.is_none(), strict: true };
        if can_view(true, draft.tlp, &stored.of(draft.author), &viewer) {
            queue(tx, draft.version_id, u.org_id, Some(u.id), "email", &u.email, at).await?;
            emails += 1;
        }
    }
    Ok(emails)
}

#[derive(sqlx::FromRow)]
struct ContactOrg {
    id: i64,
    org_id: i64,
}

/// The call list of a High/High advisory: the contacts of its recipient organisations.
async fn make_call_list(tx: &mut Tx<'_>, advisory_id: i64, version_id: i64, orgs: &[i64], at: i64) -> Result<usize> {
    if orgs.is_empty() {
        return Ok(0);
    }
    let sql = format!("SELECT id, org_id FROM org_contacts WHERE org_id IN ({})", placeholders(1, orgs.len()));
    let mut q = sqlx::query_as(&sql);
    for org in orgs {
        q = q.bind(*org);
    }
    let contacts: Vec<ContactOrg> = q.fetch_all(&mut **tx).await?;
    let mut call_list = 0;
    for contact in contacts {
        let inserted = sqlx::query(
            "INSERT INTO call_list (advisory_id, version_id, contact_id, org_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (advisory_id, contact_id) DO NOTHING",
        )
        .bind(advisory_id)
        .bind(version_id)
        .bind(contact.id)
        .bind(contact.org_id)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        call_list += inserted.rows_affected() as usize;
    }
    Ok(call_list)
}

async fn queue(
    tx: &mut Tx<'_>,
    version_id: i64,
    org_id: Option<i64>,
    user_id: Option<i64>,
    channel: &str,
    target: &str,
    at: i64,
) -> Result<()> {
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
pub async fn first_published(db: &Db, advisory_id: i64) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT MIN(published_at) AS first FROM advisory_versions WHERE advisory_id = $1 AND status = 'published'",
    )
    .bind(advisory_id)
    .fetch_one(&db.pool)
    .await?;
    Ok(row.try_get::<Option<i64>, _>("first")?)
}

/// One recipient organisation of one version, and why it is one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecipientRow {
    pub version_index: i64,
    pub org_id: i64,
    pub org: String,
    pub via: String,
}

/// The recipient organisations of every published version of an advisory.
pub async fn recipients(db: &Db, advisory_id: i64) -> Result<Vec<RecipientRow>> {
    Ok(sqlx::query_as(
        "SELECT v.version AS version_index, au.org_id, o.name AS org, au.via FROM advisory_audience au \
         JOIN advisory_versions v ON v.id = au.version_id JOIN orgs o ON o.id = au.org_id \
         WHERE v.advisory_id = $1 ORDER BY v.version, o.name",
    )
    .bind(advisory_id)
    .fetch_all(&db.pool)
    .await?)
}

/// An organisation's name and why it received an advisory.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecipientName {
    pub org: String,
    pub via: String,
}

/// The recipient organisations of an advisory over all its versions, by name.
pub async fn recipient_names(db: &Db, advisory_id: i64) -> Result<Vec<RecipientName>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT o.name AS org, au.via FROM advisory_audience au JOIN advisory_versions v ON v.id = au.version_id \
         JOIN orgs o ON o.id = au.org_id WHERE v.advisory_id = $1 ORDER BY o.name",
    )
    .bind(advisory_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The results a call may have.
pub const CALL_RESULTS: [&str; 5] = ["reached", "no_answer", "voicemail", "wrong_number", "call_back"];

/// One entry of a call list, with the calls made.
#[derive(Debug, Clone, Serialize)]
pub struct CallEntry {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub calls: Vec<Call>,
}

#[derive(sqlx::FromRow)]
struct CallEntryRow {
    id: i64,
    org: String,
    name: String,
    phone: String,
    email: String,
}

/// A call made.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Call {
    pub caller: String,
    pub at: i64,
    pub result: String,
    pub note: String,
}

/// The call list of an advisory, by organisation and contact.
pub async fn call_list(db: &Db, advisory_id: i64) -> Result<Vec<CallEntry>> {
    let rows: Vec<CallEntryRow> = sqlx::query_as(
        "SELECT cl.id, o.name AS org, c.name, c.phone, c.email FROM call_list cl \
         JOIN org_contacts c ON c.id = cl.contact_id \
         JOIN orgs o ON o.id = cl.org_id WHERE cl.advisory_id = $1 ORDER BY o.name, c.name",
    )
    .bind(advisory_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let calls = sqlx::query_as(
            "SELECT u.email AS caller, k.at, k.result, k.note FROM calls k JOIN users u ON u.id = k.caller_id \
             WHERE k.call_id = $1 ORDER BY k.at, k.id",
        )
        .bind(r.id)
        .fetch_all(&db.pool)
        .await?;
        out.push(CallEntry { id: r.id, org: r.org, name: r.name, phone: r.phone, email: r.email, calls });
    }
    Ok(out)
}

/// Records a call on a call list entry of the advisory; returns its time.
pub async fn insert_call(db: &Db, advisory_id: i64, entry: i64, caller: i64, result: &str, note: &str) -> Result<i64> {
    if !CALL_RESULTS.contains(&result) {
        return Err(StoreError::Invalid(Refusal::NotOneOf { field: "result", allowed: CALL_RESULTS.to_vec() }));
    }
    check_note("note", note, false)?;
    let exists = sqlx::query("SELECT id FROM call_list WHERE id = $1 AND advisory_id = $2")
        .bind(entry)
        .bind(advisory_id)
        .fetch_optional(&db.pool)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound(Missing::thing(Thing::CallListEntry, entry)));
    }
    let at = now();
    sqlx::query("INSERT INTO calls (call_id, caller_id, at, result, note) VALUES ($1, $2, $3, $4, $5)")
        .bind(entry)
        .bind(caller)
        .bind(at)
        .bind(result)
        .bind(note.trim())
        .execute(&db.pool)
        .await?;
    Ok(at)
}

/// An organisation by id and name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgName {
    pub id: i64,
    pub name: String,
}

/// Every organisation, by name (recipients to choose, counts to label).
pub async fn org_names(db: &Db) -> Result<Vec<OrgName>> {
    Ok(sqlx::query_as("SELECT id, name FROM orgs ORDER BY name").fetch_all(&db.pool).await?)
}

/// The e-mail addresses of accounts (named individuals), those that exist, in the given order.
pub async fn user_emails(db: &Db, users: &[i64]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for user in users {
        let email: Option<String> =
            sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(*user).fetch_optional(&db.pool).await?;
        out.extend(email);
    }
    Ok(out)
}

/// After an organisation's new inventory or SBOM: adds the organisation to the audience of
/// every open advisory (its newest version published, chosen to match inventories) that names
/// a component the organisation's current lists now hold in an affected version, and queues
/// its webhook and — when the publication sent e-mail — its e-mail, each checked by the access
/// rule. Returns the identifiers it was added to. Published versions themselves do not change:
/// the audience is a table beside them, and a row is only ever added.
pub async fn match_later_upload(db: &Db, org_id: i64) -> Result<Vec<String>> {
    let records: Vec<VersionRecord> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id \
         WHERE v.status = 'published' AND v.content LIKE '%\"components\"%' \
         AND v.version = (SELECT MAX(v2.version) FROM advisory_versions v2 WHERE v2.advisory_id = v.advisory_id) \
         AND NOT EXISTS (SELECT 1 FROM advisory_audience aa WHERE aa.version_id = v.id AND aa.org_id = $1)"
    ))
    .bind(org_id)
    .fetch_all(&db.pool)
    .await?;
    let mut added = Vec::new();
    for version in rows(records)? {
        if !version.recipients()?.match_inventory {
            continue;
        }
        let content = version.content()?;
        let mut reason = None;
        for (key, versions) in groups::wanted_components(&content.components) {
            let own = crate::components::OrgFilter::Only(org_id);
            if !crate::components::matches(db, &key, &versions, own).await?.is_empty() {
                reason = Some(key);
                break;
            }
        }
        let Some(key) = reason else { continue };
        let mut full = audience(db, version.version_id).await?;
        full.orgs.push(org_id);
        let mut tx = db.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO advisory_audience (version_id, org_id, via) VALUES ($1, $2, $3) \
             ON CONFLICT (version_id, org_id) DO NOTHING",
        )
        .bind(version.version_id)
        .bind(org_id)
        .bind(format!("components:{key} (later upload)"))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            continue;
        }
        let at = now();
        let just_this = StoredAudience { orgs: vec![org_id], named: Vec::new() };
        let check = |viewer: &Viewer| can_view(true, version.tlp, &full.of(version.author), viewer);
        if check(&Viewer::Organisation { org_id }) {
            queue_webhooks(&mut tx, &version, &just_this, at).await?;
        }
        let emailed: Option<i64> =
            sqlx::query_scalar("SELECT id FROM deliveries WHERE version_id = $1 AND channel = 'email' LIMIT 1")
                .bind(version.version_id)
                .fetch_optional(&mut *tx)
                .await?;
        if emailed.is_some() {
            queue_emails(&mut tx, &version, &just_this, at).await?;
        }
        tx.commit().await?;
        tracing::info!(advisory = %version.identifier, org = org_id, component = %key, "later upload matched an advisory");
        added.push(version.identifier.clone());
    }
    Ok(added)
}
