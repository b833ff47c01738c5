//! The [`Prefilter`]: a multi-needle search over raw bytes that finds candidate lines.
//!
//! A line is a candidate when it holds `${` or a transport-encoded form of `$` (or `$` followed
//! by an encoded `{`), or one of the traces of a successful lookup. Only candidates are decoded and
//! evaluated, so the prefilter decides the throughput: the needles are few, and the search is
//! aho-corasick's SIMD "Teddy" searcher. Case variants are listed explicitly (lower, upper and
//! the usual mixed forms) to keep the searcher on its fast path.
//!
//! Covered encodings of `$`: `%24` (percent-encoded up to four times), `%u0024`, `\u0024`,
//! `\x24`, `\044`, `&#36`, `&#x24`, zero-padded references (`&#0...`), `&dollar`, and
//! percent-encoded `\`/`&` forms of those. A raw `$` followed by `%`, `\` or `&` covers an
//! encoded `{`.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Needles for a (possibly encoded) lookup opening. Percent-encoding deeper than four levels
/// (`%2525252524`) is not covered by the prefilter.
pub const PAYLOAD_NEEDLES: &[&str] = &[
    "${",
    "$%",
    "$\\",
    "$&",
    "%24",
    "%2524",
    "%252524",
    "%25252524",
    "u0024",
    "U0024",
    "\\x24",
    "\\X24",
    "%5cx24",
    "%5Cx24",
    "%5CX24",
    "\\044",
    "%5c044",
    "%5C044",
    "&#36",
    "&#x24",
    "&#X24",
    "&#0",
    "&#x0",
    "&#X0",
    "&dollar",
    "&DOLLAR",
    "&Dollar",
    "%26%2336",
    "%26%23x24",
    "%26%23X24",
    "%26%230",
    "%26dollar",
    "%26DOLLAR",
];

/// Traces of a successful lookup in application logs.
pub const TRACE_NEEDLES: &[&str] = &[
    "Error looking up JNDI resource",
    "com.sun.jndi.ldap.",
    "javax.el.ELProcessor@",
    "groovy.lang.GroovyShell@",
    "JndiManager.lookup(",
    "Reference Class Name:",
];

/// What a prefilter hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    /// A possible (encoded) lookup.
    Payload,
    /// A trace of a successful lookup; the index into [`TRACE_NEEDLES`].
    Trace(usize),
}

/// A prefilter hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Byte offset of the needle.
    pub pos: usize,
    pub kind: HitKind,
}

/// Finds candidate positions in raw bytes.
#[derive(Debug, Clone)]
pub struct Prefilter {
    all: AhoCorasick,
    payload: AhoCorasick,
}

impl Default for Prefilter {
    fn default() -> Self {
        Self::new()
    }
}

impl Prefilter {
    pub fn new() -> Self {
        let build = |needles: Vec<&str>| -> AhoCorasick {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(needles)
                .expect("the prefilter needles are a fixed, valid set")
        };
        let mut all: Vec<&str> = PAYLOAD_NEEDLES.to_vec();
        all.extend_from_slice(TRACE_NEEDLES);
        Prefilter { all: build(all), payload: build(PAYLOAD_NEEDLES.to_vec()) }
    }

    /// The first hit at or after `from`.
    pub fn find(&self, hay: &[u8], from: usize) -> Option<Hit> {
        let input = aho_corasick::Input::new(hay).range(from..);
        let m = self.all.find(input)?;
        let id = m.pattern().as_usize();
        let kind = if id < PAYLOAD_NEEDLES.len() { HitKind::Payload } else { HitKind::Trace(id - PAYLOAD_NEEDLES.len()) };
        Some(Hit { pos: m.start(), kind })
    }

    /// Whether `text` holds a payload needle.
    pub fn has_payload(&self, text: &[u8]) -> bool {
        self.payload.is_match(text)
    }

    /// Whether `text` holds a trace needle; which one.
    pub fn trace(&self, text: &[u8]) -> Option<usize> {
        self.all.find_iter(text).find_map(|m| m.pattern().as_usize().checked_sub(PAYLOAD_NEEDLES.len()))
    }

    /// The needles, for tools that should search for the same (the benchmark's `grep -F`).
    pub fn needles() -> impl Iterator<Item = &'static str> {
        PAYLOAD_NEEDLES.iter().chain(TRACE_NEEDLES.iter()).copied()
    }
}
