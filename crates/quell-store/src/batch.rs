//! Multi-row inserts: many rows in one `INSERT .. VALUES (..), (..)` statement, in chunks.
//!
//! Both engines cap the bound parameters of one statement (SQLite 32766, PostgreSQL 65535), so a
//! caller names how many rows go in one statement; the placeholders are numbered here, once, for
//! every table that is written in bulk (findings, components, indicator sightings and lines).

use sqlx::AnyConnection;
use sqlx::any::AnyArguments;

use crate::StoreError;

/// A query on the `Any` driver, as `sqlx::query` makes it.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, AnyArguments<'q>>;

/// `($1, $2, ...),(...)` for `rows` rows of `width` parameters.
fn values_placeholders(rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 5);
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * width + c + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// Inserts `rows` into `table`'s `columns` with `INSERT .. VALUES (..), (..) tail`, at most
/// `rows_per_statement` rows in one statement. `tail` follows the values (`ON CONFLICT .. DO
/// NOTHING`, or empty); `bind` binds one row's values in the order of `columns`.
pub(crate) async fn insert_rows<T>(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows_per_statement: usize,
    rows: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q T) -> Result<AnyQuery<'q>, StoreError>,
) -> Result<(), StoreError> {
    let head = format!("INSERT INTO {table} ({})", columns.join(", "));
    for chunk in rows.chunks(rows_per_statement.max(1)) {
        let sql = format!("{head} VALUES {} {tail}", values_placeholders(chunk.len(), columns.len()));
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = bind(query, row)?;
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(values_placeholders(2, 2), "($1, $2),($3, $4)");
        assert_eq!(values_placeholders(1, 3), "($1, $2, $3)");
        assert_eq!(values_placeholders(0, 3), "");
    }
}
