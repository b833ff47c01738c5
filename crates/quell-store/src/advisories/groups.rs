//! Target groups: named sets of organisations and of other groups (a linking organisation's
//! community); cycles are refused. Resolving an advisory's recipients.

use crate::Refusal;
use crate::{Missing, Thing};
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::store::Recipients;
use super::{MAX_RECIPIENTS, check_note, placeholders};
use crate::db::Db;
use crate::{Result, StoreError};
use quell_model::time::now;
use quell_model::vers::Versions;

/// A group as shown.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub orgs: Vec<i64>,
    pub groups: Vec<i64>,
    /// Every organisation reached, through subgroups too.
    pub members: Vec<i64>,
}

/// A group as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    pub name: String,
    #[serde(default)]
    pub orgs: Vec<i64>,
    #[serde(default)]
    pub groups: Vec<i64>,
}

struct Graph {
    names: BTreeMap<i64, String>,
    orgs: BTreeMap<i64, Vec<i64>>,
    children: BTreeMap<i64, Vec<i64>>,
}

async fn graph(db: &Db) -> Result<Graph> {
    let mut g = Graph { names: BTreeMap::new(), orgs: BTreeMap::new(), children: BTreeMap::new() };
    for row in sqlx::query("SELECT id, name FROM target_groups").fetch_all(&db.pool).await? {
        g.names.insert(row.try_get("id")?, row.try_get("name")?);
    }
    for row in sqlx::query("SELECT group_id, org_id FROM target_group_orgs").fetch_all(&db.pool).await? {
        g.orgs.entry(row.try_get("group_id")?).or_default().push(row.try_get("org_id")?);
    }
    for row in sqlx::query("SELECT group_id, child_id FROM target_group_children").fetch_all(&db.pool).await? {
        g.children.entry(row.try_get("group_id")?).or_default().push(row.try_get("child_id")?);
    }
    Ok(g)
}

impl Graph {
    /// Groups reachable from `start` (itself included).
    fn reachable(&self, start: i64) -> BTreeSet<i64> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(g) = stack.pop() {
            if seen.insert(g) {
                stack.extend(self.children.get(&g).into_iter().flatten().copied());
            }
        }
        seen
    }

    fn members(&self, group: i64) -> BTreeSet<i64> {
        self.reachable(group).iter().flat_map(|g| self.orgs.get(g).into_iter().flatten().copied()).collect()
    }

    fn show(&self, id: i64) -> Option<Group> {
        Some(Group {
            id,
            name: self.names.get(&id)?.clone(),
            orgs: self.orgs.get(&id).cloned().unwrap_or_default(),
            groups: self.children.get(&id).cloned().unwrap_or_default(),
            members: self.members(id).into_iter().collect(),
        })
    }
}

/// Every group.
pub async fn list(db: &Db) -> Result<Vec<Group>> {
    let g = graph(db).await?;
    Ok(g.names.keys().filter_map(|id| g.show(*id)).collect())
}

/// One group.
pub async fn get(db: &Db, id: i64) -> Result<Group> {
    graph(db).await?.show(id).ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::TargetGroup, id)))
}

/// Members (transitively) of a group.
pub async fn members(db: &Db, id: i64) -> Result<BTreeSet<i64>> {
    Ok(graph(db).await?.members(id))
}

/// Creates a group (`id` None) or replaces its name and members. Refuses unknown organisations
/// and groups, and a subgroup that would make a cycle.
pub async fn save(db: &Db, id: Option<i64>, body: &GroupBody) -> Result<Group> {
    check_group(db, id, body).await?;
    let mut tx = db.pool.begin().await?;
    let id = match id {
        None => sqlx::query(
            "INSERT INTO target_groups (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(body.name.trim())
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(Refusal::GroupExists { name: body.name.trim().to_string() }))?
        .try_get("id")?,
        Some(id) => {
            sqlx::query("UPDATE target_groups SET name = $1 WHERE id = $2")
                .bind(body.name.trim())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::Conflict(Refusal::GroupNameTaken)
                    }
                    other => other.into(),
                })?;
            sqlx::query("DELETE FROM target_group_orgs WHERE group_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM target_group_children WHERE group_id = $1").bind(id).execute(&mut *tx).await?;
            id
        }
    };
    let orgs: BTreeSet<i64> = body.orgs.iter().copied().collect();
    for org in orgs {
        sqlx::query("INSERT INTO target_group_orgs (group_id, org_id) VALUES ($1, $2)")
            .bind(id)
            .bind(org)
            .execute(&mut *tx)
            .await?;
    }
    let children: BTreeSet<i64> = body.groups.iter().copied().collect();
    for child in children {
        sqlx::query("INSERT INTO target_group_children (group_id, child_id) VALUES ($1, $2)")
            .bind(id)
            .bind(child)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    get(db, id).await
}

/// Refuses a bad name, too many members, an unknown group or organisation, and a subgroup that
/// would make a cycle.
async fn check_group(db: &Db, id: Option<i64>, body: &GroupBody) -> Result<()> {
    check_note("the group name", &body.name, true)?;
    if body.orgs.len() + body.groups.len() > MAX_RECIPIENTS {
        return Err(StoreError::Invalid(Refusal::TooManyMembers { max: MAX_RECIPIENTS }));
    }
    let g = graph(db).await?;
    if let Some(id) = id
        && !g.names.contains_key(&id)
    {
        return Err(StoreError::NotFound(Missing::thing(Thing::TargetGroup, id)));
    }
    for child in &body.groups {
        if !g.names.contains_key(child) {
            return Err(StoreError::Invalid(Refusal::NoTargetGroup { id: *child }));
        }
        if let Some(id) = id
            && g.reachable(*child).contains(&id)
        {
            return Err(StoreError::Invalid(Refusal::GroupCycle { id: *child }));
        }
    }
    for org in &body.orgs {
        if sqlx::query("SELECT id FROM orgs WHERE id = $1").bind(*org).fetch_optional(&db.pool).await?.is_none() {
            return Err(StoreError::Invalid(Refusal::NoOrganisation { id: *org }));
        }
    }
    Ok(())
}

/// Organisations whose scanned inventory (hosts' latest reports) has copies affected by any of
/// `cves`.
pub async fn orgs_with_affected_inventory(db: &Db, cves: &[String]) -> Result<Vec<i64>> {
    if cves.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT h.org_id FROM hosts h JOIN report_cve_counts c ON c.report_id = h.latest_report_id \
         WHERE c.status = 'affected' AND c.count > 0 AND c.cve IN ({})",
        placeholders(1, cves.len())
    );
    let mut q = sqlx::query_scalar(&sql);
    for cve in cves {
        q = q.bind(cve);
    }
    Ok(q.fetch_all(&db.pool).await?)
}

/// The package keys and version sets an advisory names (components that do not parse were
/// refused when the draft was saved, and are skipped here).
pub fn wanted_components(components: &[quell_advisory::AffectedComponent]) -> Vec<(String, Versions)> {
    components.iter().filter_map(|c| c.parse().ok()).map(|(purl, versions)| (purl.key, versions)).collect()
}

/// Organisations whose current inventories or SBOMs hold one of `components` in an affected
/// version, each with the first matching package key.
pub async fn orgs_with_components(
    db: &Db,
    components: &[quell_advisory::AffectedComponent],
) -> Result<BTreeMap<i64, String>> {
    let mut out = BTreeMap::new();
    for (key, versions) in wanted_components(components) {
        for m in crate::components::matches(db, &key, &versions, crate::components::OrgFilter::All).await? {
            out.entry(m.org_id).or_insert_with(|| key.clone());
        }
    }
    Ok(out)
}

/// The recipient organisations of a version and why each is one: `direct`, `group:<name>`,
/// `products` (registered products), `inventory` (scanned copies), `components:<purl>`
/// (an inventory or SBOM holds a named component in an affected version).
pub async fn resolve(
    db: &Db,
    recipients: &Recipients,
    content: &quell_advisory::AdvisoryContent,
) -> Result<BTreeMap<i64, String>> {
    let cves = &content.cves;
    let mut out: BTreeMap<i64, String> = BTreeMap::new();
    for org in &recipients.orgs {
        out.entry(*org).or_insert_with(|| "direct".into());
    }
    if !recipients.groups.is_empty() {
        let g = graph(db).await?;
        for group in &recipients.groups {
            let name = g.names.get(group).cloned().unwrap_or_default();
            for org in g.members(*group) {
                out.entry(org).or_insert_with(|| format!("group:{name}"));
            }
        }
    }
    if recipients.match_products {
        for p in super::systems::registered_products(db, &content.products, cves, None).await? {
            out.entry(p.org_id).or_insert_with(|| "products".into());
        }
    }
    if recipients.match_inventory {
        for org in orgs_with_affected_inventory(db, cves).await? {
            out.entry(org).or_insert_with(|| "inventory".into());
        }
        for (org, purl) in orgs_with_components(db, &content.components).await? {
            out.entry(org).or_insert_with(|| format!("components:{purl}"));
        }
    }
    Ok(out)
}
