//! [`SightingCollector`]: the indicators of a hunt as `quell hunt --upload` sends them — one
//! entry per (kind, value) with the number of attempts, first and last seen from the log lines'
//! own times, the techniques used and attempts per day (see [`quell_model::indicators`]).
//!
//! Kinds: the callback host of every JNDI name (both sides of `127.0.0.1#evil.com`, and a host
//! cut off by a stray `}`), the JNDI name itself as the payload URL, the hosts inside decoded
//! exploit-kit commands, and the source address of the request; for Text4Shell the hosts of
//! `dns`/`url` lookups (as callback hosts), the URLs fetched (as payload URLs) and the hosts in
//! script commands; for Spring4Shell the source address and the file the log valve was made to
//! write (`dropped_file`). Every entry lists the vulnerabilities of its attempts. Exfiltration
//! lookups
//! (`${env:AWS_SECRET_ACCESS_KEY}`) say what was targeted, not who attacked: they are not sent.
//!
//! It reads the same fields of an [`Attempt`] as [`crate::IndicatorSummary`] (`--summary`), which
//! cannot serve here: its first/last are the first and last lines read (files are read in
//! parallel, so not in time order), and it keeps neither techniques nor days.

use std::collections::{BTreeMap, BTreeSet};

use quell_model::hunt::Attempt;
use quell_model::indicators::{
    IndicatorKind, IndicatorSighting, IndicatorUpload, RawLine, TimeSource, Tlp, UPLOAD_FORMAT, day_string,
    format_rfc3339, parse_rfc3339,
};

/// Log times before this (2000-01-01T00:00:00Z) are taken as unreadable (a broken clock or
/// format), as are times more than [`MAX_CLOCK_SKEW_SECS`] after the collector was made: such an
/// attempt counts on the upload day, and the server (which refuses such times) gets a clean upload.
pub const EARLIEST_TIME: i64 = 946_684_800;
pub const MAX_CLOCK_SKEW_SECS: i64 = 86_400;

/// Raw lines kept for `--upload-lines` (the server refuses more); further ones are counted in
/// [`SightingCollector::lines_dropped`].
pub const DEFAULT_MAX_UPLOAD_LINES: usize = 10_000;

#[derive(Debug, Default, Clone)]
struct Entry {
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
    techniques: BTreeSet<String>,
    /// Attempts per day number, for attempts with a readable time.
    days: BTreeMap<i64, u64>,
    /// Attempts without a readable time.
    untimed: u64,
    vulnerabilities: BTreeSet<String>,
}

/// Accumulates the indicators of attempts (and, when asked, their raw lines).
#[derive(Debug, Clone)]
pub struct SightingCollector {
    entries: BTreeMap<(IndicatorKind, String), Entry>,
    /// `Some(limit)` when raw lines are kept.
    max_lines: Option<usize>,
    lines: Vec<RawLine>,
    lines_dropped: u64,
    /// The latest plausible log time (now plus [`MAX_CLOCK_SKEW_SECS`]).
    latest_time: i64,
}

impl SightingCollector {
    /// `max_lines`: keep up to that many raw lines (`--upload-lines`), or none.
    pub fn new(max_lines: Option<usize>) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        SightingCollector {
            entries: BTreeMap::new(),
            max_lines,
            lines: Vec::new(),
            lines_dropped: 0,
            latest_time: now.saturating_add(MAX_CLOCK_SKEW_SECS),
        }
    }

    /// Adds every indicator of `a`.
    pub fn add(&mut self, a: &Attempt) {
        let time = a.time.as_deref().and_then(parse_rfc3339).filter(|t| (EARLIEST_TIME..=self.latest_time).contains(t));
        let mut values: BTreeSet<(IndicatorKind, &str)> = BTreeSet::new();
        for t in &a.targets {
            for h in std::iter::once(&t.host).chain(t.alt_host.as_ref()) {
                values.insert((IndicatorKind::CallbackHost, h));
            }
        }
        if let Some(h) = &a.tail_host {
            values.insert((IndicatorKind::CallbackHost, h));
        }
        for n in &a.jndi {
            values.insert((IndicatorKind::PayloadUrl, n));
        }
        if let Some(t) = &a.text4shell {
            for u in &t.urls {
                values.insert((IndicatorKind::PayloadUrl, u));
            }
            // `${dns:NAME}` makes the victim resolve NAME: a callback as much as a JNDI host.
            for h in &t.dns {
                values.insert((IndicatorKind::CallbackHost, h));
            }
        }
        if let Some(file) = a.spring4shell.as_ref().and_then(|s| s.written_file.as_deref()) {
            values.insert((IndicatorKind::DroppedFile, file));
        }
        for c in &a.commands {
            for h in &c.hosts {
                values.insert((IndicatorKind::CommandHost, h));
            }
        }
        if let Some(ip) = &a.source_ip {
            values.insert((IndicatorKind::SourceAddress, ip));
        }
        for (kind, value) in values {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let e = self.entries.entry((kind, value.to_owned())).or_default();
            e.count += 1;
            e.techniques.extend(a.techniques.iter().cloned());
            e.vulnerabilities.insert(a.vulnerability.clone());
            match time {
                Some(t) => {
                    e.first = Some(e.first.map_or(t, |f| f.min(t)));
                    e.last = Some(e.last.map_or(t, |l| l.max(t)));
                    *e.days.entry(t.div_euclid(86_400)).or_default() += 1;
                }
                None => e.untimed += 1,
            }
        }
        if let Some(max) = self.max_lines {
            if self.lines.len() < max {
                self.lines.push(RawLine {
                    file: a.file.clone(),
                    line: a.line,
                    time: a.time.clone(),
                    raw: a.raw.clone(),
                });
            } else {
                self.lines_dropped += 1;
            }
        }
    }

    /// Distinct indicators so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Raw lines not kept because of the limit.
    pub fn lines_dropped(&self) -> u64 {
        self.lines_dropped
    }

    /// The upload, made at `generated_at` (Unix seconds): indicators ordered by kind and value.
    pub fn finish(self, generated_at: i64, host: &str, tool_version: &str, tlp: Tlp) -> IndicatorUpload {
        let upload_day = generated_at.div_euclid(86_400);
        let indicators = self
            .entries
            .into_iter()
            .map(|((kind, value), e)| {
                let mut days: BTreeMap<String, u64> = e.days.into_iter().map(|(day, n)| (day_string(day), n)).collect();
                if e.untimed > 0 {
                    *days.entry(day_string(upload_day)).or_default() += e.untimed;
                }
                let (first, last, time_source) = match (e.first, e.last) {
                    (Some(f), Some(l)) => (f, l, TimeSource::Log),
                    _ => (generated_at, generated_at, TimeSource::Upload),
                };
                IndicatorSighting {
                    kind,
                    value,
                    count: e.count,
                    first_seen: format_rfc3339(first),
                    last_seen: format_rfc3339(last),
                    time_source,
                    techniques: e.techniques.into_iter().collect(),
                    days,
                    vulnerabilities: e.vulnerabilities.into_iter().collect(),
                }
            })
            .collect();
        IndicatorUpload {
            format: UPLOAD_FORMAT.to_owned(),
            host: host.to_owned(),
            tool_version: tool_version.to_owned(),
            tlp,
            generated_at: format_rfc3339(generated_at),
            indicators,
            lines: self.lines,
        }
    }
}
