//! The [`TextEvaluator`]: an exact port of Apache Commons Text's `StringSubstitutor` as
//! `StringSubstitutor.createInterpolator()` builds it (CVE-2022-42889, "Text4Shell").
//!
//! The port follows `StringSubstitutor.substitute(TextStringBuilder, int, int, List)` of 1.9
//! (unchanged in 1.10.0) line by line: prefix `${`, suffix `}`, escape `$`, default delimiter
//! `:-`, **no** substitution in variable names (the first `}` closes a variable, so
//! `${${lower:j}...}` is not a nested lookup here), but resolved values are substituted again (so
//! `${base64Decoder:...}` or `${urlDecoder:...}` producing `${script:...}` runs the script). An
//! escaped variable (`$${x}`) loses its escape and scanning resumes *inside* it. A variable name
//! repeated on the resolution stack throws `IllegalStateException`.
//!
//! `InterpolatorStringLookup.lookup`: the prefix before the first `:` is lower-cased
//! (`Locale.ROOT`); a known prefix that answers null, or an unknown one, falls back to the
//! default lookup, which in `createInterpolator()` is an empty map (so: null, and the default
//! value applies). The lookups registered by default are [`LOOKUPS_1_9`] (1.5–1.9) and
//! [`LOOKUPS_1_10`] (1.10.0: `script`, `dns` and `url` removed).
//!
//! Lookups that act on the world record what they would do and answer null (the JVM oracle test
//! replaces the same lookups by the same recorders): `script` (engine and code), `dns` (the name
//! resolved), `url` (the URL fetched), `file`, `xml` and `properties` (the document read). They
//! keep the real lookups' argument checks, which throw `IllegalArgumentException` and end the
//! whole substitution. Lookups whose value depends on the attacked JVM answer placeholders
//! (`<java:os>`, `<localhost:name>`, `sys` from the [`Environment`]). `base64Decoder`,
//! `base64Encoder`, `urlDecoder`, `urlEncoder` and `const` (for a table of well-known constants)
//! compute their real values.
//!
//! Positions are byte offsets into UTF-8 text; every marker is ASCII, so they agree with Java's
//! UTF-16 offsets wherever the engine compares them. Work is bounded by [`EvalLimits`].

use crate::eval::{Bounded, Budget, Environment, EvalLimits, closing_suffix, is_opening};
use crate::push_unique;

/// The default lookups of Commons Text 1.5–1.9's interpolator (keys lower-cased, as
/// `InterpolatorStringLookup` stores them).
pub const LOOKUPS_1_9: &[&str] = &[
    "base64",
    "base64decoder",
    "base64encoder",
    "const",
    "date",
    "dns",
    "env",
    "file",
    "java",
    "localhost",
    "properties",
    "resourcebundle",
    "script",
    "sys",
    "url",
    "urldecoder",
    "urlencoder",
    "xml",
];

/// The default lookups of Commons Text 1.10.0 and later.
pub const LOOKUPS_1_10: &[&str] = &[
    "base64",
    "base64decoder",
    "base64encoder",
    "const",
    "date",
    "env",
    "file",
    "java",
    "localhost",
    "properties",
    "resourcebundle",
    "sys",
    "urldecoder",
    "urlencoder",
    "xml",
];

/// Constants the `const` lookup knows (`${const:CLASS.FIELD}`): the ones that spell lookup
/// syntax or are handy for obfuscation. Others answer null, as for a class the JVM cannot load.
pub const KNOWN_CONSTANTS: &[(&str, &str)] = &[
    ("org.apache.commons.text.StringSubstitutor.DEFAULT_VAR_START", "${"),
    ("org.apache.commons.text.StringSubstitutor.DEFAULT_VAR_END", "}"),
    ("org.apache.commons.text.StringSubstitutor.DEFAULT_VAR_DEFAULT", ":-"),
    ("org.apache.commons.text.StringSubstitutor.DEFAULT_ESCAPE", "$"),
    ("org.apache.commons.text.lookup.StringLookupFactory.KEY_SCRIPT", "script"),
    ("org.apache.commons.text.lookup.StringLookupFactory.KEY_DNS", "dns"),
    ("org.apache.commons.text.lookup.StringLookupFactory.KEY_URL", "url"),
    ("org.apache.commons.text.lookup.StringLookupFactory.KEY_FILE", "file"),
    ("org.apache.commons.text.lookup.StringLookupFactory.KEY_BASE64_DECODER", "base64Decoder"),
    ("java.lang.Integer.MAX_VALUE", "2147483647"),
    ("java.lang.Integer.MIN_VALUE", "-2147483648"),
    ("java.lang.Long.MAX_VALUE", "9223372036854775807"),
    ("java.lang.Byte.MAX_VALUE", "127"),
    ("java.lang.Short.MAX_VALUE", "32767"),
    ("java.lang.Character.MIN_RADIX", "2"),
    ("java.lang.Character.MAX_RADIX", "36"),
    ("java.lang.Boolean.TRUE", "true"),
    ("java.lang.Boolean.FALSE", "false"),
    ("java.io.File.separator", "/"),
    ("java.io.File.pathSeparator", ":"),
];

/// Which release line's interpolator to evaluate as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextVersion {
    /// 1.5 through 1.9 (affected).
    V1_9,
    /// 1.10.0 and later (fixed: no `script`, `dns`, `url` by default).
    V1_10,
}

/// An action a lookup would take on the attacked machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TextEvent {
    /// `${script:ENGINE:CODE}`.
    Script { engine: String, code: String },
    /// `${dns:[address|name|canonical-name|]NAME}`: the name resolved.
    Dns(String),
    /// `${url:CHARSET:URL}`: the URL fetched.
    Url(String),
    /// `${file:CHARSET:PATH}`, `${xml:PATH:XPATH}`, `${properties:PATH::KEY}`: the file read.
    File(String),
}

impl TextEvent {
    /// The event as the JVM oracle writes it (`script=ENGINE:CODE`, `dns=NAME`, ...).
    pub fn oracle_form(&self) -> String {
        match self {
            TextEvent::Script { engine, code } => format!("script={engine}:{code}"),
            TextEvent::Dns(n) => format!("dns={n}"),
            TextEvent::Url(u) => format!("url={u}"),
            TextEvent::File(f) => format!("file={f}"),
        }
    }

    /// Whether this is one of the lookups 1.10.0 removed (the vulnerability proper).
    pub fn is_removed_in_1_10(&self) -> bool {
        !matches!(self, TextEvent::File(_))
    }
}

/// How a Commons Text evaluation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextOutcome {
    Completed,
    /// `replace` throws: the Java exception class (`IllegalArgumentException`,
    /// `IllegalStateException` for a cyclic variable, `ArrayIndexOutOfBoundsException`) and why.
    Threw(&'static str, String),
    /// A bound of [`EvalLimits`] was reached.
    Bounded(&'static str),
}

impl TextOutcome {
    /// `ok`, `error:<ExceptionClass>` or `bounded`, as the oracle harness prints it.
    pub fn status(&self) -> String {
        match self {
            TextOutcome::Completed => "ok".into(),
            TextOutcome::Threw(class, _) => format!("error:{class}"),
            TextOutcome::Bounded(_) => "bounded".into(),
        }
    }
}

/// Techniques seen while evaluating (in addition to [`crate::eval::technique`]).
pub mod technique {
    pub const BASE64_DECODER: &str = "base64_decoder";
    pub const URL_DECODER: &str = "url_decoder";
    pub const CONST: &str = "const_lookup";
    pub const VALUE_RECURSION: &str = "value_resubstitution";
    /// A lookup nested in a name (`${${lower:s}cript:...}`), which Commons Text does not resolve.
    pub const NESTED_NAME: &str = "nested_name";
    /// A Log4j lookup (`lower`, `upper`) Commons Text does not have.
    pub const LOG4J_LOOKUP: &str = "log4j_lookup";
}

/// The result of one Commons Text evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEvaluation {
    /// What the lookups would do, in call order, first occurrence only.
    pub events: Vec<TextEvent>,
    pub outcome: TextOutcome,
    pub techniques: Vec<&'static str>,
    /// The substituted text (as far as the evaluation got).
    pub output: String,
}

/// Evaluates text the way `StringSubstitutor.createInterpolator().replace(text)` does.
#[derive(Debug, Clone)]
pub struct TextEvaluator {
    env: Environment,
    limits: EvalLimits,
    /// Whether a configured `env`/`sys` value holds a `$` (then no text is judged inert).
    env_has_dollar: bool,
}

impl Default for TextEvaluator {
    fn default() -> Self {
        TextEvaluator::new(Environment::default(), EvalLimits::default())
    }
}

enum Stop {
    Threw(&'static str, String),
    Bounded(&'static str),
}

impl From<Bounded> for Stop {
    fn from(b: Bounded) -> Self {
        Stop::Bounded(b.0)
    }
}

const IAE: &str = "IllegalArgumentException";

impl TextEvaluator {
    pub fn new(env: Environment, limits: EvalLimits) -> Self {
        let env_has_dollar = env.lookups.values().any(|m| m.values().any(|v| v.contains('$')));
        TextEvaluator { env, limits, env_has_dollar }
    }

    /// One `replace(text)` as `version` does it.
    pub fn evaluate(&self, text: &str, version: TextVersion) -> TextEvaluation {
        self.run(text.to_owned(), version, false)
    }

    /// A forgiving 1.9 evaluation for evidence of intent, nothing Commons Text would do: lookups
    /// nest the way Log4j's do (`${${lower:s}cript:...}`: substitution in variable names, with
    /// Log4j's `lower`/`upper`), a throwing lookup answers null instead of ending the
    /// substitution, and unterminated lookups are closed at the end. An attacker who sends
    /// Log4Shell-style obfuscation to a Commons Text application is still probing.
    pub fn lenient(&self, text: &str) -> TextEvaluation {
        let closed = crate::eval::close_unterminated(text, self.limits.max_depth);
        let unterminated = closed.is_some();
        let mut e = self.run(closed.unwrap_or_else(|| text.to_owned()), TextVersion::V1_9, true);
        if unterminated {
            e.techniques.push(crate::eval::technique::UNTERMINATED);
        }
        e
    }

    fn run(&self, text: String, version: TextVersion, lenient: bool) -> TextEvaluation {
        let mut run = Run {
            ev: self,
            version,
            lenient,
            events: Vec::new(),
            techniques: Vec::new(),
            budget: Budget::new(self.limits),
        };
        let mut buf = text;
        let len = buf.len();
        let outcome = match run.substitute(&mut buf, 0, len, None, 0) {
            Ok(_) => TextOutcome::Completed,
            Err(Stop::Threw(class, why)) => TextOutcome::Threw(class, why),
            Err(Stop::Bounded(what)) => TextOutcome::Bounded(what),
        };
        TextEvaluation { events: run.events, outcome, techniques: run.techniques, output: buf }
    }

    /// A cheap, exact proof that `text` (and every part of it) triggers no [`TextEvent`] in
    /// either version: every `${` is followed, up to the next `}`, by text without `$` whose
    /// prefix (up to `:`) is not one of the acting or decoding lookups — so no value can contain
    /// a new `${` — and the configured environment holds no `$`. (Only lookups named in the text
    /// can run, and only `base64*`, `urlDecoder`, `const`, configured `env`/`sys` values and the
    /// acting ones can produce or act on text.) The JVM oracle test checks it never calls a text
    /// inert that Commons Text acts on.
    pub fn is_inert(&self, text: &[u8]) -> bool {
        !self.env_has_dollar && crate::eval::every_opening(text, Self::opening_inert)
    }

    /// Whether a configured value holds a `$` (then nothing is inert).
    pub fn env_has_dollar(&self) -> bool {
        self.env_has_dollar
    }

    /// Whether the text after one `${` (up to its `}`, without `$`) names no acting or decoding
    /// lookup (a non-ASCII prefix is never inert).
    pub fn opening_inert(inner: &[u8]) -> bool {
        let colon = memchr::memchr(b':', inner);
        let prefix = &inner[..colon.unwrap_or(inner.len())];
        prefix.is_ascii()
            && (colon.is_none() || !RISKY_PREFIXES.iter().any(|p| prefix.eq_ignore_ascii_case(p.as_bytes())))
    }
}

/// Prefixes whose lookups act (script, dns, url, file, xml, properties) or can produce `${`
/// (base64, urlDecoder, const). `env` and `sys` answer configured values, which hold no `$` (or
/// nothing is inert), and `date` formats only the clock and quoted text without `$`.
const RISKY_PREFIXES: &[&str] =
    &["script", "dns", "url", "file", "xml", "properties", "base64", "base64decoder", "urldecoder", "const"];

struct Run<'a> {
    ev: &'a TextEvaluator,
    version: TextVersion,
    /// [`TextEvaluator::lenient`].
    lenient: bool,
    events: Vec<TextEvent>,
    techniques: Vec<&'static str>,
    budget: Budget,
}

impl Run<'_> {
    fn technique(&mut self, t: &'static str) {
        push_unique(&mut self.techniques, t);
    }

    fn event(&mut self, e: TextEvent) {
        push_unique(&mut self.events, e);
    }

    /// The port of `StringSubstitutor.substitute(builder, offset, length, priorVariables)`;
    /// returns the length change.
    fn substitute(
        &mut self,
        buf: &mut String,
        offset: usize,
        length: usize,
        prior: Option<&mut Vec<String>>,
        depth: u32,
    ) -> Result<isize, Stop> {
        self.budget.enter(depth, buf.len())?;
        let mut owned: Option<Vec<String>> = None;
        let mut prior = prior;
        let mut length_change: isize = 0;
        let mut buf_end = offset + length;
        let mut pos = offset;
        let mut esc_pos: Option<usize> = None;
        while pos < buf_end {
            let b = buf.as_bytes();
            if !is_opening(b, pos, buf_end) {
                pos += 1;
                continue;
            }
            if pos > offset && b[pos - 1] == b'$' {
                esc_pos = Some(pos - 1);
            }
            let start_pos = pos;
            // No substitution in variable names: the first `}` closes (the lenient reading nests).
            match closing_suffix(b, pos + 2, buf_end, self.lenient) {
                Err(_) => pos = buf_end,
                Ok(close) => {
                    pos = close;
                    if let Some(e) = esc_pos.take() {
                        buf.remove(e);
                        self.technique(crate::eval::technique::ESCAPE);
                        length_change -= 1;
                        buf_end -= 1;
                        pos = start_pos + 1;
                        self.budget.step(1)?;
                        continue;
                    }
                    let mut var_name_expr = buf[start_pos + 2..pos].to_owned();
                    if self.lenient && var_name_expr.contains("${") {
                        self.technique(technique::NESTED_NAME);
                        let len = var_name_expr.len();
                        self.substitute(&mut var_name_expr, 0, len, None, depth + 1)?;
                    }
                    pos += 1;
                    let end_pos = pos;
                    let (var_name, default) = if self.lenient {
                        match var_name_expr.split_once(":-") {
                            Some((n, d)) => (n.to_owned(), Some(d.to_owned())),
                            None => (var_name_expr.clone(), None),
                        }
                    } else {
                        split_name_default(&var_name_expr)
                    };
                    let prior_vec: &mut Vec<String> = match prior.as_deref_mut() {
                        Some(p) => p,
                        None => owned.get_or_insert_with(|| {
                            let mut end = (offset + length).min(buf.len());
                            while !buf.is_char_boundary(end) {
                                end -= 1;
                            }
                            vec![buf[offset.min(end)..end].to_owned()]
                        }),
                    };
                    if prior_vec.contains(&var_name) {
                        return Err(Stop::Threw("IllegalStateException", format!("infinite loop at {var_name:?}")));
                    }
                    prior_vec.push(var_name.clone());
                    let mut value = match self.resolve(&var_name) {
                        Err(Stop::Threw(..)) if self.lenient => None,
                        other => other?,
                    };
                    if value.is_none() && default.is_some() {
                        self.technique(crate::eval::technique::DEFAULT_VALUE);
                        value = default;
                    }
                    if let Some(value) = value {
                        let var_len = value.len();
                        buf.replace_range(start_pos..end_pos, &value);
                        self.budget.buffer(buf.len())?;
                        if value.contains("${") {
                            self.technique(technique::VALUE_RECURSION);
                        }
                        let prior_again: &mut Vec<String> = match prior.as_deref_mut() {
                            Some(p) => p,
                            None => owned.get_or_insert_with(Vec::new),
                        };
                        let mut change = self.substitute(buf, start_pos, var_len, Some(prior_again), depth + 1)?;
                        change += var_len as isize - (end_pos - start_pos) as isize;
                        pos = (pos as isize + change) as usize;
                        buf_end = (buf_end as isize + change) as usize;
                        length_change += change;
                    }
                    let prior_vec: &mut Vec<String> = match prior.as_deref_mut() {
                        Some(p) => p,
                        None => owned.get_or_insert_with(Vec::new),
                    };
                    prior_vec.pop();
                }
            }
            self.budget.step(pos.saturating_sub(start_pos) as u64)?;
        }
        self.budget.step((buf_end.saturating_sub(offset)) as u64 / 8 + 1)?;
        Ok(length_change)
    }

    /// `InterpolatorStringLookup.lookup(var)`.
    fn resolve(&mut self, var: &str) -> Result<Option<String>, Stop> {
        self.budget.lookup()?;
        let Some(colon) = var.find(':') else { return Ok(None) };
        let raw_prefix = &var[..colon];
        let prefix = raw_prefix.to_lowercase();
        if self.lenient && (prefix == "lower" || prefix == "upper") {
            self.technique(technique::LOG4J_LOOKUP);
            let key = &var[colon + 1..];
            return Ok(Some(if prefix == "lower" { key.to_lowercase() } else { key.to_uppercase() }));
        }
        let known = match self.version {
            TextVersion::V1_9 => LOOKUPS_1_9,
            TextVersion::V1_10 => LOOKUPS_1_10,
        };
        if !known.contains(&prefix.as_str()) {
            return Ok(None);
        }
        if raw_prefix != documented_spelling(&prefix) {
            self.technique(crate::eval::technique::MIXED_CASE);
        }
        self.lookup(&prefix, &var[colon + 1..])
    }

    fn lookup(&mut self, prefix: &str, key: &str) -> Result<Option<String>, Stop> {
        let iae = |why: String| Err(Stop::Threw(IAE, why));
        match prefix {
            "base64" | "base64decoder" => {
                self.technique(technique::BASE64_DECODER);
                Ok(java_base64_decode(key).map(|bytes| bytes.iter().map(|&b| char::from(b)).collect()))
            }
            "base64encoder" => {
                let bytes: Vec<u8> = key.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).collect();
                Ok(Some(base64_encode(&bytes)))
            }
            "const" => {
                self.technique(technique::CONST);
                Ok(KNOWN_CONSTANTS.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned()))
            }
            "date" => match date_pattern_literal(key) {
                Some(Ok(s)) => Ok(Some(s)),
                Some(Err(())) => iae(format!("invalid date format {key:?}")),
                None => Ok(Some(crate::eval::format_date(key))),
            },
            "dns" => {
                let trimmed = java_trim(key);
                let keys = java_split(trimmed, "|");
                if keys.is_empty() {
                    return Err(Stop::Threw("ArrayIndexOutOfBoundsException", format!("dns key {key:?}")));
                }
                let name = if keys.len() < 2 { key } else { java_trim(keys[1]) };
                self.event(TextEvent::Dns(name.to_owned()));
                Ok(None)
            }
            "env" | "sys" => Ok(self.ev.env.lookups.get(prefix).and_then(|m| m.get(key)).cloned()),
            "file" | "url" => {
                if java_split(key, ":").len() < 2 {
                    return iae(format!("bad {prefix} key {key:?}"));
                }
                let rest = key.split_once(':').map_or("", |(_, r)| r).to_owned();
                self.event(if prefix == "url" { TextEvent::Url(rest) } else { TextEvent::File(rest) });
                Ok(None)
            }
            "xml" => {
                let keys = java_split(key, ":");
                if keys.len() != 2 {
                    return iae(format!("bad xml key {key:?}"));
                }
                self.event(TextEvent::File(keys[0].to_owned()));
                Ok(None)
            }
            "properties" => {
                let keys = java_split(key, "::");
                if keys.len() < 2 {
                    return iae(format!("bad properties key {key:?}"));
                }
                self.event(TextEvent::File(keys[0].to_owned()));
                Ok(None)
            }
            "resourcebundle" => {
                if java_split(key, ":").len() != 2 {
                    return iae(format!("bad resource bundle key {key:?}"));
                }
                Ok(None)
            }
            "java" => match key {
                "version" | "runtime" | "vm" | "os" | "hardware" | "locale" => Ok(Some(format!("<java:{key}>"))),
                _ => iae(format!("java lookup: unknown key {key:?}")),
            },
            "localhost" => match key {
                "name" | "canonical-name" | "address" => Ok(Some(format!("<localhost:{key}>"))),
                _ => iae(format!("localhost lookup: unknown key {key:?}")),
            },
            "script" => {
                let Some((engine, code)) = key.split_once(':') else {
                    return iae(format!("bad script key {key:?}"));
                };
                self.event(TextEvent::Script { engine: engine.to_owned(), code: code.to_owned() });
                Ok(None)
            }
            "urldecoder" => {
                self.technique(technique::URL_DECODER);
                match java_url_decode(key) {
                    Some(s) => Ok(Some(s)),
                    None => iae(format!("urlDecoder: bad escape in {key:?}")),
                }
            }
            "urlencoder" => Ok(Some(java_url_encode(key))),
            _ => Ok(None),
        }
    }
}

/// The keys `StringLookupFactory` and its documentation spell in camel case; the others are all
/// lower case.
const CAMEL_CASE_KEYS: &[&str] = &["base64Decoder", "base64Encoder", "resourceBundle", "urlDecoder", "urlEncoder"];

/// How `StringLookupFactory` spells the (lower-cased) lookup key `prefix`; any other case is a
/// [`crate::eval::technique::MIXED_CASE`] obfuscation.
fn documented_spelling(prefix: &str) -> &str {
    CAMEL_CASE_KEYS.iter().copied().find(|k| k.eq_ignore_ascii_case(prefix)).unwrap_or(prefix)
}

/// The name/default split of Commons Text's `substitute` (substitution in variables disabled):
/// at the first `:-`, unless a `${` comes first, in which case there is no default.
fn split_name_default(expr: &str) -> (String, Option<String>) {
    let b = expr.as_bytes();
    for i in 0..b.len() {
        if b[i..].starts_with(b"${") {
            break;
        }
        if b[i..].starts_with(b":-") {
            return (expr[..i].to_owned(), Some(expr[i + 2..].to_owned()));
        }
    }
    (expr.to_owned(), None)
}

/// `String.trim()`: strips characters up to U+0020 at both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `String.split(sep)` for a literal separator: every occurrence splits, trailing empty strings
/// are removed, and a string without the separator is one element (even when empty).
pub fn java_split<'s>(s: &'s str, sep: &str) -> Vec<&'s str> {
    if !s.contains(sep) {
        return vec![s];
    }
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// `java.util.Base64.getDecoder().decode(s)`: the basic alphabet, padding optional but exact
/// when present; anything else is an error (which the lookup turns into null).
pub fn java_base64_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for (i, &c) in b.iter().enumerate() {
        if c == b'=' {
            // Padding: only after 2 or 3 symbols of a quantum, exactly enough, and nothing after.
            let need = match bits {
                12 => 2,
                18 => 1,
                _ => return None,
            };
            if b.len() - i != need || b[i..].iter().any(|&x| x != b'=') {
                return None;
            }
            break;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits == 24 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            bits = 0;
        }
    }
    match bits {
        0 => {}
        12 => out.push((acc >> 4) as u8),
        18 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    Some(out)
}

/// `Base64.getEncoder().encodeToString(data)`: the basic alphabet, with padding.
pub fn base64_encode(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `URLDecoder.decode(s, "UTF-8")`: `+` is a space, runs of `%HH` are UTF-8 bytes (malformed
/// sequences become U+FFFD); a `%` without two hex digits (or a negative value) is an error.
pub fn java_url_decode(s: &str) -> Option<String> {
    if !s.contains(['%', '+']) {
        return Some(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(' ');
                i += 1;
            }
            b'%' => {
                let mut bytes = Vec::new();
                while i < b.len() && b[i] == b'%' {
                    // `Integer.parseInt(s.substring(i + 1, i + 3), 16)`: a sign is allowed, and a
                    // negative value is refused.
                    let h = b.get(i + 1..i + 3)?;
                    let v: i32 = match h[0] {
                        b'+' => (h[1] as char).to_digit(16)? as i32,
                        b'-' => -((h[1] as char).to_digit(16)? as i32),
                        _ => ((h[0] as char).to_digit(16)? * 16 + (h[1] as char).to_digit(16)?) as i32,
                    };
                    if v < 0 {
                        return None;
                    }
                    bytes.push(v as u8);
                    i += 3;
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            _ => {
                let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&s[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
    Some(out)
}

/// `URLEncoder.encode(s, "UTF-8")`.
pub fn java_url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | '_') {
            out.push(c);
        } else if c == ' ' {
            out.push('+');
        } else {
            let mut tmp = [0u8; 4];
            for b in c.encode_utf8(&mut tmp).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// The pattern letters `FastDatePrinter` formats.
const DATE_LETTERS: &str = "GyYuMLdhHmsSEDFwWkKazZX";

/// A `FastDateFormat` pattern made only of quoted literals and non-letters: its output, or an
/// error for an unterminated quote. `None` when the pattern has date letters (then the output
/// depends on the clock).
fn date_pattern_literal(pattern: &str) -> Option<Result<String, ()>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut has_letter = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // `FastDatePrinter` takes an unterminated quote to the end as literal text.
            i = crate::eval::date_quote(&chars, i, &mut out).unwrap_or(chars.len());
            continue;
        }
        if c.is_ascii_alphabetic() {
            // `FastDatePrinter` refuses letters it has no field for.
            if !DATE_LETTERS.contains(c) {
                return Some(Err(()));
            }
            has_letter = true;
        }
        out.push(c);
        i += 1;
    }
    if has_letter { None } else { Some(Ok(out)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> TextEvaluation {
        TextEvaluator::default().evaluate(s, TextVersion::V1_9)
    }

    #[test]
    fn substitution_rules() {
        assert_eq!(ev("${x}").output, "${x}");
        assert_eq!(ev("${::-j}").output, "j");
        assert_eq!(ev("$${x}").output, "${x}");
        assert_eq!(ev("${x:-${y}}").output, "${y}");
        assert_eq!(ev("${base64Decoder:SGk=}").output, "Hi");
        assert_eq!(ev("${urlEncoder:a b/}").output, "a+b%2F");
        assert_eq!(ev("${const:java.lang.Integer.MAX_VALUE}").output, "2147483647");
        assert_eq!(ev("${date:'j'}").output, "j");
    }

    #[test]
    fn acting_lookups_are_recorded() {
        let e = ev("${script:javascript:java.lang.Runtime.getRuntime().exec('id')}");
        assert_eq!(
            e.events,
            [TextEvent::Script {
                engine: "javascript".into(),
                code: "java.lang.Runtime.getRuntime().exec('id')".into()
            }]
        );
        // A value is substituted again: base64 of `${dns:address|x.example}`.
        let e = ev("${base64Decoder:JHtkbnM6YWRkcmVzc3x4LmV4YW1wbGV9}");
        assert_eq!(e.events, [TextEvent::Dns("x.example".into())]);
        assert!(e.techniques.contains(&technique::VALUE_RECURSION));
        let e = ev("${URL:UTF-8:http://198.51.100.7/x}");
        assert_eq!(e.events, [TextEvent::Url("http://198.51.100.7/x".into())]);
        // 1.10.0 has no script lookup.
        let e = TextEvaluator::default().evaluate("${script:js:1}", TextVersion::V1_10);
        assert!(e.events.is_empty());
        // Names are not substituted: the first `}` closes.
        assert!(ev("${${lower:s}cript:js:1}").events.is_empty());
    }

    #[test]
    fn lenient_reads_log4j_style_obfuscation() {
        let ev = TextEvaluator::default();
        let p = concat!("${${lower:S}cr", "ipt:js:1}");
        assert!(ev.evaluate(p, TextVersion::V1_9).events.is_empty(), "nesting in names does not work");
        let e = ev.lenient(p);
        assert_eq!(e.events, [TextEvent::Script { engine: "js".into(), code: "1".into() }]);
        assert!(e.techniques.contains(&technique::NESTED_NAME) && e.techniques.contains(&technique::LOG4J_LOOKUP));
        let e = ev.lenient("${dns:address|x.example");
        assert_eq!(e.events, [TextEvent::Dns("x.example".into())]);
        assert!(ev.lenient("${x:-${y}} ${FREE_PVS}").events.is_empty());
    }

    #[test]
    fn exceptions_end_the_substitution() {
        assert_eq!(ev("${script:x}").outcome.status(), "error:IllegalArgumentException");
        assert_eq!(ev("${dns:|}").outcome.status(), "error:ArrayIndexOutOfBoundsException");
        assert_eq!(ev("${urlDecoder:%G}").outcome.status(), "error:IllegalArgumentException");
        assert_eq!(ev("${base64Decoder:JHt4fQ==}").output, "${x}");
    }

    #[test]
    fn helpers() {
        assert_eq!(java_split("a:b:", ":"), ["a", "b"]);
        assert_eq!(java_split(":::", ":"), Vec::<&str>::new());
        assert_eq!(java_split("", ":"), [""]);
        assert_eq!(java_base64_decode("SGk"), Some(b"Hi".to_vec()));
        assert_eq!(java_base64_decode("SGk="), Some(b"Hi".to_vec()));
        assert_eq!(java_base64_decode("SGk=="), None);
        assert_eq!(java_base64_decode("S"), None);
        assert_eq!(java_url_decode("%24%7B+x").as_deref(), Some("${ x"));
        assert_eq!(java_url_decode("%2"), None);
    }
}
