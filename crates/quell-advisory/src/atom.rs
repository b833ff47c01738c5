//! An Atom (RFC 4287) feed of advisories. The caller passes only what may be public.

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// A stable IRI (the advisory's page URL, or a `urn:` for it).
    pub id: String,
    pub title: String,
    /// RFC 3339.
    pub updated: String,
    pub summary: String,
    /// Where to read it.
    pub link: String,
}

/// The feed.
#[derive(Debug, Clone)]
pub struct Feed {
    pub id: String,
    pub title: String,
    /// The feed's own URL.
    pub self_link: String,
    /// RFC 3339; the newest entry's, or the given time for an empty feed.
    pub updated: String,
    pub author: String,
    /// The language of the feed's own texts (`xml:lang`: `nl`, `en`).
    pub lang: String,
    pub entries: Vec<Entry>,
}

/// XML text escaping (the five predefined entities), dropping characters XML 1.0 forbids.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Renders the feed as XML.
pub fn render(feed: &Feed) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n",
        escape(&feed.lang)
    );
    out.push_str(&format!("  <id>{}</id>\n", escape(&feed.id)));
    out.push_str(&format!("  <title>{}</title>\n", escape(&feed.title)));
    out.push_str(&format!("  <updated>{}</updated>\n", escape(&feed.updated)));
    out.push_str(&format!("  <link rel=\"self\" href=\"{}\"/>\n", escape(&feed.self_link)));
    out.push_str(&format!("  <author><name>{}</name></author>\n", escape(&feed.author)));
    for e in &feed.entries {
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>{}</id>\n", escape(&e.id)));
        out.push_str(&format!("    <title>{}</title>\n", escape(&e.title)));
        out.push_str(&format!("    <updated>{}</updated>\n", escape(&e.updated)));
        out.push_str(&format!("    <link rel=\"alternate\" href=\"{}\"/>\n", escape(&e.link)));
        out.push_str(&format!("    <summary>{}</summary>\n", escape(&e.summary)));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_renders() {
        let feed = Feed {
            id: "urn:quell:advisories".into(),
            title: "Advisories".into(),
            self_link: "http://x/advisories.atom".into(),
            updated: "2026-01-01T00:00:00Z".into(),
            author: "CERT".into(),
            lang: "en".into(),
            entries: vec![Entry {
                id: "http://x/advisories/1".into(),
                title: "[H/H] <script>&\u{1}".into(),
                updated: "2026-01-01T00:00:00Z".into(),
                summary: "a \"b\"".into(),
                link: "http://x/advisories/1?a=1&b=2".into(),
            }],
        };
        let xml = render(&feed);
        assert!(xml.contains("<title>[H/H] &lt;script&gt;&amp;</title>"));
        assert!(xml.contains("href=\"http://x/advisories/1?a=1&amp;b=2\""));
        assert!(xml.contains("<summary>a &quot;b&quot;</summary>"));
    }
}
