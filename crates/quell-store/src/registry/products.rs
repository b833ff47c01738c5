//! An organisation's products (`org_products`), their status from the registry, and the
//! notifications of changes to the entries they point at. Every query filters on the
//! organisation given.

use crate::Refusal;
use crate::{Missing, Thing};
use std::collections::BTreeMap;

use quell_model::time::{self, now};
use quell_registry::{Status, VulnStatus, entry_key};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::entries::{find_by_key, load, load_or_404, resolve};
use super::limits::{MAX_LIST_ROWS, MAX_NAME_BYTES, MAX_PRODUCTS_PER_ORG};
use super::{as_text, check_len};
use crate::StoreError;
use crate::db::Db;

/// A product registration as sent: names, or an entry whose names are the default.
#[derive(Debug, Deserialize)]
pub struct ProductInput {
    pub supplier: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub entry_id: Option<i64>,
}

/// A checked registration.
struct Checked {
    supplier: String,
    product: String,
    version: Option<String>,
    entry_id: Option<i64>,
}

/// Checks a product registration; with `entry_id`, the names default to the entry's.
async fn product_fields(conn: &mut AnyConnection, input: ProductInput) -> Result<Checked, StoreError> {
    let (supplier, product) = match input.entry_id {
        Some(id) => {
            let entry = load_or_404(conn, id).await?;
            (input.supplier.unwrap_or(entry.entry.supplier), input.product.unwrap_or(entry.entry.product))
        }
        None => (input.supplier.unwrap_or_default(), input.product.unwrap_or_default()),
    };
    if supplier.trim().is_empty() || product.trim().is_empty() {
        return Err(StoreError::Invalid(Refusal::ProductRequired));
    }
    check_len("supplier", &supplier, MAX_NAME_BYTES)?;
    check_len("product", &product, MAX_NAME_BYTES)?;
    let version = input.version.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    check_len("version", version.as_deref().unwrap_or(""), MAX_NAME_BYTES)?;
    Ok(Checked {
        supplier: supplier.trim().to_string(),
        product: product.trim().to_string(),
        version,
        entry_id: input.entry_id,
    })
}

const PRODUCT_COLUMNS: &str = "id, supplier, product, version, entry_id, created_at";

/// A registered product.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Product {
    pub id: i64,
    pub supplier: String,
    pub product: String,
    pub version: Option<String>,
    /// The registry entry it was registered for, if any.
    pub entry_id: Option<i64>,
    #[serde(serialize_with = "as_text::rfc3339")]
    pub created_at: i64,
}

/// An organisation's products, in the order registered.
pub async fn products(db: &Db, org: i64) -> Result<Vec<Product>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {PRODUCT_COLUMNS} FROM org_products WHERE org_id = $1 ORDER BY id"))
        .bind(org)
        .fetch_all(&db.pool)
        .await?)
}

/// Checks and registers a product; `None` when the organisation has [`MAX_PRODUCTS_PER_ORG`].
pub async fn add_product(db: &Db, org: i64, input: ProductInput) -> Result<Option<Product>, StoreError> {
    let mut conn = db.pool.acquire().await?;
    let p = product_fields(&mut conn, input).await?;
    insert(&mut conn, org, &p.supplier, &p.product, p.version, p.entry_id).await
}

/// Registers a product by name (checked by the caller); `None` when the organisation has
/// [`MAX_PRODUCTS_PER_ORG`].
pub async fn insert_product(
    db: &Db,
    org: i64,
    supplier: &str,
    product: &str,
    version: Option<String>,
) -> Result<Option<Product>, StoreError> {
    insert(&mut *db.pool.acquire().await?, org, supplier, product, version, None).await
}

async fn insert(
    conn: &mut AnyConnection,
    org: i64,
    supplier: &str,
    product: &str,
    version: Option<String>,
    entry_id: Option<i64>,
) -> Result<Option<Product>, StoreError> {
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM org_products WHERE org_id = $1")
        .bind(org)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    if count >= MAX_PRODUCTS_PER_ORG {
        return Ok(None);
    }
    let key = entry_key(supplier, product);
    let row: Product = sqlx::query_as(&format!(
        "INSERT INTO org_products (org_id, entry_id, supplier, product, version, supplier_key, product_key, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {PRODUCT_COLUMNS}"
    ))
    .bind(org)
    .bind(entry_id)
    .bind(supplier.to_string())
    .bind(product.to_string())
    .bind(version)
    .bind(key.0)
    .bind(key.1)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(row))
}

/// Changes a product of the organisation; `NotFound` for another organisation's.
pub async fn update_product(db: &Db, org: i64, id: i64, input: ProductInput) -> Result<Product, StoreError> {
    let mut conn = db.pool.acquire().await?;
    let p = product_fields(&mut conn, input).await?;
    let key = entry_key(&p.supplier, &p.product);
    sqlx::query_as(&format!(
        "UPDATE org_products SET entry_id = $1, supplier = $2, product = $3, version = $4, supplier_key = $5, \
         product_key = $6 WHERE id = $7 AND org_id = $8 RETURNING {PRODUCT_COLUMNS}"
    ))
    .bind(p.entry_id)
    .bind(p.supplier)
    .bind(p.product)
    .bind(p.version)
    .bind(key.0)
    .bind(key.1)
    .bind(id)
    .bind(org)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(Missing::thing(Thing::Product, id)))
}

/// Deletes a product of the organisation; `NotFound` for another organisation's.
pub async fn delete_product(db: &Db, org: i64, id: i64) -> Result<(), StoreError> {
    let result = sqlx::query("DELETE FROM org_products WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org)
        .execute(&db.pool)
        .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(Missing::thing(Thing::Product, id)));
    }
    Ok(())
}

/// How bad a status is for someone running the product (the worst CVE decides).
fn severity(status: Status) -> u8 {
    match status {
        Status::Vulnerable => 5,
        Status::Workaround => 4,
        Status::UnderInvestigation => 3,
        Status::Fix => 2,
        Status::NotVulnerable => 1,
    }
}

/// The status of one registered product.
#[derive(Debug, Serialize)]
pub struct ProductStatus {
    pub id: i64,
    pub supplier: String,
    pub product: String,
    pub version: Option<String>,
    /// The registry entry it matched (after merges), if any.
    pub entry_id: Option<i64>,
    /// The worst status over its CVEs (`vulnerable` > `workaround` > `under_investigation` > `fix`
    /// > `not_vulnerable`), `no_information` for an entry without statuses, `not_in_registry`.
    pub state: String,
    /// For `fix`: the fixed versions (the first versions that fix it), over the CVEs with a fix.
    pub fixed_from: Vec<String>,
    pub statuses: BTreeMap<String, VulnStatus>,
    pub updated_at: Option<String>,
}

/// Which of an organisation's products are vulnerable, which have a fix and from which version.
pub async fn product_statuses(db: &Db, org: i64) -> Result<Vec<ProductStatus>, StoreError> {
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT id, supplier, product, version, entry_id, supplier_key, product_key FROM org_products \
         WHERE org_id = $1 ORDER BY supplier_key, product_key, id",
    )
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let entry_id = match row.try_get::<Option<i64>, _>("entry_id")? {
            Some(id) => resolve(&mut conn, id).await?,
            None => find_by_key(&mut conn, &(row.try_get("supplier_key")?, row.try_get("product_key")?)).await?,
        };
        let entry = match entry_id {
            Some(id) => load(&mut conn, id).await?,
            None => None,
        };
        let (state, fixed_from, statuses, updated_at) = match &entry {
            None => ("not_in_registry".to_string(), Vec::new(), BTreeMap::new(), None),
            Some(stored) => {
                let worst = stored.entry.statuses.values().map(|s| s.status).max_by_key(|s| severity(*s));
                let mut fixed: Vec<String> = Vec::new();
                for status in stored.entry.statuses.values().filter(|s| s.status == Status::Fix) {
                    for version in &status.fixed_versions {
                        if !fixed.contains(version) {
                            fixed.push(version.clone());
                        }
                    }
                }
                let state = worst.map_or("no_information", Status::as_str).to_string();
                (state, fixed, stored.entry.statuses.clone(), Some(stored.updated_at.clone()))
            }
        };
        out.push(ProductStatus {
            id: row.try_get("id")?,
            supplier: row.try_get("supplier")?,
            product: row.try_get("product")?,
            version: row.try_get("version")?,
            entry_id: entry.as_ref().map(|e| e.id),
            state,
            fixed_from,
            statuses,
            updated_at,
        });
    }
    Ok(out)
}

/// A notification of a change to an entry an organisation's products point at (or of an
/// answered confirmation request).
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Notification {
    pub id: i64,
    pub entry_id: i64,
    pub revision: i64,
    pub kind: String,
    pub message: String,
    #[serde(serialize_with = "as_text::rfc3339")]
    pub created_at: i64,
    #[serde(serialize_with = "as_text::opt_rfc3339")]
    pub read_at: Option<i64>,
}

/// An organisation's notifications, newest first (only unread ones when `unread`).
pub async fn notifications(db: &Db, org: i64, unread: bool) -> Result<Vec<Notification>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, entry_id, revision, kind, message, created_at, read_at FROM registry_notifications \
         WHERE org_id = $1 AND ($2 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT {MAX_LIST_ROWS}"
    ))
    .bind(org)
    .bind(i64::from(unread))
    .fetch_all(&db.pool)
    .await?)
}

/// One line of the products page's notifications.
#[derive(Debug, Clone)]
pub struct NotificationLine {
    pub message: String,
    /// RFC 3339.
    pub at: String,
    pub unread: bool,
}

/// An organisation's 20 newest notifications.
pub async fn recent_notifications(db: &Db, org: i64) -> Result<Vec<NotificationLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT message, created_at, read_at FROM registry_notifications WHERE org_id = $1 ORDER BY id DESC LIMIT 20",
    )
    .bind(org)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(NotificationLine {
                message: row.try_get("message")?,
                at: time::format_rfc3339(row.try_get("created_at")?),
                unread: row.try_get::<Option<i64>, _>("read_at")?.is_none(),
            })
        })
        .collect()
}

/// Marks a notification of the organisation read; `NotFound` for another organisation's.
pub async fn read_notification(db: &Db, org: i64, id: i64) -> Result<(), StoreError> {
    let result =
        sqlx::query("UPDATE registry_notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND org_id = $3")
            .bind(now())
            .bind(id)
            .bind(org)
            .execute(&db.pool)
            .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(Missing::thing(Thing::Notification, id)));
    }
    Ok(())
}
