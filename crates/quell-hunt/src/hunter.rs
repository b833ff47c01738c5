//! The [`Hunter`]: from candidate lines to [`Attempt`]s and [`Trace`]s, and the parallel run
//! over many sources.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use quell_model::hunt::{Attempt, HuntError, HuntRecord, Trace};

use crate::decode::{Decoder, Variant};
use crate::eval::{Environment, EvalLimits, Evaluation, Evaluator, Outcome, technique, top_level_spans};
use crate::format::{Field, LineContext, parse_line};
use crate::indicators::{classify_hosts, could_work, exploit_commands, parse_target};
use crate::prefilter::{HitKind, Prefilter, TRACE_MARKERS};
use crate::reader::{LogReader, ReadStats, Source};

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
    config: HuntConfig,
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
        Hunter {
            prefilter: Prefilter::new(),
            evaluator: Evaluator::new(config.environment.clone(), config.limits),
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
        let result = self.config.reader.scan(reader, &self.prefilter, |cand| {
            self.analyze_line(name, cand.line, cand.offset, cand.bytes, Some(cand.hit.kind), &mut records);
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
        let hits = self.prefilter.line_hits(line);
        if hits.trace
            && let Some(i) = Prefilter::trace_marker(line)
        {
            sink.record(HuntRecord::Trace(self.trace(file, line_no, offset, line, i)));
        }
        if hits.payload.is_empty() {
            return;
        }
        let (ctx, fields) = parse_line(line);
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
        }
        let mut seen: Vec<String> = Vec::new();
        let mut dos_seen = false;
        for v in &variants {
            if !v.text.contains("${") {
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
            if let Some(t) = parse_target(n)
                && !targets.contains(&t)
            {
                targets.push(t);
            }
        }
        let commands: Vec<_> = targets.iter().flat_map(|t| exploit_commands(&t.path)).collect();
        let tail_host = tail_host(&p.names, &p.tail);
        let hosts = targets
            .iter()
            .flat_map(|t| std::iter::once(t.host.as_str()).chain(t.alt_host.as_deref()))
            .chain(tail_host.as_deref());
        let callback_class = classify_hosts(hosts);
        let mut techniques: Vec<String> = v.chain.iter().map(|c| format!("encoding:{c}")).collect();
        techniques.dedup();
        techniques.extend(p.techniques.iter().map(|t| (*t).to_owned()));
        let could = could_work(&targets, p.functional && !p.names.is_empty(), p.dos);
        Attempt {
            file: file.to_owned(),
            line: line_no,
            offset,
            field: field.name.clone(),
            source_ip: ctx.source_ip.clone(),
            time: ctx.time.clone(),
            raw: truncate(&p.raw, self.config.max_raw_chars),
            decode_chain: v.chain.iter().map(|c| (*c).to_owned()).collect(),
            techniques,
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
            encoded: (!v.chain.is_empty()).then(|| truncate(&field.text, self.config.max_raw_chars)),
            tail_host,
        }
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
            }
        }
        // The converter rescan works on the whole message.
        if text.matches("${").nth(1).is_some() {
            let m = self.evaluator.message(text);
            let known: Vec<&String> = out.iter().flat_map(|p| p.names.iter()).collect();
            let fresh: Vec<String> = m.rescan_only.iter().filter(|n| !known.contains(n)).cloned().collect();
            if !fresh.is_empty() {
                let start = text.find("${").unwrap_or(0);
                let start = if start > 0 && text.as_bytes()[start - 1] == b'$' { start - 1 } else { start };
                let mut techniques = m.single.techniques.clone();
                for t in m.rescan_techniques.iter().chain([&technique::RESCAN]) {
                    if !techniques.contains(t) {
                        techniques.push(t);
                    }
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

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
