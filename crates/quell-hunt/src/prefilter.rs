//! The [`Prefilter`]: a multi-needle search over raw bytes that finds candidate lines.
//!
//! A line is a candidate when it holds `${` or a transport-encoded form of `$` (or `$` followed
//! by an encoded `{`), a trace of a successful lookup, or (Spring4Shell) `classloader` in any
//! case. Only candidates are examined further, so the prefilter decides the throughput: one
//! search with aho-corasick's SIMD "Teddy" over 18 needles of at least two bytes (AVX2 "fat"
//! Teddy where the CPU has it, which keeps its speed beyond 16 needles where the default slim one
//! halves it; a one-byte needle would make Teddy verify at every common letter), short needles
//! confirmed by a look at the next bytes.
//!
//! Covered encodings of `$`: `%24` (percent-encoded to any depth: `%2524`, `%252524`), `%u0024`,
//! `\u0024`, `\x24`, `\044`, `&#36`, `&#x24`, zero-padded references (`&#0...`), `&dollar`,
//! `&amp;#36;`, and every escape character (`%`, `\`, `&`) escaped in turn by any layer
//! (`%5Cu0024`, `%26%2336`, `\u002524`, `\x2524`, `\04524`, `&#37;24`, `\x26#36;`, `\134x24`,
//! `%u005Cx24`), so every combination of the decoder's layers is a candidate; a raw `$` before
//! an encoded `{` (`$%7B`, `$\u007B`, `$&lbrace;`). Not covered: `%U0024` and `\U0024`
//! (upper-case `U`), and `&DOLLAR;`/`&Dollar;` (not HTML: reference names are case-sensitive; the
//! decoder still reads them on lines found otherwise).

use aho_corasick::packed::{Config as PackedConfig, MatchKind as PackedMatchKind, Searcher};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Needles for a (possibly encoded) lookup opening. They are deliberately few (the SIMD searcher
/// slows down with every needle) and short; a match is confirmed by [`Prefilter`] before
/// it counts (see `confirm`). Together they cover every way the transport layers of
/// [`crate::Decoder`] can write a `$`, and the characters that start an escape (`%`, `\`, `&`)
/// when those are themselves escaped by another layer, so every combination of layers reaches
/// the decoder.
pub const PAYLOAD_NEEDLES: &[&str] = &[
    // A raw `${`; a raw `$` before a percent-encoded or HTML-referenced `{` (`$%7B`, `$&lbrace;`,
    // `$&#123;`). A `$` before a backslash-escaped `{` is found by the `{` (`\u007B`, `\x7b`,
    // `\173`).
    "${", "$%", "$&",
    // `%24`, `%25` (`%2524`, `%252524`, ...: percent-encoded again and again), `%26` (`%26%2336%3B`).
    "%2", // `%5C` (a percent-encoded backslash: `%5Cx24`, `%5Cu0024`, `%5C044`).
    "%5",
    // `\u0024`, `%u0024`; `\u0025`, `\u0026`, `\u005C` (an escape character JSON-escaped:
    // `\u002524`); `\u007B`.
    "u00", // `\x24`, `\x25`, `\x26`, `\x5C`, `\x7B`.
    "\\x", // `\044`, `\045`, `\046` (octal `$`, `%`, `&`); `\134` (octal `\`), `\173` (octal `{`).
    "\\0", "\\1", // `&#36;`, `&#x24;`, `&#0036;`, `&#37;24`, `&#92;x24`, `&#38;#36;`.
    "&#",  // `&dollar;`.
    "&d",  // `&amp;#36;`, `&amp;dollar;` (an HTML-escaped reference).
    "amp;",
];

/// Traces of a successful lookup in application logs: `jndi` in three spellings (for `Error
/// looking up JNDI resource [...]`, `com.sun.jndi.ldap.`, `JndiManager.lookup(`) and
/// `Processor@` (for `javax.el.ELProcessor@`), each confirmed by [`TRACE_MARKERS`].
/// `groovy.lang.GroovyShell@` and `Reference Class Name:` are reported only on lines another
/// needle selects.
pub const TRACE_NEEDLES: &[&str] = &["jndi", "JNDI", "Jndi", "Processor@"];

/// Spring4Shell's needles, in the same search (when Spring4Shell is hunted): `ader` and `ADER`
/// (`classLoader`, `ClassLoader`, `CLASSLOADER`, `classLoAder`, `class%2Emodule%2EclassLoader`,
/// `%63lass%4Coader`), and `%4`, `%6`, `%7`, which start the percent-escape of every letter but
/// `P`–`Z` (`classL%6Fader`, `classLoa%64er`); those (`%52` for `R`, `%53`, `%55`) and an escaped
/// `%` (`%25`: `classLoad%2565r`) start with the payload needles `%5` and `%2` and are checked
/// there ([`SPRING_ESCAPES_IN_PAYLOAD`]). Each hit is confirmed by
/// [`crate::spring4shell::near_class_loader`]: the text around it, percent-decoded, says
/// `classloader` in any case. Not covered: `ADER` itself in mixed case with no letter escaped
/// (`classLOadEr`), which Spring does not bind either.
pub const SPRING_NEEDLES: &[&str] = &["ader", "ADER", "%4", "%6", "%7"];

/// Escapes that begin with a payload needle (`%2`, `%5`) but may hide a letter of
/// `classLoader`/`module` (or a `%` escaped once more): checked for Spring4Shell too.
pub const SPRING_ESCAPES_IN_PAYLOAD: &[&[u8]] = &[b"%25", b"%52", b"%53", b"%55"];

/// How far before a Spring4Shell needle a hit is reported to start (the parameter name's
/// beginning, for the caller's line search).
const SPRING_WINDOW: usize = 16;

/// The traces a line must contain to be reported as one.
pub const TRACE_MARKERS: &[&str] = &[
    "Error looking up JNDI resource",
    "com.sun.jndi.ldap.",
    "JndiManager.lookup(",
    "javax.el.ELProcessor@",
    "groovy.lang.GroovyShell@",
    "Reference Class Name:",
];

/// What a prefilter hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    /// A possible (encoded) lookup.
    Payload,
    /// Possibly a trace of a successful lookup (confirm with [`Prefilter::trace`]); the index
    /// into [`TRACE_NEEDLES`].
    Trace(usize),
    /// `classLoader` in any case (Spring4Shell; see [`SPRING_NEEDLES`]).
    Spring,
    /// The name of a file a Spring4Shell write dropped (see [`crate::reader::LogReader::scan_with`]).
    Dropped,
}

/// The hits of one line (see [`Prefilter::line_hits`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineHits {
    /// Positions of payload needles, and whether each is an encoded form (not a plain `${`).
    pub payload: Vec<(usize, bool)>,
    /// Whether a trace needle occurs.
    pub trace: bool,
    /// Whether a confirmed Spring4Shell needle occurs.
    pub spring: bool,
}

impl LineHits {
    /// Whether a payload needle starts in `range`, and whether one of those is encoded.
    pub fn within(&self, range: std::ops::Range<usize>) -> (bool, bool) {
        let mut any = false;
        for &(pos, encoded) in &self.payload {
            if range.contains(&pos) {
                any = true;
                if encoded {
                    return (true, true);
                }
            }
        }
        (any, false)
    }
}

/// A prefilter hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Byte offset of the needle.
    pub pos: usize,
    pub kind: HitKind,
}

/// Confirms a match of a short payload needle (see [`PAYLOAD_NEEDLES`]).
fn confirm(hay: &[u8], pos: usize, id: usize) -> bool {
    let at = |i: usize| hay.get(pos + i).copied();
    let two = |i: usize| -> Option<[u8; 2]> {
        let w = hay.get(pos + i..pos + i + 2)?;
        Some([w[0], w[1].to_ascii_lowercase()])
    };
    // `$`, `%`, `&`, `\`, `{` in hexadecimal.
    let escape_hex = |i: usize| matches!(two(i), Some([b'2', b'4' | b'5' | b'6'] | [b'5', b'c'] | [b'7', b'b']));
    match PAYLOAD_NEEDLES[id] {
        "%2" => matches!(at(2), Some(b'4' | b'5' | b'6')),
        "%5" => matches!(at(2), Some(b'c' | b'C')),
        "u00" => escape_hex(3),
        "\\x" => escape_hex(2),
        "\\0" => matches!(two(2), Some([b'4', b'4' | b'5' | b'6'])),
        "\\1" => matches!(two(2), Some([b'3', b'4'] | [b'7', b'3'])),
        "&d" => hay.get(pos + 1..pos + 7).is_some_and(|w| w.eq_ignore_ascii_case(b"dollar")),
        "amp;" => matches!(at(4), Some(b'#' | b'd' | b'D')),
        _ => true,
    }
}

/// Whether a confirmed payload needle is an encoded form (anything but a plain `${`).
fn is_encoded(_hay: &[u8], _pos: usize, id: usize) -> bool {
    id != 0
}

/// Finds candidate positions in raw bytes.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// Payload, trace and (when hunted) Spring4Shell needles, in that order of pattern ids.
    all: Searcher,
    payload: AhoCorasick,
    /// Whether the Spring4Shell needles are searched.
    spring: bool,
}

impl Default for Prefilter {
    fn default() -> Self {
        Self::new()
    }
}

/// The searcher of all needles: AVX2 "fat" Teddy where the CPU has it (it keeps its speed with
/// more needles: measured 2.8 GB/s with 18 needles, against 2.6 GB/s for the default slim
/// Teddy with 16 and 1.8–2.0 GB/s with 18), the default packed searcher otherwise.
fn build_all(spring: bool) -> Searcher {
    let mut needles: Vec<&str> = PAYLOAD_NEEDLES.to_vec();
    needles.extend_from_slice(TRACE_NEEDLES);
    if spring {
        needles.extend_from_slice(SPRING_NEEDLES);
    }
    let config = |fat: Option<bool>| {
        let mut c = PackedConfig::new();
        c.match_kind(PackedMatchKind::LeftmostFirst).only_teddy_fat(fat);
        c
    };
    // Asked for fat Teddy without AVX2, the builder falls back to Rabin-Karp: ask only with it.
    #[cfg(target_arch = "x86_64")]
    let avx2 = std::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    let avx2 = false;
    let fat = if avx2 { config(Some(true)).builder().extend(&needles).build() } else { None };
    fat.or_else(|| config(None).builder().extend(&needles).build())
        .expect("the prefilter needles are a fixed, valid set")
}

impl Prefilter {
    pub fn new() -> Self {
        let payload = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(PAYLOAD_NEEDLES)
            .expect("the prefilter needles are a fixed, valid set");
        Prefilter { all: build_all(true), payload, spring: true }
    }

    /// Without the Spring4Shell needles (a hunt for the `${...}` vulnerabilities only).
    pub fn without_spring(mut self) -> Self {
        self.all = build_all(false);
        self.spring = false;
        self
    }

    /// What a match of pattern `id` at `pos` is, once confirmed: `None` for a false alarm.
    fn classify(&self, hay: &[u8], pos: usize, id: usize) -> Option<Hit> {
        let traces = PAYLOAD_NEEDLES.len() + TRACE_NEEDLES.len();
        if id < PAYLOAD_NEEDLES.len() {
            if confirm(hay, pos, id) {
                return Some(Hit { pos, kind: HitKind::Payload });
            }
            // `%2` and `%5` also start `%25` (an escaped `%`) and `%52` (`R`), Spring4Shell's.
            let spring = self.spring
                && hay.get(pos..pos + 3).is_some_and(|e| SPRING_ESCAPES_IN_PAYLOAD.contains(&e))
                && crate::spring4shell::near_class_loader(hay, pos);
            spring.then(|| Hit { pos: pos.saturating_sub(SPRING_WINDOW), kind: HitKind::Spring })
        } else if id < traces {
            Some(Hit { pos, kind: HitKind::Trace(id - PAYLOAD_NEEDLES.len()) })
        } else {
            let start = pos.saturating_sub(SPRING_WINDOW);
            crate::spring4shell::near_class_loader(hay, pos).then_some(Hit { pos: start, kind: HitKind::Spring })
        }
    }

    /// The next confirmed Spring4Shell needle at or after `from` (see [`SPRING_NEEDLES`]).
    pub fn find_spring(&self, hay: &[u8], from: usize) -> Option<usize> {
        if !self.spring {
            return None;
        }
        let mut from = from;
        while from < hay.len() {
            let m = self.all.find_in(hay, aho_corasick::Span::from(from..hay.len()))?;
            if let Some(Hit { pos, kind: HitKind::Spring }) = self.classify(hay, m.start(), m.pattern().as_usize()) {
                return Some(pos);
            }
            from = m.start() + 1;
        }
        None
    }

    /// The first hit at or after `from`.
    pub fn find(&self, hay: &[u8], from: usize) -> Option<Hit> {
        let mut from = from;
        while from < hay.len() {
            let m = self.all.find_in(hay, aho_corasick::Span::from(from..hay.len()))?;
            if let Some(hit) = self.classify(hay, m.start(), m.pattern().as_usize()) {
                return Some(hit);
            }
            from = m.start() + 1;
        }
        None
    }

    /// Whether `text` holds a payload needle.
    pub fn has_payload(&self, text: &[u8]) -> bool {
        self.payload.find_overlapping_iter(text).any(|m| confirm(text, m.start(), m.pattern().as_usize()))
    }

    /// Every hit in one line, in one search: payload needle positions (with whether the needle
    /// is an encoded form), whether a trace needle occurs, and whether a Spring4Shell one does.
    pub fn line_hits(&self, line: &[u8]) -> LineHits {
        let mut hits = LineHits::default();
        for m in self.all.find_iter(line) {
            let id = m.pattern().as_usize();
            match self.classify(line, m.start(), id) {
                Some(Hit { kind: HitKind::Payload, pos }) => {
                    hits.payload.push((pos, is_encoded(line, pos, id)));
                    // `%25` confirms as a possible `$` escape; it may also hide a letter of
                    // `classLoader` (`classLoad%2565r`).
                    if self.spring
                        && !hits.spring
                        && line.get(pos..pos + 3).is_some_and(|e| SPRING_ESCAPES_IN_PAYLOAD.contains(&e))
                        && crate::spring4shell::near_class_loader(line, pos)
                    {
                        hits.spring = true;
                    }
                }
                Some(Hit { kind: HitKind::Trace(_), .. }) => hits.trace = true,
                Some(Hit { kind: HitKind::Spring, .. }) => hits.spring = true,
                _ => {}
            }
        }
        hits
    }

    /// Whether `text` holds a transport-encoded needle (anything but a plain `${`).
    pub fn has_encoded(&self, text: &[u8]) -> bool {
        self.payload.find_overlapping_iter(text).any(|m| {
            let id = m.pattern().as_usize();
            confirm(text, m.start(), id) && is_encoded(text, m.start(), id)
        })
    }

    /// Whether `text` holds a trace of a successful lookup; the index into [`TRACE_MARKERS`].
    pub fn trace(&self, text: &[u8]) -> Option<usize> {
        let traces = PAYLOAD_NEEDLES.len()..PAYLOAD_NEEDLES.len() + TRACE_NEEDLES.len();
        let needle = self.all.find_iter(text).any(|m| traces.contains(&m.pattern().as_usize()));
        if !needle {
            return None;
        }
        Self::trace_marker(text)
    }

    /// Which of [`TRACE_MARKERS`] `text` contains (the confirmation after a trace needle).
    pub fn trace_marker(text: &[u8]) -> Option<usize> {
        TRACE_MARKERS.iter().position(|m| memchr::memmem::find(text, m.as_bytes()).is_some())
    }

    /// The needles, for tools that should search for the same (the benchmark's `grep -F`).
    pub fn needles() -> impl Iterator<Item = &'static str> {
        PAYLOAD_NEEDLES.iter().chain(TRACE_NEEDLES.iter()).chain(SPRING_NEEDLES.iter()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_openings_are_candidates() {
        let p = Prefilter::new();
        for s in [
            "${",
            "%24%7B",
            "%2524",
            "%25252524",
            "%u0024",
            "\\u0024",
            "%5Cu0024",
            "\\x24",
            "%5Cx24",
            "\\044",
            "&#36;",
            "&#x24;",
            "&#0036",
            "&dollar;",
            "%26%2336%3B",
            "%26dollar%3B",
            "\\u002524",
            "\\x2524",
            "\\04524",
            "&#37;24",
            "\\x26#36;",
            "\\u005cx24",
            "\\134x24",
            "%u005Cx24",
            "&amp;#36;",
            "$\\u007B",
            "$\\x7b",
            "$\\173",
            "$%7B",
            "$\\u007B",
            "$&lbrace;",
        ] {
            let line = format!("GET /a?b={s} HTTP/1.1");
            assert!(p.find(line.as_bytes(), 0).is_some(), "{s}");
            assert!(!p.line_hits(line.as_bytes()).payload.is_empty(), "{s}");
        }
        for s in [
            "%20%2F",
            "&amp;",
            "a&b=c&dir=x",
            "%5B%5D",
            "plain",
            "\\u0022q\\u0022",
            "\\x20",
            "\\012",
            "a&amp;b",
            "\\u00e9",
            "\\xC4\\xB1",
            "cost $5",
        ] {
            let line = format!("GET /a?b={s} HTTP/1.1");
            assert!(p.find(line.as_bytes(), 0).is_none(), "{s}");
        }
    }
}
