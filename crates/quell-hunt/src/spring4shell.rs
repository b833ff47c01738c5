//! Spring4Shell (CVE-2022-22965) in access logs: request parameters that Spring's data binding
//! follows into `class.module.classLoader` (JDK 9+), the Tomcat `AccessLogValve` properties such
//! requests write to drop a JSP (`...pipeline.first.pattern|suffix|directory|prefix|
//! fileDateFormat`), and later requests for the dropped file.
//!
//! Parameters are taken from query strings and from any other `name=value&...` text of a line
//! (form bodies some formats log), split on `&` *before* decoding (so an encoded `%26` stays in
//! its value), then each name and value is percent-decoded (`+` is a space) until it no longer
//! changes, at most [`MAX_DECODE_ROUNDS`] times.
//!
//! A name binds when its path holds the segments `class`, `module`, `classLoader` in a row, each
//! spelled as Spring's `CachedIntrospectionResults.getPropertyDescriptor` accepts it (as written,
//! or with its first letter's case swapped); any other spelling (`CLASS.MODULE.CLASSLOADER`,
//! `class.classLoader`, blocked since 2010) is still an attempt, but `functional: false`.
//!
//! [`ValveTracker`] accumulates the valve properties per source address (exploit scripts often
//! set one property per request) and knows which file names were dropped, so that the hunter can
//! look for requests to them. Its memory is bounded by [`MAX_TRACKED_SOURCES`] and
//! [`MAX_DROPPED_FILES`].

use std::collections::HashMap;

use quell_model::hunt::{BoundParameter, Sighting, Spring4Shell};

/// Percent-decoding rounds applied to a parameter name or value.
pub const MAX_DECODE_ROUNDS: usize = 4;
/// Parameters kept per request.
pub const MAX_PARAMETERS: usize = 32;
/// Longest parameter value kept, in characters.
pub const MAX_VALUE_CHARS: usize = 4096;
/// Source addresses whose partial valve settings are remembered (per log source).
pub const MAX_TRACKED_SOURCES: usize = 4096;
/// Dropped file names looked for in later requests (per log source).
pub const MAX_DROPPED_FILES: usize = 256;
/// Shortest file-name needle looked for (shorter ones would match everything).
pub const MIN_DROPPED_NEEDLE: usize = 4;

/// Stages of an attempt (the `stage` of [`Spring4Shell`]).
pub mod stage {
    pub const PROBE: &str = "probe";
    pub const WRITE: &str = "write";
    pub const WEBSHELL: &str = "webshell";
}

/// Techniques of a Spring4Shell attempt.
pub mod technique {
    pub const URL_ENCODED: &str = "url_encoded_parameter";
    pub const CAPITALISED: &str = "capitalised_property";
    pub const MANGLED_CASE: &str = "mangled_case";
    pub const INDEXED: &str = "indexed_property";
    pub const LEGACY_PATH: &str = "class_classloader_path";
}

/// The `AccessLogValve` properties an attack writes.
pub const VALVE_PROPERTIES: &[&str] = &["pattern", "suffix", "directory", "prefix", "fileDateFormat"];

/// The Spring4Shell evidence of one text (a request URI, a body).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Binding {
    pub parameters: Vec<BoundParameter>,
    pub functional: bool,
    pub techniques: Vec<&'static str>,
    /// Valve properties set by this request: (property, value).
    pub valve: Vec<(&'static str, String)>,
}

/// Percent-decodes (`+` as space) until stable, at most [`MAX_DECODE_ROUNDS`] times; whether
/// anything changed.
fn decode_component(s: &str) -> (String, bool) {
    let mut cur = s.to_owned();
    let mut changed = false;
    for _ in 0..MAX_DECODE_ROUNDS {
        if !cur.contains(['%', '+']) {
            break;
        }
        let b = cur.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    let hex = b
                        .get(i + 1..i + 3)
                        .and_then(|h| Some((h[0] as char).to_digit(16)? * 16 + (h[1] as char).to_digit(16)?));
                    if let Some(v) = hex {
                        out.push(v as u8);
                        i += 3;
                        continue;
                    }
                    out.push(b'%');
                }
                b'+' => out.push(b' '),
                c => out.push(c),
            }
            i += 1;
        }
        let next = String::from_utf8_lossy(&out).into_owned();
        if next == cur {
            break;
        }
        changed = true;
        cur = next;
    }
    (cur, changed)
}

/// Whether `seg` is the property `want` as Spring resolves it: as written or with the first
/// letter's case swapped.
fn spring_spelling(seg: &str, want: &str) -> bool {
    if seg == want {
        return true;
    }
    let mut a = seg.chars();
    let mut b = want.chars();
    match (a.next(), b.next()) {
        (Some(x), Some(y)) => x.to_lowercase().eq(y.to_lowercase()) && a.as_str() == b.as_str(),
        _ => false,
    }
}

/// A property segment without its `[index]`.
fn segment_name(seg: &str) -> &str {
    seg.split('[').next().unwrap_or(seg)
}

/// Looks at one decoded parameter name; `None` when it does not reach a class loader.
fn classify_name(name: &str, techniques: &mut Vec<&'static str>) -> Option<(bool, Option<&'static str>)> {
    let lower = name.to_ascii_lowercase();
    if !lower.contains("classloader") {
        return None;
    }
    let segs: Vec<&str> = name.split('.').map(segment_name).collect();
    let mut functional = false;
    let mut found = false;
    for w in segs.windows(3) {
        if w[0].eq_ignore_ascii_case("class")
            && w[1].eq_ignore_ascii_case("module")
            && w[2].eq_ignore_ascii_case("classloader")
        {
            found = true;
            if spring_spelling(w[0], "class") && spring_spelling(w[1], "module") && spring_spelling(w[2], "classLoader")
            {
                functional = true;
                if w[0] != "class" || w[1] != "module" || w[2] != "classLoader" {
                    push(techniques, technique::CAPITALISED);
                }
            } else {
                push(techniques, technique::MANGLED_CASE);
            }
        }
    }
    if !found {
        // `class.classLoader` (CVE-2010-1622, blocked since) or another spelling: intent only.
        if segs.windows(2).any(|w| w[0].eq_ignore_ascii_case("class") && w[1].eq_ignore_ascii_case("classloader")) {
            push(techniques, technique::LEGACY_PATH);
        } else {
            return None;
        }
    }
    if name.contains('[') {
        push(techniques, technique::INDEXED);
    }
    let valve = match segs.len() {
        n if n >= 3 && segs[n - 3].eq_ignore_ascii_case("pipeline") && segs[n - 2].eq_ignore_ascii_case("first") => {
            VALVE_PROPERTIES.iter().copied().find(|p| segs[n - 1].eq_ignore_ascii_case(p))
        }
        _ => None,
    };
    Some((functional, valve))
}

fn push(v: &mut Vec<&'static str>, t: &'static str) {
    if !v.contains(&t) {
        v.push(t);
    }
}

/// Bytes on each side of a Spring4Shell needle that [`near_class_loader`] decodes: a
/// `classLoader` spelled with every letter percent-escaped (`%63%6C…`, 33 bytes) fits.
pub const CLASS_LOADER_WINDOW: usize = 48;

/// Whether the text around `pos` (a prefilter needle: `ader` in any case, or a percent-escaped
/// letter), percent-decoded to a fixed point, says `classloader` in any case. Bounded:
/// 2 × [`CLASS_LOADER_WINDOW`] bytes, at most `MAX_DECODE_ROUNDS` rounds.
pub fn near_class_loader(hay: &[u8], pos: usize) -> bool {
    let start = pos.saturating_sub(CLASS_LOADER_WINDOW);
    let end = pos.saturating_add(CLASS_LOADER_WINDOW).min(hay.len());
    let Some(window) = hay.get(start..end) else { return false };
    let plain = |w: &[u8]| w.windows(11).any(|x| x.eq_ignore_ascii_case(b"classloader"));
    if plain(window) {
        return true;
    }
    if !window.contains(&b'%') {
        return false;
    }
    let (decoded, _) = decode_component(&String::from_utf8_lossy(window));
    plain(decoded.as_bytes())
}

/// Whether `text` may hold a class-loader parameter (a cheap test before [`binding`]): a
/// Spring4Shell needle whose surroundings decode to `classloader`.
pub fn mentions_class_loader(text: &[u8]) -> bool {
    crate::prefilter::SPRING_NEEDLES
        .iter()
        .chain(["%25", "%52"].iter())
        .any(|needle| memchr::memmem::find_iter(text, needle.as_bytes()).any(|pos| near_class_loader(text, pos)))
}

/// The class-loader parameters of a text: a URI (`/path?a=b&c=d`), a form body, or a line holding
/// such text. `None` when none binds.
pub fn binding(text: &str) -> Option<Binding> {
    let mut out = Binding::default();
    let mut any_functional = false;
    let mut any = false;
    for token in text.split(|c: char| c.is_whitespace() || c == '"') {
        let query = token.split_once('?').map_or(token, |(_, q)| q);
        for pair in query.split('&') {
            // A parameter has a value (`a.b=` at least): Java stack traces name
            // `java.lang.ClassLoader.loadClass(...)` without one.
            let Some((raw_name, raw_value)) = pair.split_once('=') else { continue };
            if raw_name.is_empty() || raw_name.contains(['(', ')', '/', ':']) {
                continue;
            }
            let (name, name_encoded) = decode_component(raw_name);
            let Some((functional, valve)) = classify_name(&name, &mut out.techniques) else { continue };
            any = true;
            any_functional |= functional;
            if name_encoded {
                push(&mut out.techniques, technique::URL_ENCODED);
            }
            let (value, _) = decode_component(raw_value);
            let value: String = value.chars().take(MAX_VALUE_CHARS).collect();
            if let Some(p) = valve {
                out.valve.push((p, value.clone()));
            }
            if out.parameters.len() < MAX_PARAMETERS {
                out.parameters.push(BoundParameter { name, value });
            }
        }
    }
    out.functional = any_functional;
    any.then_some(out)
}

/// Valve settings seen from one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Valve {
    props: HashMap<&'static str, String>,
}

/// A file a valve write drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedFile {
    /// `prefix` + `fileDateFormat` as given + `suffix`.
    pub name: String,
    pub prefix: String,
    pub suffix: String,
    /// Whether the name holds a date pattern (then only prefix and suffix are matched).
    pub dated: bool,
    pub source_ip: Option<String>,
    pub seen: Sighting,
}

impl DroppedFile {
    /// The text looked for in later lines.
    pub fn needle(&self) -> &str {
        if self.dated || self.prefix.is_empty() {
            if self.prefix.len() >= self.suffix.len() { &self.prefix } else { &self.suffix }
        } else {
            &self.name
        }
    }

    /// Whether a request path names this file (its last segment).
    pub fn matches_path(&self, path: &str) -> bool {
        let last = path.rsplit('/').next().unwrap_or(path);
        if self.dated {
            last.starts_with(&self.prefix)
                && last.ends_with(&self.suffix)
                && last.len() > self.prefix.len() + self.suffix.len()
        } else {
            last == self.name
        }
    }
}

/// Per log source: valve properties per source address, and the files they drop.
#[derive(Debug, Default)]
pub struct ValveTracker {
    valves: HashMap<Option<String>, Valve>,
    dropped: Vec<DroppedFile>,
    finder: Option<aho_corasick::AhoCorasick>,
    generation: u64,
}

impl ValveTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the valve properties of one request from `source_ip`; returns the detail for its
    /// record: the properties known so far from that source and the written file name.
    pub fn record(&mut self, b: &Binding, source_ip: Option<&str>, seen: &Sighting) -> Spring4Shell {
        let mut detail = Spring4Shell {
            stage: if b.valve.is_empty() { stage::PROBE } else { stage::WRITE }.to_owned(),
            parameters: b.parameters.clone(),
            ..Default::default()
        };
        if b.valve.is_empty() {
            return detail;
        }
        let key = source_ip.map(str::to_owned);
        if !self.valves.contains_key(&key) && self.valves.len() >= MAX_TRACKED_SOURCES {
            // Forget the settings of an arbitrary other source rather than grow without bound.
            if let Some(k) = self.valves.keys().next().cloned() {
                self.valves.remove(&k);
            }
        }
        let valve = self.valves.entry(key).or_default();
        for (p, v) in &b.valve {
            valve.props.insert(p, v.clone());
        }
        let get = |p: &str| valve.props.get(p).cloned();
        detail.pattern = get("pattern");
        detail.suffix = get("suffix");
        detail.directory = get("directory");
        detail.prefix = get("prefix");
        detail.file_date_format = get("fileDateFormat");
        let prefix = detail.prefix.clone().unwrap_or_default();
        let suffix = detail.suffix.clone().unwrap_or_default();
        let date = detail.file_date_format.clone().unwrap_or_default();
        if !prefix.is_empty() || !suffix.is_empty() {
            let name = format!("{prefix}{date}{suffix}");
            detail.written_file = Some(name.clone());
            let file = DroppedFile {
                name,
                prefix,
                suffix,
                dated: !date.is_empty(),
                source_ip: source_ip.map(str::to_owned),
                seen: seen.clone(),
            };
            self.add_dropped(file);
        }
        detail
    }

    fn add_dropped(&mut self, file: DroppedFile) {
        if file.needle().len() < MIN_DROPPED_NEEDLE || file.needle().contains(['/', '\\']) {
            return;
        }
        if self.dropped.iter().any(|d| d.name == file.name && d.source_ip == file.source_ip) {
            return;
        }
        if self.dropped.len() >= MAX_DROPPED_FILES {
            self.dropped.remove(0);
        }
        self.dropped.push(file);
        let needles: Vec<&str> = self.dropped.iter().map(DroppedFile::needle).collect();
        self.finder = aho_corasick::AhoCorasick::new(needles).ok();
        self.generation += 1;
    }

    /// Changes whenever the set of dropped files changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The next position at or after `from` where a dropped file's name occurs.
    pub fn find(&self, hay: &[u8], from: usize) -> Option<usize> {
        let f = self.finder.as_ref()?;
        f.find(aho_corasick::Input::new(hay).range(from..)).map(|m| m.start())
    }

    /// The dropped files a request path names.
    pub fn requested(&self, path: &str) -> Vec<&DroppedFile> {
        self.dropped.iter().filter(|d| d.matches_path(path)).collect()
    }

    pub fn has_dropped(&self) -> bool {
        !self.dropped.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "class.module.classLoader.resources.context.parent.pipeline.first";

    #[test]
    fn bindings() {
        let b = binding(&format!("/app?{P}.suffix=.jsp&{P}.prefix=tomcatwar&x=1")).expect("binds");
        assert!(b.functional);
        assert_eq!(b.valve, [("suffix", ".jsp".to_owned()), ("prefix", "tomcatwar".to_owned())]);
        let enc = "/?class%2Emodule%2EclassLoader%2EURLs%5B0%5D=0";
        let b = binding(enc).expect("binds");
        assert!(b.functional && b.techniques.contains(&technique::URL_ENCODED));
        assert!(b.techniques.contains(&technique::INDEXED));
        let b = binding("/?Class.Module.ClassLoader.x=1").expect("binds");
        assert!(b.functional && b.techniques.contains(&technique::CAPITALISED));
        let b = binding("/?%63lass.module.%63lass%4Coader.x=1").expect("encoded letters bind");
        for encoded in [
            "/?class.module.classL%6Fader.resources.context.parent.pipeline.first.pattern=x",
            "/?class.module.classLoa%64er.x=1",
            "/?class.module.classLoad%2565r.x=1",
            "/?class%2Emodule%2E%63%6C%61%73%73%4C%6F%61%64%65%72.x=1",
        ] {
            assert!(mentions_class_loader(encoded.as_bytes()), "{encoded}: the prefilter");
            assert!(binding(encoded).is_some_and(|b| b.functional), "{encoded}: binds");
        }
        for benign in ["/search?q=header%20reader&x=%41BC", "GET /downloader?file=a%2Fb", "Loader: %6Fk"] {
            assert!(!mentions_class_loader(benign.as_bytes()), "{benign}");
        }
        assert!(b.functional && b.techniques.contains(&technique::URL_ENCODED));
        let b = binding("/?CLASS.MODULE.CLASSLOADER.x=1").expect("an attempt");
        assert!(!b.functional && b.techniques.contains(&technique::MANGLED_CASE));
        assert!(!binding("/?class.classLoader.x=1").expect("an attempt").functional);
        assert!(binding("/download?loader=classLoader").is_none());
        assert!(binding("/x?a=b").is_none());
        // An encoded `&` stays in its value.
        let b = binding(&format!("/?{P}.pattern=%25%7Bc2%7Di%26x")).expect("binds");
        assert_eq!(b.valve[0].1, "%{c2}i&x");
    }

    #[test]
    fn tracker_correlates_by_file_and_source() {
        let mut t = ValveTracker::new();
        let seen = Sighting { file: "a.log".into(), line: 1, time: None };
        let b = binding(&format!("/?{P}.prefix=tomcatwar")).expect("binds");
        let d = t.record(&b, Some("203.0.113.9"), &seen);
        assert_eq!(d.written_file.as_deref(), Some("tomcatwar"));
        let b = binding(&format!("/?{P}.suffix=.jsp&{P}.fileDateFormat=")).expect("binds");
        let d = t.record(&b, Some("203.0.113.9"), &seen);
        assert_eq!(d.written_file.as_deref(), Some("tomcatwar.jsp"));
        assert_eq!(d.prefix.as_deref(), Some("tomcatwar"));
        assert_eq!(t.requested("/tomcatwar.jsp").len(), 1);
        assert!(t.requested("/other.jsp").is_empty());
        let hay = b"GET /tomcatwar.jsp?pwd=j&cmd=id";
        assert_eq!(t.find(hay, 0), Some(5));
    }
}
