//! The [`Evaluator`]: an exact port of Log4j 2.14.1's `StrSubstitutor` and `Interpolator`.
//!
//! The port follows `StrSubstitutor.substitute(LogEvent, StringBuilder, int, int, List)` line by
//! line (prefix `${`, suffix `}`, escape `$`, default delimiter `:-`, escaped delimiter `:\-`,
//! substitution in variable names enabled) and `Interpolator.lookup` (the prefix before the first
//! `:` is lower-cased; an unknown prefix, or a lookup that answers null, falls back to the
//! properties map with the text after the colon). The `jndi` lookup records its name and answers
//! null. `MessagePatternConverter`'s re-substitution loop of 2.14.1 is in [`Evaluator::message`].
//!
//! Positions are byte offsets into UTF-8 text; every marker the engine looks for is ASCII, so they
//! agree with Java's UTF-16 offsets wherever the engine compares them. The converter loop, which
//! keeps an absolute index across rewrites, counts in UTF-16 units like Java.
//!
//! Work is bounded by [`EvalLimits`]: hostile payloads end in [`Outcome::Bounded`], never a hang.

use std::collections::HashMap;

use crate::push_unique;

/// Default for [`EvalLimits::max_lookups`].
pub const DEFAULT_MAX_LOOKUPS: u32 = 4_096;
/// Default for [`EvalLimits::max_depth`].
pub const DEFAULT_MAX_DEPTH: u32 = 128;
/// Default for [`EvalLimits::max_buffer`] (bytes).
pub const DEFAULT_MAX_BUFFER: usize = 1 << 20;
/// Default for [`EvalLimits::max_rescan_passes`].
pub const DEFAULT_MAX_RESCAN_PASSES: u32 = 64;
/// Default for [`EvalLimits::max_steps`].
pub const DEFAULT_MAX_STEPS: u64 = 20_000_000;

/// Hard bounds on the work spent on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalLimits {
    /// Variable resolutions (lookups) per message and mode.
    pub max_lookups: u32,
    /// Nesting of `substitute` calls (variable names inside names, values inside values).
    pub max_depth: u32,
    /// Length in bytes of any buffer being substituted.
    pub max_buffer: usize,
    /// Whole-message substitutions of the 2.14.1 message-converter loop.
    pub max_rescan_passes: u32,
    /// Characters examined, summed over every pass.
    pub max_steps: u64,
}

impl Default for EvalLimits {
    fn default() -> Self {
        EvalLimits {
            max_lookups: DEFAULT_MAX_LOOKUPS,
            max_depth: DEFAULT_MAX_DEPTH,
            max_buffer: DEFAULT_MAX_BUFFER,
            max_rescan_passes: DEFAULT_MAX_RESCAN_PASSES,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }
}

/// Placeholder the default environment gives `${hostName}`.
pub const HOSTNAME_PLACEHOLDER: &str = "<HOSTNAME>";

/// The lookups registered by a 2.14.1 configuration (core plugins). Others (`web`, `docker`,
/// `k8s`, `spring`, anything an attacker invents) are unknown and fall back to the properties map.
pub const REGISTERED_LOOKUPS: &[&str] = &[
    "bundle",
    "ctx",
    "date",
    "env",
    "event",
    "java",
    "jndi",
    "jvmrunargs",
    "log4j",
    "lower",
    "main",
    "map",
    "marker",
    "sd",
    "sys",
    "upper",
];

/// Lookups whose value is data of the victim: used without a default, they exfiltrate.
const EXFIL_LOOKUPS: &[&str] = &[
    "env",
    "sys",
    "java",
    "ctx",
    "main",
    "map",
    "sd",
    "marker",
    "event",
    "log4j",
    "jvmrunargs",
    "bundle",
    "docker",
    "k8s",
    "spring",
    "web",
];

/// The values the data-dependent lookups answer with. Everything not set answers null, so the
/// default value (`${env:X:-j}` → `j`) applies, exactly as on a host where the key is unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// The configuration properties map: the fallback for unknown prefixes and bare names.
    pub properties: HashMap<String, String>,
    /// Values per lookup prefix (`env`, `sys`, `ctx`, `k8s`, ...), then per key.
    pub lookups: HashMap<String, HashMap<String, String>>,
}

/// The system properties every JVM sets (`System.getProperties()`'s documented keys, plus
/// `java.runtime.*` and `file.encoding`, which every JDK since 1.2 sets too). Their values depend
/// on the attacked JVM, so the default [`Environment`] answers a placeholder `<sys:KEY>` for each:
/// as with `${java:os}` → `<java:os>`, the lookup succeeds (its default value does not apply)
/// but its value is unknown. The separators are set to their Unix values instead. Any other key
/// is undefined and stays literal, exactly as Log4j and Commons Text leave it.
pub const ALWAYS_SET_SYS: &[&str] = &[
    "java.version",
    "java.vendor",
    "java.vendor.url",
    "java.home",
    "java.vm.specification.version",
    "java.vm.specification.vendor",
    "java.vm.specification.name",
    "java.vm.version",
    "java.vm.vendor",
    "java.vm.name",
    "java.specification.version",
    "java.specification.vendor",
    "java.specification.name",
    "java.class.version",
    "java.class.path",
    "java.library.path",
    "java.io.tmpdir",
    "java.runtime.version",
    "java.runtime.name",
    "os.name",
    "os.arch",
    "os.version",
    "user.name",
    "user.home",
    "user.dir",
    "file.encoding",
];

impl Default for Environment {
    /// `hostName` is [`HOSTNAME_PLACEHOLDER`]; `sys` knows the Unix `path.separator`,
    /// `file.separator` and `line.separator`, and answers `<sys:KEY>` for the other
    /// [`ALWAYS_SET_SYS`] keys; nothing else is set.
    fn default() -> Self {
        let mut properties = HashMap::new();
        properties.insert("hostName".to_owned(), HOSTNAME_PLACEHOLDER.to_owned());
        let mut sys: HashMap<String, String> =
            ALWAYS_SET_SYS.iter().map(|k| ((*k).to_owned(), format!("<sys:{k}>"))).collect();
        sys.insert("path.separator".to_owned(), ":".to_owned());
        sys.insert("file.separator".to_owned(), "/".to_owned());
        sys.insert("line.separator".to_owned(), "\n".to_owned());
        let mut lookups = HashMap::new();
        lookups.insert("sys".to_owned(), sys);
        Environment { properties, lookups }
    }
}

/// How an evaluation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The substitution completed.
    Completed,
    /// A name repeated on the resolution stack: Log4j throws `IllegalStateException` (infinite
    /// recursion, the denial of service of CVE-2021-45105). Carries the repeated name.
    Recursion(String),
    /// A lookup threw (`${java:unknown}`, `${bundle:missing:key}`): the event is not logged.
    LookupError(String),
    /// A bound of [`EvalLimits`] was reached; carries which one.
    Bounded(&'static str),
}

/// Obfuscation techniques seen while evaluating.
pub mod technique {
    pub const LOWER: &str = "lower";
    pub const UPPER: &str = "upper";
    pub const DATE: &str = "date";
    pub const DEFAULT_VALUE: &str = "default_value";
    pub const UNKNOWN_LOOKUP: &str = "unknown_lookup";
    pub const ENV_DEFAULT: &str = "data_lookup_default";
    pub const NESTED: &str = "nested";
    pub const MIXED_CASE: &str = "mixed_case_prefix";
    pub const ESCAPE: &str = "dollar_escape";
    pub const UNICODE_CASE: &str = "unicode_case_mapping";
    pub const PROPERTY: &str = "property_lookup";
    pub const RECURSION: &str = "recursion_dos";
    pub const BASE64: &str = "base64_lookup";
    pub const RESCAN: &str = "converter_rescan";
    pub const UNTERMINATED: &str = "unterminated";
    pub const LOOKUP_ERROR: &str = "lookup_error";
    pub const ESCAPED_DELIMITER: &str = "escaped_delimiter";
    /// A lookup the sender mangled (see [`super::Evaluator::forgiving`]).
    pub const MANGLED: &str = "mangled_lookup";
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Every name passed to the JNDI lookup, in call order, first occurrence only.
    pub names: Vec<String>,
    /// How the evaluation ended.
    pub outcome: Outcome,
    /// Techniques seen (see [`technique`]), first occurrence order.
    pub techniques: Vec<&'static str>,
    /// Data lookups used without a default (`${env:AWS_SECRET_ACCESS_KEY}`, `${hostName}`).
    pub exfiltration: Vec<String>,
    /// The substituted text (as far as the evaluation got).
    pub output: String,
}

/// The single pass and the 2.14.1 message-converter loop over one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEvaluation {
    /// One `StrSubstitutor.replace` of the message.
    pub single: Evaluation,
    /// Names recorded by the converter loop that the single pass did not record.
    pub rescan_only: Vec<String>,
    /// How the converter loop ended.
    pub rescan_outcome: Outcome,
    /// Techniques seen in the loop's later passes.
    pub rescan_techniques: Vec<&'static str>,
    /// Exfiltration lookups seen in the loop's later passes.
    pub rescan_exfiltration: Vec<String>,
}

impl MessageEvaluation {
    /// Every JNDI name, single pass first, then the rescan-only names.
    pub fn all_names(&self) -> Vec<String> {
        let mut all = self.single.names.clone();
        all.extend(self.rescan_only.iter().cloned());
        all
    }
}

/// Evaluates payloads the way Log4j 2.14.1 does. Cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Evaluator {
    env: Environment,
    limits: EvalLimits,
    /// Whether a configured value holds a `$` (then no text is judged inert without evaluation).
    env_has_dollar: bool,
}

impl Default for Evaluator {
    fn default() -> Self {
        Evaluator::new(Environment::default(), EvalLimits::default())
    }
}

#[derive(Debug)]
enum Stop {
    Recursion(String),
    LookupError(String),
    Bounded(&'static str),
}

impl From<Bounded> for Stop {
    fn from(b: Bounded) -> Self {
        Stop::Bounded(b.0)
    }
}

impl Evaluator {
    pub fn new(env: Environment, limits: EvalLimits) -> Self {
        let env_has_dollar = env.properties.values().any(|v| v.contains('$'))
            || env.lookups.values().any(|m| m.values().any(|v| v.contains('$')));
        Evaluator { env, limits, env_has_dollar }
    }

    pub fn limits(&self) -> &EvalLimits {
        &self.limits
    }

    /// One `StrSubstitutor.replace(event, text)`, exactly as 2.14.1.
    pub fn single_pass(&self, text: &str) -> Evaluation {
        let mut run = Run::new(self, false);
        run.evaluate(text)
    }

    /// The single pass plus 2.14.1's `MessagePatternConverter` loop: for every later `${` in the
    /// (rewritten) message, the whole message is substituted again.
    pub fn message(&self, text: &str) -> MessageEvaluation {
        let single = self.single_pass(text);
        let mut run = Run::new(self, false);
        let rescan_outcome = run.converter_loop(text, &single);
        let rescan_only: Vec<String> = run.names.iter().filter(|n| !single.names.contains(n)).cloned().collect();
        let rescan_techniques = run.techniques.iter().copied().filter(|t| !single.techniques.contains(t)).collect();
        let rescan_exfiltration = run.exfil.iter().filter(|e| !single.exfiltration.contains(e)).cloned().collect();
        MessageEvaluation { single, rescan_only, rescan_outcome, rescan_techniques, rescan_exfiltration }
    }

    /// A cheap proof that `text` makes no JNDI call, in any mode (strict, rescan, lenient): no
    /// `$${` escape, and every top-level lookup is a single level without `$` whose prefix is not
    /// `jndi` or `base64`. Such a lookup resolves to text without `$` (or stays as it is), so no
    /// new lookup can appear. Harmless placeholders (`${app.home}`, `${PORT:-8080}`) take this
    /// path; anything else is evaluated.
    pub fn is_inert(&self, text: &str) -> bool {
        if self.env_has_dollar || memchr::memmem::find(text.as_bytes(), b"$${").is_some() {
            return false;
        }
        let mut inert = true;
        for_each_span(text, |span| {
            let inner_end = if span.closed { span.end - 1 } else { span.end };
            let inner = &text.as_bytes()[span.start + 2..inner_end];
            // Trimmed: a mangled `${ jndi :...}` is evidence for [`Evaluator::forgiving`].
            let prefix = inner.split(|&b| b == b':').next().unwrap_or(b"").trim_ascii();
            inert = memchr::memchr(b'$', inner).is_none()
                && prefix.is_ascii()
                && !prefix.eq_ignore_ascii_case(b"jndi")
                && !prefix.eq_ignore_ascii_case(b"base64");
            inert
        });
        inert
    }

    /// [`Evaluator::is_inert`] for `text` and every part of it (the fields a line is split
    /// into): *every* `${` in it, top-level or not, is followed up to the next `}` (or the end)
    /// by text without `$` whose prefix is not `jndi` or `base64`. A part's `${` are some of
    /// these, each followed by the same text or a prefix of it, so each part passes
    /// [`Evaluator::is_inert`] too. Linear: each `${` is followed only up to the next `$` or `}`.
    pub fn is_inert_anywhere(&self, text: &[u8]) -> bool {
        !self.env_has_dollar && !has_escaped_opening(text) && every_opening(text, Self::opening_inert)
    }

    /// Whether the text after one `${` (up to its `}`, without `$`) names neither `jndi` nor
    /// `base64` (trimmed, any case; a non-ASCII prefix is never inert).
    pub fn opening_inert(inner: &[u8]) -> bool {
        let prefix = inner.split(|&c| c == b':').next().unwrap_or(b"").trim_ascii();
        prefix.is_ascii() && !prefix.eq_ignore_ascii_case(b"jndi") && !prefix.eq_ignore_ascii_case(b"base64")
    }

    /// Whether a configured value holds a `$` (then nothing is inert).
    pub fn env_has_dollar(&self) -> bool {
        self.env_has_dollar
    }

    /// A lenient evaluation for evidence that would not work on 2.14.1: `${base64:...}` is
    /// decoded, throwing lookups answer null, and unterminated lookups are closed at the end.
    pub fn lenient(&self, text: &str) -> Evaluation {
        self.lenient_run(text, false)
    }

    /// [`Evaluator::lenient`] that also reads mangled lookups the way their sender meant them:
    /// a lookup that answers nothing and has no default answers its key (`${lowr:j}` → `j`,
    /// `${j}` → `j`), and a prefix is trimmed (`${ jndi :x}`). Only for evidence of intent
    /// (technique [`technique::MANGLED`]); nothing Log4j would do.
    pub fn forgiving(&self, text: &str) -> Evaluation {
        self.lenient_run(text, true)
    }

    fn lenient_run(&self, text: &str, forgiving: bool) -> Evaluation {
        let mut run = Run::new(self, true);
        run.forgiving = forgiving;
        let closed = close_unterminated(text, self.limits.max_depth);
        if closed.is_some() {
            run.technique(technique::UNTERMINATED);
        }
        run.evaluate(closed.as_deref().unwrap_or(text))
    }
}

/// Whether `b` holds a `$${` (an escaped lookup, which 2.14.1's converter rescan can undo).
pub fn has_escaped_opening(b: &[u8]) -> bool {
    memchr::memchr_iter(b'$', b).any(|i| b.get(i + 1) == Some(&b'$') && b.get(i + 2) == Some(&b'{'))
}

/// Calls `inert` with the text after every `${` of `b` up to the next `}` (or the end); false as
/// soon as one answers false, or as soon as that text holds a `$` (then a value could open a new
/// lookup). Linear in `b`: each `${` is followed only up to the next `$` or `}`.
pub fn every_opening(b: &[u8], mut inert: impl FnMut(&[u8]) -> bool) -> bool {
    for pos in memchr::memchr_iter(b'$', b) {
        if b.get(pos + 1) != Some(&b'{') {
            continue;
        }
        let start = pos + 2;
        let end = match memchr::memchr2(b'}', b'$', &b[start..]) {
            Some(j) if b[start + j] == b'$' => return false,
            Some(j) => start + j,
            None => b.len(),
        };
        if !inert(&b[start..end]) {
            return false;
        }
    }
    true
}

/// A top-level lookup of a message as `StrSubstitutor` delimits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the `${`.
    pub start: usize,
    /// Byte offset just after the closing `}` (or the end of the text when unterminated).
    pub end: usize,
    /// Whether a closing `}` was found.
    pub closed: bool,
    /// For an unterminated span: how many `}` would close it.
    pub open_depth: usize,
}

/// The top-level lookups of `text`, in order, as a single `StrSubstitutor` pass finds them:
/// `$${` is skipped as an escape, the first `}` not balanced by a `${` closes a lookup, and an
/// unterminated lookup hides the rest of the text.
pub fn top_level_spans(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    for_each_span(text, |s| {
        spans.push(s);
        true
    });
    spans
}

/// Calls `f` with each top-level span (see [`top_level_spans`]) until it returns false.
pub fn for_each_span(text: &str, mut f: impl FnMut(Span) -> bool) {
    let b = text.as_bytes();
    let mut pos = 0;
    while pos + 1 < b.len() {
        if b[pos] != b'$' {
            match memchr::memchr(b'$', &b[pos..]) {
                Some(i) => pos += i,
                None => break,
            }
            continue;
        }
        if b[pos + 1] != b'{' {
            pos += 1;
            continue;
        }
        if pos > 0 && b[pos - 1] == b'$' {
            pos += 1;
            continue;
        }
        let start = pos;
        let (end, closed, open_depth) = match closing_suffix(b, pos + 2, b.len(), true) {
            Ok(close) => (close + 1, true, 0),
            Err(open) => (b.len(), false, open + 1),
        };
        pos = end;
        if !f(Span { start, end, closed, open_depth }) || !closed {
            break;
        }
    }
}

/// `text` with its unterminated last top-level lookup (see [`top_level_spans`]) closed by as
/// many `}` as it needs (at most `max_depth`), for the lenient readings of both evaluators;
/// `None` when every lookup is closed.
pub(crate) fn close_unterminated(text: &str, max_depth: u32) -> Option<String> {
    let last = top_level_spans(text).last().copied().filter(|s| !s.closed)?;
    let mut closed = text.to_owned();
    for _ in 0..last.open_depth.min(max_depth as usize) {
        closed.push('}');
    }
    Some(closed)
}

/// Whether a `${` starts at `pos` of `b`, ending before `end`.
#[inline]
pub(crate) fn is_opening(b: &[u8], pos: usize, end: usize) -> bool {
    pos + 2 <= end && b[pos] == b'$' && b[pos + 1] == b'{'
}

/// Where the lookup whose name starts at `pos` ends, looking no further than `end`: `Ok` with
/// the index of its closing `}`, or `Err` with how many lookups inside it are still open at
/// `end`. With `nested`, every `${` on the way needs a `}` of its own first (Log4j's
/// substitution in variable names); without it, the first `}` closes (Commons Text).
#[inline]
pub(crate) fn closing_suffix(b: &[u8], mut pos: usize, end: usize, nested: bool) -> Result<usize, usize> {
    let mut open = 0usize;
    while pos < end {
        if nested && is_opening(b, pos, end) {
            open += 1;
            pos += 2;
            continue;
        }
        if b[pos] == b'}' {
            if open == 0 {
                return Ok(pos);
            }
            open -= 1;
        }
        pos += 1;
    }
    Err(open)
}

/// A bound of [`EvalLimits`] an evaluation reached (which one).
#[derive(Debug)]
pub(crate) struct Bounded(pub(crate) &'static str);

/// The work of one evaluation against its [`EvalLimits`]. The Log4j and the Commons Text engine
/// share the bounds and the names they end with.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: EvalLimits,
    lookups: u32,
    steps: u64,
}

impl Budget {
    pub(crate) fn new(limits: EvalLimits) -> Self {
        Budget { limits, lookups: 0, steps: 0 }
    }

    /// Counts `n` characters examined.
    pub(crate) fn step(&mut self, n: u64) -> Result<(), Bounded> {
        self.steps += n;
        if self.steps > self.limits.max_steps { Err(Bounded("steps")) } else { Ok(()) }
    }

    /// Counts one variable resolution.
    pub(crate) fn lookup(&mut self) -> Result<(), Bounded> {
        self.lookups += 1;
        if self.lookups > self.limits.max_lookups { Err(Bounded("lookups")) } else { Ok(()) }
    }

    /// Starts counting resolutions afresh (each pass of the converter loop has its own).
    pub(crate) fn reset_lookups(&mut self) {
        self.lookups = 0;
    }

    /// Whether a `substitute` call at nesting `depth` on a buffer of `len` bytes may start.
    pub(crate) fn enter(&self, depth: u32, len: usize) -> Result<(), Bounded> {
        if depth > self.limits.max_depth {
            return Err(Bounded("depth"));
        }
        self.buffer(len)
    }

    /// Whether a buffer of `len` bytes is within bounds.
    pub(crate) fn buffer(&self, len: usize) -> Result<(), Bounded> {
        if len > self.limits.max_buffer { Err(Bounded("buffer length")) } else { Ok(()) }
    }
}

struct Run<'a> {
    ev: &'a Evaluator,
    lenient: bool,
    /// [`Evaluator::forgiving`].
    forgiving: bool,
    names: Vec<String>,
    techniques: Vec<&'static str>,
    exfil: Vec<String>,
    budget: Budget,
}

impl<'a> Run<'a> {
    fn new(ev: &'a Evaluator, lenient: bool) -> Self {
        Run {
            ev,
            lenient,
            forgiving: false,
            names: Vec::new(),
            techniques: Vec::new(),
            exfil: Vec::new(),
            budget: Budget::new(ev.limits),
        }
    }

    fn technique(&mut self, t: &'static str) {
        push_unique(&mut self.techniques, t);
    }

    fn record_name(&mut self, name: &str) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_owned());
        }
    }

    fn evaluate(&mut self, text: &str) -> Evaluation {
        let mut buf = text.to_owned();
        let outcome = match self.substitute(&mut buf, 0, text.len(), None, 0) {
            Ok(_) => Outcome::Completed,
            Err(stop) => self.outcome(stop),
        };
        Evaluation {
            names: std::mem::take(&mut self.names),
            outcome,
            techniques: std::mem::take(&mut self.techniques),
            exfiltration: std::mem::take(&mut self.exfil),
            output: buf,
        }
    }

    fn outcome(&mut self, stop: Stop) -> Outcome {
        match stop {
            Stop::Recursion(name) => {
                self.technique(technique::RECURSION);
                Outcome::Recursion(name)
            }
            Stop::LookupError(what) => {
                self.technique(technique::LOOKUP_ERROR);
                Outcome::LookupError(what)
            }
            Stop::Bounded(what) => Outcome::Bounded(what),
        }
    }

    /// `MessagePatternConverter.format` of 2.14.1: `for (i = offset; i < len - 1; i++) if
    /// (charAt(i) == '$' && charAt(i + 1) == '{') { message = replace(message); }`.
    fn converter_loop(&mut self, text: &str, first: &Evaluation) -> Outcome {
        let mut msg = text.to_owned();
        let mut units: Vec<u16> = msg.encode_utf16().collect();
        // Whether `msg` is known to substitute to itself (a fixed point): then substituting it
        // again records nothing new and changes nothing, so the loop can skip the work.
        let mut fixed = false;
        let mut passes = 0u32;
        let mut i = 0usize;
        while i + 1 < units.len() {
            if units[i] == u16::from(b'$') && units[i + 1] == u16::from(b'{') && !fixed {
                let result = if passes == 0 {
                    // The first pass is the single pass, already computed.
                    for n in &first.names {
                        self.record_name(n);
                    }
                    for t in &first.techniques {
                        self.technique(t);
                    }
                    self.exfil.extend(first.exfiltration.iter().cloned());
                    match &first.outcome {
                        Outcome::Completed => Ok(first.output.clone()),
                        other => return other.clone(),
                    }
                } else {
                    let mut buf = msg.clone();
                    self.budget.reset_lookups();
                    match self.substitute(&mut buf, 0, msg.len(), None, 0) {
                        Ok(_) => Ok(buf),
                        Err(stop) => Err(stop),
                    }
                };
                passes += 1;
                match result {
                    Ok(out) => {
                        if out == msg {
                            fixed = true;
                        } else {
                            if passes > 1 {
                                self.technique(technique::RESCAN);
                            }
                            msg = out;
                            units = msg.encode_utf16().collect();
                        }
                    }
                    Err(stop) => return self.outcome(stop),
                }
                if passes >= self.ev.limits.max_rescan_passes {
                    return Outcome::Bounded("rescan passes");
                }
            }
            i += 1;
        }
        Outcome::Completed
    }

    /// The port of `StrSubstitutor.substitute(event, buf, offset, length, priorVariables)`.
    /// Returns the length change (or, at the top, whether the buffer was altered).
    fn substitute(
        &mut self,
        buf: &mut String,
        offset: usize,
        length: usize,
        prior: Option<&mut Vec<String>>,
        depth: u32,
    ) -> Result<isize, Stop> {
        self.budget.enter(depth, buf.len())?;
        let top = prior.is_none();
        let mut owned: Vec<String> = Vec::new();
        let prior: &mut Vec<String> = match prior {
            Some(p) => p,
            None => &mut owned,
        };
        let mut altered = false;
        let mut length_change: isize = 0;
        let mut buf_end = offset + length;
        let mut pos = offset;
        let scan_start = pos;
        while pos < buf_end {
            let b = buf.as_bytes();
            if !is_opening(b, pos, buf_end) {
                pos += 1;
                continue;
            }
            if pos > offset && b[pos - 1] == b'$' {
                // Escaped: delete the escape character; `pos` now points at the `{`.
                buf.remove(pos - 1);
                self.technique(technique::ESCAPE);
                length_change -= 1;
                altered = true;
                buf_end -= 1;
                continue;
            }
            let start_pos = pos;
            // Substitution in variable names is enabled: `${` inside a name nests.
            match closing_suffix(b, pos + 2, buf_end, true) {
                Err(_) => pos = buf_end,
                Ok(close) => {
                    pos = close;
                    let mut var_name_expr = buf[start_pos + 2..pos].to_owned();
                    if var_name_expr.contains("${") {
                        self.technique(technique::NESTED);
                        let len = var_name_expr.len();
                        self.substitute(&mut var_name_expr, 0, len, None, depth + 1)?;
                    }
                    pos += 1;
                    let end_pos = pos;
                    let (var_name, default) = split_name_default(&var_name_expr);
                    if var_name_expr.contains(":\\-") {
                        self.technique(technique::ESCAPED_DELIMITER);
                    }
                    if top && prior.is_empty() {
                        let end = (offset as isize + length as isize + length_change) as usize;
                        prior.push(buf[offset..end].to_owned());
                    }
                    if prior.contains(&var_name) {
                        return Err(Stop::Recursion(var_name));
                    }
                    prior.push(var_name.clone());
                    let mut value = self.resolve(&var_name, default.is_some())?;
                    if value.is_none() && default.is_some() {
                        self.technique(technique::DEFAULT_VALUE);
                        value = default;
                    }
                    if let Some(value) = value {
                        let var_len = value.len();
                        buf.replace_range(start_pos..end_pos, &value);
                        self.budget.buffer(buf.len())?;
                        altered = true;
                        let mut change = self.substitute(buf, start_pos, var_len, Some(prior), depth + 1)?;
                        change += var_len as isize - (end_pos - start_pos) as isize;
                        pos = (pos as isize + change) as usize;
                        buf_end = (buf_end as isize + change) as usize;
                        length_change += change;
                    }
                    prior.pop();
                }
            }
            self.budget.step((pos.saturating_sub(start_pos)) as u64)?;
        }
        self.budget.step((buf_end.saturating_sub(scan_start)) as u64 / 8 + 1)?;
        if top { Ok(isize::from(altered)) } else { Ok(length_change) }
    }

    /// `Interpolator.lookup(event, var)`.
    fn resolve(&mut self, var: &str, has_default: bool) -> Result<Option<String>, Stop> {
        self.budget.lookup()?;
        let mut rest = var;
        if let Some(colon) = var.find(':') {
            let mut raw_prefix = &var[..colon];
            if self.forgiving && raw_prefix.trim() != raw_prefix {
                self.technique(technique::MANGLED);
                raw_prefix = raw_prefix.trim();
            }
            let prefix = raw_prefix.to_lowercase();
            let name = &var[colon + 1..];
            let value = self.lookup(&prefix, raw_prefix, name, var, has_default)?;
            if value.is_some() {
                return Ok(value);
            }
            rest = name;
        }
        let value = self.ev.env.properties.get(rest).cloned();
        if value.is_some() {
            self.technique(technique::PROPERTY);
            if !has_default {
                self.exfil_push(format!("${{{rest}}}"));
            }
        } else if self.forgiving && !has_default && !var.trim_start().to_lowercase().starts_with("jndi") {
            self.technique(technique::MANGLED);
            return Ok(Some(rest.trim().to_owned()));
        }
        Ok(value)
    }

    fn exfil_push(&mut self, e: String) {
        push_unique(&mut self.exfil, e);
    }

    fn lookup(
        &mut self,
        prefix: &str,
        raw_prefix: &str,
        name: &str,
        var: &str,
        has_default: bool,
    ) -> Result<Option<String>, Stop> {
        match prefix {
            "jndi" => {
                if raw_prefix != "jndi" {
                    self.technique(technique::MIXED_CASE);
                }
                self.record_name(name);
                Ok(None)
            }
            "lower" => {
                self.technique(technique::LOWER);
                if !name.is_ascii() {
                    self.technique(technique::UNICODE_CASE);
                }
                Ok(Some(name.to_lowercase()))
            }
            "upper" => {
                self.technique(technique::UPPER);
                if !name.is_ascii() {
                    self.technique(technique::UNICODE_CASE);
                }
                Ok(Some(name.to_uppercase()))
            }
            "date" => {
                self.technique(technique::DATE);
                Ok(Some(format_date(name)))
            }
            "base64" if self.lenient => {
                self.technique(technique::BASE64);
                Ok(crate::indicators::lenient_base64(name).map(|b| String::from_utf8_lossy(&b).into_owned()))
            }
            _ => {
                let value = self.ev.env.lookups.get(prefix).and_then(|m| m.get(name)).cloned();
                const SEPARATORS: &[&str] = &["path.separator", "file.separator", "line.separator"];
                if EXFIL_LOOKUPS.contains(&prefix) && !has_default && !(prefix == "sys" && SEPARATORS.contains(&name)) {
                    self.exfil_push(format!("${{{var}}}"));
                }
                if value.is_some() {
                    return Ok(value);
                }
                if prefix == "java" {
                    const JAVA_KEYS: &[&str] = &["version", "runtime", "vm", "os", "locale", "hw"];
                    if JAVA_KEYS.contains(&name) {
                        return Ok(Some(format!("<java:{name}>")));
                    }
                    if self.lenient {
                        return Ok(None);
                    }
                    return Err(Stop::LookupError(format!("java lookup: unknown key {name:?}")));
                }
                if prefix == "bundle" {
                    // ResourceBundleLookup: `key.split(":")` of length 2 loads a bundle, which
                    // throws MissingResourceException for one that does not exist.
                    let parts: Vec<&str> = name.split(':').collect();
                    let mut n = parts.len();
                    while n > 0 && parts[n - 1].is_empty() {
                        n -= 1;
                    }
                    if n == 2 && !self.lenient {
                        return Err(Stop::LookupError(format!("bundle lookup: no bundle {:?}", parts[0])));
                    }
                    return Ok(None);
                }
                if REGISTERED_LOOKUPS.contains(&prefix) {
                    if has_default {
                        self.technique(technique::ENV_DEFAULT);
                    }
                } else if has_default {
                    self.technique(technique::UNKNOWN_LOOKUP);
                }
                Ok(None)
            }
        }
    }
}

/// The name/default split of `StrSubstitutor`: at the first `:-`, unless a `:\-` comes first,
/// in which case the name keeps a `:` plus the text from the `-`, and the default starts at the
/// next `:-` after the escape (if any).
fn split_name_default(expr: &str) -> (String, Option<String>) {
    let b = expr.as_bytes();
    for i in 0..b.len() {
        if b[i..].starts_with(b":\\-") {
            let prefix = format!("{}:", &expr[..i]);
            let mut name = format!("{prefix}{}", &expr[i + 2..]);
            let mut default = None;
            for j in i + 3..b.len() {
                if b[j..].starts_with(b":-") {
                    name = format!("{prefix}{}", &expr[i + 3..j]);
                    default = Some(expr[j + 2..].to_owned());
                    break;
                }
            }
            return (name, default);
        }
        if b[i..].starts_with(b":-") {
            return (expr[..i].to_owned(), Some(expr[i + 2..].to_owned()));
        }
    }
    (expr.to_owned(), None)
}

/// `DateLookup`: a `SimpleDateFormat` of the current time. Quoted text is literal (`'j'` → `j`);
/// an invalid pattern falls back to the default short date-time format, as Java does.
pub fn format_date(pattern: &str) -> String {
    const LETTERS: &str = "GyYMLwWDdFEuaHkKhmsSzZX";
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let t = crate::format::Civil::from_unix_millis(now);
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // An unterminated quote makes the pattern invalid.
            match date_quote(&chars, i, &mut out) {
                Some(next) => i = next,
                None => return default_date(&t),
            }
            continue;
        }
        if c.is_ascii_alphabetic() {
            if !LETTERS.contains(c) {
                return default_date(&t);
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            out.push_str(&t.field(c, n));
            i += n;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The quote at `chars[i]` of a Java date pattern, as `SimpleDateFormat` and `FastDatePrinter`
/// both read it: `''` is a quote; otherwise the text up to the next lone `'` is literal (`''`
/// inside it is a quote too). Appends the literal text to `out` and returns the index after the
/// quote, or `None` when it is unterminated (then `out` holds the rest of the pattern).
pub(crate) fn date_quote(chars: &[char], mut i: usize, out: &mut String) -> Option<usize> {
    if chars.get(i + 1) == Some(&'\'') {
        out.push('\'');
        return Some(i + 2);
    }
    i += 1;
    loop {
        match chars.get(i) {
            None => return None,
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                out.push('\'');
                i += 2;
            }
            Some('\'') => return Some(i + 1),
            Some(&q) => {
                out.push(q);
                i += 1;
            }
        }
    }
}

fn default_date(t: &crate::format::Civil) -> String {
    let h12 = if t.hour.is_multiple_of(12) { 12 } else { t.hour % 12 };
    format!(
        "{}/{}/{:02}, {}:{:02} {}",
        t.month,
        t.day,
        t.year % 100,
        h12,
        t.minute,
        if t.hour < 12 { "AM" } else { "PM" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_rules() {
        assert_eq!(split_name_default("a:-b:-c"), ("a".into(), Some("b:-c".into())));
        assert_eq!(split_name_default("a:\\-b"), ("a:-b".into(), None));
        assert_eq!(split_name_default("a:\\-b:-c"), ("a:b".into(), Some("c".into())));
        assert_eq!(split_name_default("plain"), ("plain".into(), None));
    }

    #[test]
    fn basic_lookups() {
        let ev = Evaluator::default();
        assert_eq!(ev.single_pass("${lower:ABC}").output, "abc");
        assert_eq!(ev.single_pass("${date:'j'}").output, "j");
        assert_eq!(ev.single_pass("${::-j}").output, "j");
        assert_eq!(ev.single_pass("$${x}").output, "${x}");
        assert_eq!(ev.single_pass("${a:b:-c}").output, "c");
        assert_eq!(ev.single_pass("${x}").output, "${x}");
    }

    #[test]
    fn recursion_is_dos() {
        let ev = Evaluator::default();
        let e = ev.single_pass("${${::-${::-$${::-j}}}}");
        assert!(matches!(e.outcome, Outcome::Recursion(_)), "{e:?}");
    }

    #[test]
    fn spans() {
        let s = top_level_spans("a ${x} $${y} ${z:${w}} ${open");
        assert_eq!(s.len(), 3);
        assert!(s[0].closed && s[1].closed && !s[2].closed);
    }
}
