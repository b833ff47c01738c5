//! The [`Hunter`]: from candidate lines to [`Attempt`]s and [`Trace`]s, and the parallel run
//! over many sources.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use quell_model::hunt::{
    Attempt, CallbackClass, CouldWork, HuntError, HuntRecord, LOG4J_RECURSION, LOG4SHELL, SPRING4SHELL, ScriptRun,
    Sighting, Spring4Shell, TEXT4SHELL, Target, Text4Shell, Text4ShellWork, Trace, Workable,
};

use crate::decode::{Decoder, Variant};
use crate::eval::{Environment, EvalLimits, Evaluation, Evaluator, Outcome, technique, top_level_spans};
use crate::format::{Field, LineContext, parse_line};
use crate::indicators::{classify_hosts, could_work, exploit_commands, parse_target};
use crate::prefilter::{HitKind, Prefilter, TRACE_MARKERS};
use crate::push_unique;
use crate::reader::{ExtraNeedles, LogReader, ReadStats, Source};
use crate::spring4shell::{ValveTracker, binding, mentions_class_loader, stage};
use crate::text4shell::{TextEvaluator, TextEvent, TextVersion};
use crate::vuln::{VulnSet, Vulnerability};

/// Records per batch handed over by [`Hunter::hunt_sources`] (bounds memory on logs that hold
/// millions of attempts).
pub const RECORD_BATCH: usize = 4096;

/// Default for [`HuntConfig::max_spans_per_field`].
pub const DEFAULT_MAX_SPANS_PER_FIELD: usize = 64;
/// Default for [`HuntConfig::max_raw_chars`].
pub const DEFAULT_MAX_RAW_CHARS: usize = 4096;

/// Everything that tunes a hunt. Every bound is here, with a documented default.
#[derive(Debug, Clone, Default)]
pub struct HuntConfig {
    pub limits: EvalLimits,
    pub environment: Environment,
    pub reader: LogReader,
    pub decoder: Decoder,
    /// Top-level lookups examined per field (a line of 10,000 `${x}` is not 10,000 reports).
    pub max_spans_per_field: usize,
    /// Longest `raw`/`encoded` text kept in a record, in characters.
    pub max_raw_chars: usize,
    /// The vulnerabilities hunted (`--only`; default: all).
    pub vulnerabilities: VulnSet,
}

impl HuntConfig {
    /// The defaults.
    pub fn new() -> Self {
        HuntConfig {
            max_spans_per_field: DEFAULT_MAX_SPANS_PER_FIELD,
            max_raw_chars: DEFAULT_MAX_RAW_CHARS,
            ..Default::default()
        }
    }
}

/// Receives the records of a hunt.
pub trait Sink {
    fn record(&mut self, record: HuntRecord);
}

impl Sink for Vec<HuntRecord> {
    fn record(&mut self, record: HuntRecord) {
        self.push(record);
    }
}

/// The outcome of one source.
#[derive(Debug, Clone, Default)]
pub struct SourceReport {
    pub source: String,
    /// Attempts, traces and (at most one) error, in line order.
    pub records: Vec<HuntRecord>,
    /// Whether this is the source's last report. [`Hunter::hunt_sources`] hands over the records
    /// of a long source in batches of [`RECORD_BATCH`]; only the last batch carries the totals.
    pub complete: bool,
    pub stats: ReadStats,
    pub attempts: u64,
    pub traces: u64,
    pub errors: u64,
}

/// Finds exploitation attempts.
#[derive(Debug, Clone)]
pub struct Hunter {
    prefilter: Prefilter,
    evaluator: Evaluator,
    text: TextEvaluator,
    config: HuntConfig,
}

/// What the hunter remembers while it reads one source: the Spring4Shell valve writes and the
/// files they dropped.
#[derive(Debug, Default)]
pub struct SourceState {
    valves: ValveTracker,
}

impl SourceState {
    pub fn new() -> Self {
        Self::default()
    }
}

/// The dropped file names of a [`SourceState`], as needles for the reader.
struct DroppedNeedles<'a>(&'a RefCell<SourceState>);

impl ExtraNeedles for DroppedNeedles<'_> {
    fn generation(&self) -> u64 {
        self.0.try_borrow().map_or(0, |s| s.valves.generation())
    }
    fn find(&self, hay: &[u8], from: usize) -> Option<usize> {
        self.0.try_borrow().ok()?.valves.find(hay, from)
    }
}

/// The evidence of one payload before it becomes an [`Attempt`].
#[derive(Debug, Clone)]
struct Payload {
    start: usize,
    raw: String,
    names: Vec<String>,
    rescan_only: bool,
    functional: bool,
    dos: bool,
    techniques: Vec<&'static str>,
    exfiltration: Vec<String>,
    /// The text right after the lookup, up to white space or a quote (for hosts a stray `}`
    /// cut off the name).
    tail: String,
}

/// Longest tail examined after a lookup for a cut-off host.
const MAX_TAIL: usize = 256;

fn tail_of(text: &str, end: usize) -> String {
    let rest = &text[end.min(text.len())..];
    let stop = rest.find(|c: char| c.is_whitespace() || c == '"' || c == '\'').unwrap_or(rest.len());
    let mut stop = stop.min(MAX_TAIL);
    while !rest.is_char_boundary(stop) {
        stop -= 1;
    }
    rest[..stop].to_owned()
}

/// A host in the tail after a lookup whose name a stray `}` cut short
/// (`${jndi:ldap://{{Hostname}}.x.example.com}` looks up `ldap://{{Hostname`; the callback domain
/// is in the tail).
fn tail_host(names: &[String], tail: &str) -> Option<String> {
    if !names.iter().any(|n| n.contains('{')) {
        return None;
    }
    let host: String = tail
        .trim_start_matches(['}', '.'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let host = host.trim_matches('.');
    (host.contains('.') && host.chars().any(|c| c.is_ascii_alphabetic())).then(|| host.to_owned())
}

impl Hunter {
    pub fn new(config: HuntConfig) -> Self {
        let config = HuntConfig {
            max_spans_per_field: if config.max_spans_per_field == 0 {
                DEFAULT_MAX_SPANS_PER_FIELD
            } else {
                config.max_spans_per_field
            },
            max_raw_chars: if config.max_raw_chars == 0 { DEFAULT_MAX_RAW_CHARS } else { config.max_raw_chars },
            ..config
        };
        let prefilter = if config.vulnerabilities.contains(Vulnerability::Spring4Shell) {
            Prefilter::new()
        } else {
            Prefilter::new().without_spring()
        };
        Hunter {
            prefilter,
            evaluator: Evaluator::new(config.environment.clone(), config.limits),
            text: TextEvaluator::new(config.environment.clone(), config.limits),
            config,
        }
    }

    pub fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// Hunts one source to its end.
    pub fn hunt_source(&self, source: &Source) -> SourceReport {
        let mut report = SourceReport::default();
        self.hunt_source_batched(source, usize::MAX, &mut |_| {}, &mut report);
        report
    }

    /// Hunts one source, handing `flush` a partial report (records only) whenever `batch`
    /// records have accumulated; `report` ends with the rest and the totals.
    fn hunt_source_batched(
        &self,
        source: &Source,
        batch: usize,
        flush: &mut dyn FnMut(SourceReport),
        report: &mut SourceReport,
    ) {
        let name = source.name();
        report.source = name.clone();
        report.complete = true;
        let mut reader = match self.config.reader.open(source) {
            Ok(r) => r,
            Err(e) => {
                report.records.push(HuntRecord::Error(HuntError { file: name, message: e.to_string() }));
                report.errors = 1;
                return;
            }
        };
        self.hunt_reader_batched(&name, &mut reader, batch, flush, report);
    }

    /// Hunts an already opened (decompressed) stream, adding to `report`.
    pub fn hunt_reader<R: std::io::Read + ?Sized>(&self, name: &str, reader: &mut R, report: &mut SourceReport) {
        self.hunt_reader_batched(name, reader, usize::MAX, &mut |_| {}, report);
    }

    fn hunt_reader_batched<R: std::io::Read + ?Sized>(
        &self,
        name: &str,
        reader: &mut R,
        batch: usize,
        flush: &mut dyn FnMut(SourceReport),
        report: &mut SourceReport,
    ) {
        let count = |report: &mut SourceReport, r: &HuntRecord| match r {
            HuntRecord::Attempt(_) => report.attempts += 1,
            HuntRecord::Trace(_) => report.traces += 1,
            HuntRecord::Error(_) => report.errors += 1,
            _ => {}
        };
        let mut records: Vec<HuntRecord> = Vec::new();
        let state = RefCell::new(SourceState::new());
        let needles = DroppedNeedles(&state);
        let spring = self.config.vulnerabilities.contains(Vulnerability::Spring4Shell);
        let extra: Option<&dyn ExtraNeedles> = if spring { Some(&needles) } else { None };
        let result = self.config.reader.scan_with(reader, &self.prefilter, extra, |cand| {
            let mut st = state.borrow_mut();
            self.analyze_line_in(&mut st, name, cand.line, cand.offset, cand.bytes, &mut records);
            if records.len() >= batch {
                for r in &records {
                    count(report, r);
                }
                let part = SourceReport {
                    source: name.to_owned(),
                    records: std::mem::take(&mut records),
                    complete: false,
                    ..Default::default()
                };
                flush(part);
            }
        });
        let stats = match result {
            Ok(stats) => stats,
            Err((stats, e)) => {
                records.push(HuntRecord::Error(HuntError {
                    file: name.to_owned(),
                    message: format!("read failed after {} bytes, {} lines: {e}", stats.bytes, stats.lines),
                }));
                stats
            }
        };
        for r in &records {
            count(report, r);
        }
        report.records.extend(records);
        report.stats.bytes += stats.bytes;
        report.stats.lines += stats.lines;
    }

    /// Hunts many sources on `threads` threads; `on_report` sees the reports on the calling
    /// thread, each source's records in order, in batches of at most [`RECORD_BATCH`] records,
    /// the last one (`complete`) with the source's totals.
    pub fn hunt_sources(&self, sources: &[Source], threads: usize, mut on_report: impl FnMut(SourceReport)) {
        let threads = threads.clamp(1, sources.len().max(1));
        if threads == 1 {
            for s in sources {
                let mut report = SourceReport::default();
                self.hunt_source_batched(s, RECORD_BATCH, &mut on_report, &mut report);
                on_report(report);
            }
            return;
        }
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::sync_channel::<SourceReport>(threads * 4);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let tx = tx.clone();
                let next = &next;
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(s) = sources.get(i) else { break };
                        let mut report = SourceReport::default();
                        let mut flush = |part: SourceReport| {
                            let _ = tx.send(part);
                        };
                        self.hunt_source_batched(s, RECORD_BATCH, &mut flush, &mut report);
                        if tx.send(report).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for report in rx {
                on_report(report);
            }
        });
    }

    /// Examines one line (with its 1-based number and byte offset) and reports what it holds.
    /// `hint` is the prefilter's verdict when known (saves a search).
    /// A line is examined on its own: Spring4Shell follow-up requests to a file a write on an
    /// earlier line dropped need [`Hunter::analyze_line_in`] with the source's state.
    pub fn analyze_line(
        &self,
        file: &str,
        line_no: u64,
        offset: u64,
        line: &[u8],
        hint: Option<HitKind>,
        sink: &mut dyn Sink,
    ) {
        let _ = hint;
        self.analyze_line_in(&mut SourceState::new(), file, line_no, offset, line, sink);
    }

    /// [`Hunter::analyze_line`] with what earlier lines of the same source left in `state`.
    pub fn analyze_line_in(
        &self,
        state: &mut SourceState,
        file: &str,
        line_no: u64,
        offset: u64,
        line: &[u8],
        sink: &mut dyn Sink,
    ) {
        let hits = self.prefilter.line_hits(line);
        if hits.trace
            && let Some(i) = Prefilter::trace_marker(line)
        {
            sink.record(HuntRecord::Trace(self.trace(file, line_no, offset, line, i)));
        }
        let vulns = self.config.vulnerabilities;
        let spring = vulns.contains(Vulnerability::Spring4Shell)
            && (hits.spring || (state.valves.has_dropped() && state.valves.find(line, 0).is_some()));
        let log4shell = vulns.contains(Vulnerability::Log4Shell);
        let text4shell = vulns.contains(Vulnerability::Text4Shell);
        let mut dollar = !hits.payload.is_empty() && (log4shell || text4shell);
        // The common benign case (`cfg=${env:HOME:-/home/app}`): only plain `${` and a proof that
        // neither evaluator can act on the line or any field of it. Nothing is parsed, decoded
        // or evaluated.
        if dollar && hits.payload.iter().all(|&(_, encoded)| !encoded) && self.line_inert(line, log4shell, text4shell) {
            dollar = false;
        }
        if !dollar && !spring {
            return;
        }
        let (ctx, fields) = parse_line(line);
        if spring {
            self.spring(state, file, line_no, offset, &ctx, &fields, line, sink);
        }
        if !dollar {
            return;
        }
        let verbatim = !line.trim_ascii_start().starts_with(b"{");
        for field in &fields {
            let end = field.offset + field.text.len();
            let (relevant, encoded) = if verbatim && line.get(field.offset..end) == Some(field.text.as_bytes()) {
                hits.within(field.offset..end)
            } else {
                let text = field.text.as_bytes();
                (self.prefilter.has_payload(text), self.prefilter.has_encoded(text))
            };
            if relevant {
                self.analyze_field(file, line_no, offset, &ctx, field, verbatim, encoded, sink);
            }
        }
    }

    /// [`Evaluator::is_inert_anywhere`] and [`TextEvaluator::is_inert`] of the hunted
    /// evaluators in one pass over the line.
    fn line_inert(&self, line: &[u8], log4shell: bool, text4shell: bool) -> bool {
        if (log4shell && (self.evaluator.env_has_dollar() || crate::eval::has_escaped_opening(line)))
            || (text4shell && self.text.env_has_dollar())
        {
            return false;
        }
        crate::eval::every_opening(line, |inner| {
            (!log4shell || Evaluator::opening_inert(inner)) && (!text4shell || TextEvaluator::opening_inert(inner))
        })
    }

    fn trace(&self, file: &str, line_no: u64, offset: u64, line: &[u8], needle: usize) -> Trace {
        let text = String::from_utf8_lossy(line);
        let mut jndi = Vec::new();
        let marker = "Error looking up JNDI resource [";
        let mut rest = text.as_ref();
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            if let Some(end) = rest.find(']') {
                jndi.push(rest[..end].to_owned());
            }
        }
        Trace {
            file: file.to_owned(),
            line: line_no,
            offset,
            raw: truncate(&text, self.config.max_raw_chars),
            jndi,
            indicator: TRACE_MARKERS.get(needle).copied().unwrap_or("").to_owned(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn analyze_field(
        &self,
        file: &str,
        line_no: u64,
        offset: u64,
        ctx: &LineContext,
        field: &Field,
        verbatim: bool,
        encoded: bool,
        sink: &mut dyn Sink,
    ) {
        let mut variants = vec![Variant { chain: Vec::new(), text: field.text.clone() }];
        // Decode when the opening itself is encoded, or when a plain `${` may hold encoded parts
        // (nginx writes `\xC4\xB1` for `ı`).
        let t = field.text.as_bytes();
        let parts_encoded = || memchr::memchr3(b'%', b'\\', b'&', t).is_some();
        if encoded || parts_encoded() {
            variants.extend(self.config.decoder.variants(&field.text));
            // A query string or form body: `+` is a space to the application.
            for f in self.config.decoder.form_variants(&field.text) {
                if !variants.iter().any(|v| v.text == f.text) {
                    variants.push(f);
                }
            }
        }
        let mut seen: Vec<String> = Vec::new();
        let mut dos_seen = false;
        let log4shell = self.config.vulnerabilities.contains(Vulnerability::Log4Shell);
        let text4shell = self.config.vulnerabilities.contains(Vulnerability::Text4Shell);
        // Commons Text: one attempt per field, from its most decoded form that acts (what the
        // application sees after its own decoding).
        if text4shell {
            for v in variants.iter().rev() {
                if v.text.contains("${")
                    && let Some(a) = self.text_attempt(&v.text)
                {
                    let at = offset + field.offset as u64;
                    sink.record(HuntRecord::Attempt(self.finish_text(a, file, line_no, at, ctx, field, v)));
                    break;
                }
            }
        }
        for v in &variants {
            if !v.text.contains("${") {
                continue;
            }
            if !log4shell {
                continue;
            }
            for p in self.payloads(&v.text) {
                let new_names = p.names.iter().any(|n| !seen.contains(n));
                let first_dos = p.dos && !dos_seen;
                if !new_names && !first_dos {
                    continue;
                }
                dos_seen |= p.dos;
                for n in &p.names {
                    if !seen.contains(n) {
                        seen.push(n.clone());
                    }
                }
                let field_off = offset + field.offset as u64;
                let at = if v.chain.is_empty() && verbatim { field_off + p.start as u64 } else { field_off };
                sink.record(HuntRecord::Attempt(self.attempt(file, line_no, at, ctx, field, v, p)));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        file: &str,
        line_no: u64,
        offset: u64,
        ctx: &LineContext,
        field: &Field,
        v: &Variant,
        p: Payload,
    ) -> Attempt {
        let mut targets = Vec::new();
        for n in &p.names {
            if let Some(t) = parse_target(n) {
                push_unique(&mut targets, t);
            }
        }
        let commands: Vec<_> = targets.iter().flat_map(|t| exploit_commands(&t.path)).collect();
        let tail_host = tail_host(&p.names, &p.tail);
        let callback_class = classify_hosts(target_hosts(&targets).chain(tail_host.as_deref()));
        let could = could_work(&targets, p.functional && !p.names.is_empty(), p.dos);
        let vulnerability = if p.dos && p.names.is_empty() { LOG4J_RECURSION } else { LOG4SHELL };
        let base = self.decoded_attempt(file, line_no, offset, ctx, field, v, &p.raw, &p.techniques, vulnerability);
        Attempt {
            normalized: p.names.iter().map(|n| format!("${{jndi:{n}}}")).collect(),
            jndi: p.names,
            rescan_only: p.rescan_only,
            targets,
            exfiltration: p.exfiltration,
            commands,
            callback_class,
            functional: p.functional,
            dos: p.dos,
            could_work: could,
            tail_host,
            ..base
        }
    }

    /// An attempt on `vulnerability` at `offset` of line `line_no` of `file`, in `field`, with
    /// the line's source and time and the payload `raw` (truncated); everything that depends on
    /// the vulnerability empty, "no" or false, for the caller to fill in.
    #[allow(clippy::too_many_arguments)]
    fn attempt_at(
        &self,
        file: &str,
        line_no: u64,
        offset: u64,
        ctx: &LineContext,
        field: Option<String>,
        raw: &str,
        vulnerability: &str,
    ) -> Attempt {
        Attempt {
            file: file.to_owned(),
            line: line_no,
            offset,
            field,
            source_ip: ctx.source_ip.clone(),
            time: ctx.time.clone(),
            raw: truncate(raw, self.config.max_raw_chars),
            decode_chain: Vec::new(),
            techniques: Vec::new(),
            jndi: Vec::new(),
            rescan_only: false,
            targets: Vec::new(),
            exfiltration: Vec::new(),
            commands: Vec::new(),
            callback_class: CallbackClass::Unknown,
            normalized: Vec::new(),
            functional: false,
            dos: false,
            could_work: no_log4j(),
            encoded: None,
            tail_host: None,
            vulnerability: vulnerability.to_owned(),
            text4shell: None,
            spring4shell: None,
        }
    }

    /// [`Hunter::attempt_at`] for a payload in the transport-decoded variant `v` of `field`: with
    /// the decode chain, the techniques (each encoding, then `techniques`) and, when it had to be
    /// decoded, the field as logged.
    #[allow(clippy::too_many_arguments)]
    fn decoded_attempt(
        &self,
        file: &str,
        line_no: u64,
        offset: u64,
        ctx: &LineContext,
        field: &Field,
        v: &Variant,
        raw: &str,
        techniques: &[&'static str],
        vulnerability: &str,
    ) -> Attempt {
        let mut all: Vec<String> = v.chain.iter().map(|c| format!("encoding:{c}")).collect();
        all.dedup();
        all.extend(techniques.iter().map(|t| (*t).to_owned()));
        let base = self.attempt_at(file, line_no, offset, ctx, field.name.clone(), raw, vulnerability);
        Attempt {
            decode_chain: v.chain.iter().map(|c| (*c).to_owned()).collect(),
            techniques: all,
            encoded: (!v.chain.is_empty()).then(|| truncate(&field.text, self.config.max_raw_chars)),
            ..base
        }
    }

    /// The Commons Text 1.9 evaluation of one (decoded) text, when it acts (runs a script,
    /// resolves a name, fetches a URL, reads a file).
    fn text_attempt(&self, text: &str) -> Option<TextFinding> {
        if self.text.is_inert(text.as_bytes()) {
            return None;
        }
        let mut e19 = self.text.evaluate(text, TextVersion::V1_9);
        let mut functional = true;
        if e19.events.is_empty() {
            // Broken or Log4j-style obfuscation: an attempt that would not work, still a probe.
            e19 = self.text.lenient(text);
            functional = false;
            if e19.events.is_empty() {
                return None;
            }
        }
        let e110 = self.text.evaluate(text, TextVersion::V1_10);
        let start = first_opening(text);
        Some(TextFinding {
            raw: text[start..].to_owned(),
            events: e19.events,
            functional,
            works_1_10: functional && !e110.events.is_empty(),
            techniques: e19.techniques,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_text(
        &self,
        f: TextFinding,
        file: &str,
        line_no: u64,
        offset: u64,
        ctx: &LineContext,
        field: &Field,
        v: &Variant,
    ) -> Attempt {
        let mut detail = Text4Shell::default();
        let mut targets: Vec<Target> = Vec::new();
        for e in &f.events {
            match e {
                TextEvent::Script { engine, code } => {
                    detail.scripts.push(ScriptRun { engine: engine.clone(), code: code.clone() })
                }
                TextEvent::Dns(name) => {
                    detail.dns.push(name.clone());
                    let t = Target {
                        scheme: "dns".into(),
                        host: name.clone(),
                        port: None,
                        path: String::new(),
                        alt_host: None,
                    };
                    push_unique(&mut targets, t);
                }
                TextEvent::Url(url) => {
                    detail.urls.push(url.clone());
                    if let Some(t) = parse_target(url) {
                        push_unique(&mut targets, t);
                    }
                }
                TextEvent::File(path) => detail.files.push(path.clone()),
            }
        }
        let commands: Vec<_> =
            detail.scripts.iter().flat_map(|s| crate::indicators::script_commands(&s.code)).collect();
        detail.could_work = Text4ShellWork {
            commons_text_1_9: if f.functional { Workable::Yes } else { Workable::No },
            commons_text_1_10_0: if f.works_1_10 { Workable::Yes } else { Workable::No },
        };
        let callback_class = classify_hosts(target_hosts(&targets));
        let base = self.decoded_attempt(file, line_no, offset, ctx, field, v, &f.raw, &f.techniques, TEXT4SHELL);
        Attempt {
            targets,
            commands,
            callback_class,
            functional: f.functional,
            text4shell: Some(Box::new(detail)),
            ..base
        }
    }

    /// Spring4Shell: requests for a file an earlier write dropped, and class-loader bindings.
    #[allow(clippy::too_many_arguments)]
    fn spring(
        &self,
        state: &mut SourceState,
        file: &str,
        line_no: u64,
        offset: u64,
        ctx: &LineContext,
        fields: &[Field],
        line: &[u8],
        sink: &mut dyn Sink,
    ) {
        let seen = Sighting { file: file.to_owned(), line: line_no, time: ctx.time.clone() };
        if state.valves.has_dropped() {
            let paths = fields.iter().filter(|f| f.name.as_deref() == Some("uri") || f.text.starts_with('/'));
            for f in paths {
                let path = f.text.split(['?', ' ']).next().unwrap_or("");
                let hits: Vec<_> = state.valves.requested(path).into_iter().cloned().collect();
                for d in hits {
                    let same = d.source_ip.is_some() && d.source_ip == ctx.source_ip;
                    let detail = Spring4Shell {
                        stage: stage::WEBSHELL.to_owned(),
                        written_file: Some(d.name.clone()),
                        prefix: Some(d.prefix.clone()).filter(|p| !p.is_empty()),
                        suffix: Some(d.suffix.clone()).filter(|p| !p.is_empty()),
                        request: Some(truncate(&f.text, self.config.max_raw_chars)),
                        dropped_at: Some(d.seen.clone()),
                        same_source: Some(same),
                        ..Default::default()
                    };
                    let mut techniques = vec!["webshell_request".to_owned()];
                    if same {
                        techniques.push("same_source_as_write".to_owned());
                    }
                    let a = self.spring_attempt(
                        file,
                        line_no,
                        offset + f.offset as u64,
                        ctx,
                        f.name.clone(),
                        &f.text,
                        techniques,
                        true,
                        detail,
                    );
                    sink.record(HuntRecord::Attempt(a));
                }
            }
        }
        if !mentions_class_loader(line) {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let Some(b) = binding(&text) else { return };
        let field = fields.iter().find(|f| mentions_class_loader(f.text.as_bytes()));
        let (field_name, at) = match field {
            Some(f) => (f.name.clone(), offset + f.offset as u64),
            None => (None, offset),
        };
        let raw = field.map_or_else(|| text.clone().into_owned(), |f| f.text.clone());
        let detail = state.valves.record(&b, ctx.source_ip.as_deref(), &seen);
        let techniques = b.techniques.iter().map(|t| (*t).to_owned()).collect();
        let a = self.spring_attempt(file, line_no, at, ctx, field_name, &raw, techniques, b.functional, detail);
        sink.record(HuntRecord::Attempt(a));
    }

    #[allow(clippy::too_many_arguments)]
    fn spring_attempt(
        &self,
        file: &str,
        line_no: u64,
        offset: u64,
        ctx: &LineContext,
        field: Option<String>,
        raw: &str,
        techniques: Vec<String>,
        functional: bool,
        detail: Spring4Shell,
    ) -> Attempt {
        let base = self.attempt_at(file, line_no, offset, ctx, field, raw, SPRING4SHELL);
        Attempt { techniques, functional, spring4shell: Some(Box::new(detail)), ..base }
    }

    /// The payloads of one (decoded) text: each top-level lookup that records a JNDI name or
    /// recurses, then names only the 2.14.1 converter rescan records, then (for lookups that
    /// record nothing on 2.x) what a forgiving evaluation reveals.
    fn payloads(&self, text: &str) -> Vec<Payload> {
        let mut out: Vec<Payload> = Vec::new();
        if self.evaluator.is_inert(text) {
            return out;
        }
        let spans = top_level_spans(text);
        for span in spans.iter().take(self.config.max_spans_per_field) {
            let s = &text[span.start..span.end];
            if span.closed {
                let e = self.evaluator.single_pass(s);
                let dos = matches!(e.outcome, Outcome::Recursion(_));
                if !e.names.is_empty() || dos {
                    out.push(payload(span.start, s, tail_of(text, span.end), e, true, dos, false));
                    continue;
                }
            }
            let e = self.evaluator.lenient(s);
            if !e.names.is_empty() {
                out.push(payload(span.start, s, tail_of(text, span.end), e, false, false, false));
                continue;
            }
            // A sender that mangled its lookups (`${lowr:j}ndi`, `${ jndi:...}`) still probes.
            let e = self.evaluator.forgiving(s);
            if !e.names.is_empty() {
                out.push(payload(span.start, s, tail_of(text, span.end), e, false, false, false));
            }
        }
        // The converter rescan works on the whole message.
        if text.matches("${").nth(1).is_some() {
            let m = self.evaluator.message(text);
            let known: Vec<&String> = out.iter().flat_map(|p| p.names.iter()).collect();
            let fresh: Vec<String> = m.rescan_only.iter().filter(|n| !known.contains(n)).cloned().collect();
            if !fresh.is_empty() {
                let start = first_opening(text);
                let mut techniques = m.single.techniques.clone();
                for t in m.rescan_techniques.iter().chain([&technique::RESCAN]) {
                    push_unique(&mut techniques, *t);
                }
                let mut exfiltration = m.single.exfiltration.clone();
                exfiltration.extend(m.rescan_exfiltration.iter().cloned());
                out.push(Payload {
                    start,
                    raw: text[start..].to_owned(),
                    names: fresh,
                    rescan_only: true,
                    functional: true,
                    dos: false,
                    techniques,
                    exfiltration,
                    tail: String::new(),
                });
            }
        }
        out
    }
}

fn payload(
    start: usize,
    raw: &str,
    tail: String,
    e: Evaluation,
    functional: bool,
    dos: bool,
    rescan_only: bool,
) -> Payload {
    Payload {
        start,
        raw: raw.to_owned(),
        tail,
        names: e.names,
        rescan_only,
        functional,
        dos,
        techniques: e.techniques,
        exfiltration: e.exfiltration,
    }
}

/// The Commons Text evidence of one text before it becomes an [`Attempt`].
#[derive(Debug, Clone)]
struct TextFinding {
    raw: String,
    events: Vec<TextEvent>,
    /// Whether Commons Text 1.9 itself would act (not only the lenient reading).
    functional: bool,
    works_1_10: bool,
    techniques: Vec<&'static str>,
}

/// `could_work` of an attempt on something other than Log4j: no Log4j release.
fn no_log4j() -> CouldWork {
    CouldWork {
        log4j_2_14_1: Workable::No,
        log4j_2_15_0: Workable::No,
        log4j_2_16_0: Workable::No,
        log4j_2_17_0: Workable::No,
    }
}

/// Where the first lookup of `text` starts: its `${`, or the `$` escaping it (0 when there is none).
fn first_opening(text: &str) -> usize {
    let start = text.find("${").unwrap_or(0);
    if start > 0 && text.as_bytes()[start - 1] == b'$' { start - 1 } else { start }
}

/// Every host of `targets`: each one's host and, for `127.0.0.1#evil.com`, the other side.
fn target_hosts(targets: &[Target]) -> impl Iterator<Item = &str> {
    targets.iter().flat_map(|t| std::iter::once(t.host.as_str()).chain(t.alt_host.as_deref()))
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
