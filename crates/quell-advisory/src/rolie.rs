//! The ROLIE feed of one CSAF TLP directory (CSAF 2.0 requirement 15, RFC 8322 in JSON as the
//! CSAF standard's example shows it): one entry per document, with links to the document, its
//! hash files and, when the provider signs, its signature.
//!
//! Pure: URLs and times are arguments, times already formatted as RFC 3339.

use serde_json::{Value, json};

/// The JSON schema URL of CSAF 2.0 documents, named in every entry's `format`.
pub const CSAF_SCHEMA_URL: &str = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json";

/// One document in a feed.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    /// `document.tracking.id`.
    pub tracking_id: String,
    pub title: String,
    /// The document's URL; `.sha256`, `.sha512` and `.asc` are beside it.
    pub url: String,
    /// Initial and current release date (RFC 3339).
    pub published: String,
    pub updated: String,
}

/// A feed: its id, title, own URL and update time, and whether documents carry signatures.
#[derive(Debug, Clone)]
pub struct Feed<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub self_url: &'a str,
    pub updated: &'a str,
    pub signed: bool,
    pub entries: &'a [FeedEntry],
}

/// The feed as JSON.
pub fn render(feed: &Feed<'_>) -> Value {
    let entries: Vec<Value> = feed
        .entries
        .iter()
        .map(|e| {
            let mut links = vec![
                json!({"rel": "self", "href": e.url}),
                json!({"rel": "hash", "href": format!("{}.sha256", e.url)}),
                json!({"rel": "hash", "href": format!("{}.sha512", e.url)}),
            ];
            if feed.signed {
                links.push(json!({"rel": "signature", "href": format!("{}.asc", e.url)}));
            }
            json!({
                "id": e.tracking_id,
                "title": e.title,
                "link": links,
                "published": e.published,
                "updated": e.updated,
                "summary": {"content": e.title},
                "content": {"type": "application/json", "src": e.url},
                "format": {"schema": CSAF_SCHEMA_URL, "version": "2.0"},
            })
        })
        .collect();
    json!({
        "feed": {
            "id": feed.id,
            "title": feed.title,
            "link": [{"rel": "self", "href": feed.self_url}],
            "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
            "updated": feed.updated,
            "entry": entries,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_link_hashes_and_signature_only_when_signed() {
        let entries = vec![FeedEntry {
            tracking_id: "QUELL-2026-0001".into(),
            title: "T".into(),
            url: "https://x/.well-known/csaf/white/2026/quell-2026-0001.json".into(),
            published: "2026-01-01T00:00:00Z".into(),
            updated: "2026-01-02T00:00:00Z".into(),
        }];
        let mut feed = Feed {
            id: "f",
            title: "t",
            self_url: "https://x/f.json",
            updated: "2026-01-02T00:00:00Z",
            signed: false,
            entries: &entries,
        };
        let unsigned = render(&feed);
        assert_eq!(unsigned["feed"]["entry"][0]["link"].as_array().map(Vec::len), Some(3));
        feed.signed = true;
        let signed = render(&feed);
        assert_eq!(signed["feed"]["entry"][0]["link"][3]["rel"], "signature");
        assert!(signed["feed"]["entry"][0]["link"][3]["href"].as_str().is_some_and(|h| h.ends_with(".json.asc")));
    }
}
