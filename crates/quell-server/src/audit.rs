//! What the audit log records about information, beside accounts and logins: who read, exported
//! or was delivered an advisory under an audited marking ([`Tlp::is_audited`]: AMBER,
//! AMBER+STRICT, RED) on which channel, and who read or exported an organisation's inventory.
//!
//! Every handler that serves such information calls one function here after it has decided the
//! caller may see it and before it answers, so a read that was answered is a read that was
//! recorded (a failure to record is a 500, never a silent unaudited read).
//!
//! Which organisation an event concerns (who may read it besides the coordinators): for an
//! advisory, the reader's organisation (an organisation sees which of its people read what);
//! for an inventory, the organisation whose inventory it is (it sees who looked at its hosts,
//! coordinators included).

use quell_advisory::Tlp;
use quell_store::advisories::store::VersionRow;
use quell_store::audit::{self, Actor, Event};

use crate::auth::Principal;
use crate::{AppState, ServerError};

/// How an advisory reached its reader: the `detail` of its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The JSON API.
    Api,
    /// A web page.
    Page,
    /// A CSAF document (the API's `/csaf` or the provider's directory).
    Csaf,
    /// An organisation's webhook.
    Webhook,
    /// E-mail to a named addressee.
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Page => "page",
            Channel::Csaf => "csaf",
            Channel::Webhook => "webhook",
            Channel::Email => "email",
        }
    }
}

/// The actor of a request (`None`: anonymous).
pub fn actor(principal: Option<&Principal>) -> Actor {
    principal.map(Actor::of).unwrap_or_default()
}

/// Records that `actor` read (`advisory_read`), exported (`advisory_exported`: a CSAF document)
/// or was delivered (`advisory_delivered`) one version of an advisory, when its marking is
/// audited; does nothing for CLEAR and GREEN. `org_id` is the organisation the event concerns:
/// the reader's, or for a delivery the recipient's. `to` names the endpoint of a delivery (the
/// webhook URL, the e-mail address); empty otherwise.
pub async fn advisory(
    state: &AppState,
    actor: Actor,
    org_id: Option<i64>,
    version: &VersionRow,
    action: &str,
    channel: Channel,
    to: &str,
) -> Result<(), ServerError> {
    if !version.tlp.is_audited() {
        return Ok(());
    }
    let detail = if to.is_empty() { channel.as_str().to_string() } else { format!("{} {to}", channel.as_str()) };
    let event = Event { actor, action, org_id, target: advisory_target(version, version.tlp), detail };
    audit::record(&state.db.pool, &event).await?;
    Ok(())
}

/// A read of an advisory by a request's caller (its organisation is the one concerned).
pub async fn advisory_read(
    state: &AppState,
    principal: Option<&Principal>,
    version: &VersionRow,
    channel: Channel,
) -> Result<(), ServerError> {
    let action = if channel == Channel::Csaf { "advisory_exported" } else { "advisory_read" };
    advisory(state, actor(principal), principal.and_then(|p| p.org_id), version, action, channel, "").await
}

/// `advisory:12 NCSC-2026-0001 v1.0.0 TLP:RED`.
fn advisory_target(version: &VersionRow, tlp: Tlp) -> String {
    format!("advisory:{} {} v{} TLP:{}", version.advisory_id, version.identifier, version.version, tlp.as_str())
}

/// Records a read (`inventory_read`: one host, one report, a component query) or an export
/// (`inventory_exported`: the whole inventory, every host) of organisation `org_id`'s inventory
/// (`None`: a coordinator's query across organisations). `what` says which part, e.g.
/// `host:12` or `GET /api/v1/inventory`.
pub async fn inventory(
    state: &AppState,
    principal: &Principal,
    org_id: Option<i64>,
    action: &str,
    what: &str,
    channel: Channel,
) -> Result<(), ServerError> {
    let target = match org_id {
        Some(org) => format!("inventory:{org} {what}"),
        None => format!("inventories {what}"),
    };
    let event = Event { actor: Actor::of(principal), action, org_id, target, detail: channel.as_str().to_string() };
    audit::record(&state.db.pool, &event).await?;
    Ok(())
}

/// The formats of an audit export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line, the fields of `GET /api/v1/audit`.
    JsonLines,
    /// `id,at,actor,action,org_id,target,detail` with a header line (RFC 4180 quoting).
    Csv,
}

/// Every event the filter matches, newest first, streamed page by page
/// ([`quell_store::limits::MAX_PAGE_ROWS`] a query), so an export of any size holds one page in
/// memory. A database error ends the stream early with an error line (`{"error": ...}` or a
/// CSV row `error,...`) rather than a truncated file that looks complete.
pub fn export(state: AppState, mut filter: audit::Filter, format: ExportFormat) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::spawn(async move {
        let header = ["id", "at", "actor", "action", "org_id", "target", "detail"].map(String::from);
        if format == ExportFormat::Csv && sender.send(Ok(csv_rows(&[header]))).await.is_err() {
            return;
        }
        loop {
            let page = match audit::list(&state.db, &filter, quell_store::limits::MAX_PAGE_ROWS).await {
                Ok(page) => page,
                Err(e) => {
                    let line = match format {
                        ExportFormat::JsonLines => format!("{}\n", serde_json::json!({ "error": e.to_string() })),
                        ExportFormat::Csv => String::from_utf8_lossy(&csv_rows(&[[
                            "error".into(),
                            e.to_string(),
                            "".into(),
                            "".into(),
                            "".into(),
                            "".into(),
                            "".into(),
                        ]]))
                        .into_owned(),
                    };
                    let _ = sender.send(Ok(line.into_bytes())).await;
                    return;
                }
            };
            let Some(last) = page.last() else { return };
            filter.before = Some(last.id);
            let chunk = match format {
                ExportFormat::JsonLines => {
                    let mut chunk = Vec::new();
                    for entry in &page {
                        if serde_json::to_writer(&mut chunk, entry).is_err() {
                            return;
                        }
                        chunk.push(b'\n');
                    }
                    chunk
                }
                ExportFormat::Csv => csv_rows(&page.iter().map(csv_fields).collect::<Vec<_>>()),
            };
            if sender.send(Ok(chunk)).await.is_err() {
                return; // the client went away
            }
        }
    });
    let content_type = match format {
        ExportFormat::JsonLines => "application/jsonl; charset=utf-8",
        ExportFormat::Csv => "text/csv; charset=utf-8",
    };
    let body = axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
}

/// CSV rows (RFC 4180, by the `csv` crate) of events.
fn csv_rows(rows: &[[String; 7]]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows {
        // Writing to a Vec cannot fail; a failed row would only be missing from the export.
        let _ = writer.write_record(row.iter().map(|f| defuse_formula(f).into_owned()));
    }
    writer.into_inner().unwrap_or_default()
}

fn csv_fields(entry: &audit::Entry) -> [String; 7] {
    [
        entry.id.to_string(),
        entry.at.clone(),
        entry.actor.clone().unwrap_or_default(),
        entry.action.clone(),
        entry.org_id.map(|o| o.to_string()).unwrap_or_default(),
        entry.target.clone(),
        entry.detail.clone(),
    ]
}

/// A leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run the field
/// as a formula (the log holds what strangers typed: the e-mail addresses of failed logins).
fn defuse_formula(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@']) { format!("'{value}").into() } else { value.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_quoted_and_defused() {
        let row = ["1", "a,b", "say \"hi\"", "line\nbreak", "=HYPERLINK(\"x\")", "@evil", "plain"].map(String::from);
        let text = String::from_utf8(csv_rows(&[row])).expect("CSV is UTF-8");
        assert_eq!(text, "1,\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",\"'=HYPERLINK(\"\"x\"\")\",'@evil,plain\r\n");
    }
}
