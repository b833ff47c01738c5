//! `quell hunt`: flags, output formats and the exit code of a hunt through logs.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use anstyle::AnsiColor;
use clap::{Args, ValueEnum};
use quell_hunt::{
    DEFAULT_BLOCK_BYTES, DEFAULT_MAX_BUFFER, DEFAULT_MAX_DECODE_ROUNDS, DEFAULT_MAX_DECOMPRESSED_BYTES,
    DEFAULT_MAX_DEPTH, DEFAULT_MAX_LOOKUPS, DEFAULT_MAX_RAW_CHARS, DEFAULT_MAX_RESCAN_PASSES,
    DEFAULT_MAX_SPANS_PER_FIELD, DEFAULT_MAX_STEPS, Decoder, Environment, EvalLimits, HuntConfig, Hunter,
    IndicatorSummary, LogReader, SightingCollector, VulnSet, Vulnerability,
};
use quell_model::hunt::{Attempt, HuntError, HuntRecord, HuntSummary, IndicatorCount, Trace};
use quell_model::indicators::Tlp;
use quell_report::csv::HuntCsv;

use crate::output::{human_bytes, stdout_colour, style};

/// Output formats of `quell hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// One readable line per attempt; colour only on a terminal.
    Text,
    /// JSON lines: one attempt, trace, error, indicator or summary object per line.
    Json,
    /// CSV (RFC 4180): one row per attempt or trace; with --summary, one row per indicator.
    Csv,
}

/// Arguments of `quell hunt`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell hunt /var/log/nginx          every file below, rotated and compressed
  quell hunt access.log app.log.2.gz plain, gzip, bzip2, xz, zstd (by content)
  zcat old.log.gz | quell hunt -     standard input
  quell hunt --format json /var/log > attempts.jsonl
  quell hunt --format csv /var/log > attempts.csv   one row per attempt
  quell hunt --summary /var/log      indicators with counts, first/last seen
  quell hunt --env env:USER=app /var/log/app
                                     evaluate as on a host where USER=app
  quell hunt --only text4shell /var/log/app
                                     Commons Text attempts only
  quell hunt --only spring4shell,CVE-2021-44228 /var/log/tomcat
                                     by name or CVE id
  quell hunt --upload https://quell.example.org --token T --tlp green /var/log
                                     send the indicators (not the lines) to
                                     a quell server, marked TLP:GREEN

Vulnerabilities (all by default; every attempt names its CVE in
\"vulnerability\", the summary counts them in \"by_vulnerability\"):
  log4shell     CVE-2021-44228 (and the recursion DoS CVE-2021-45105)
  text4shell    CVE-2022-42889: what Commons Text 1.9's interpolator would
                run (\"text4shell\": scripts, dns, urls, files)
  spring4shell  CVE-2022-22965: class.module.classLoader bindings, Tomcat
                AccessLogValve writes and requests for the dropped JSP
                (\"spring4shell\": stage, parameters, pattern, suffix,
                written_file, ...)

Reported: every payload that makes Log4j 2.14.1 call its JNDI lookup,
evaluated by an exact port of Log4j's lookup engine after undoing URL,
%uXXXX, \\uXXXX, \\xHH, octal and HTML encodings (in any order and depth);
the recursion denial of service (CVE-2021-45105, \"dos\":true); names only
the 2.14.1 message rescan reaches (\"rescan_only\":true); payloads that would
not work as logged, broken or mangled (\"functional\":false). Harmless ${...}
placeholders are not reported.
Traces of lookups that happened (\"Error looking up JNDI resource\", ...)
are reported as kind \"trace\".

Output (--format json), one object per line:
  {\"kind\":\"attempt\",\"file\":\"access.log\",\"line\":1234,\"offset\":56789,
   \"field\":\"user_agent\",\"source_ip\":\"203.0.113.9\",
   \"time\":\"2021-12-11T10:00:00Z\",\"raw\":\"${...}\",\"decode_chain\":[\"url\"],
   \"techniques\":[\"lower\"],\"jndi\":[\"ldap://198.51.100.7:1389/a\"],
   \"rescan_only\":false,\"targets\":[{\"scheme\":\"ldap\",
   \"host\":\"198.51.100.7\",\"port\":1389,\"path\":\"/a\"}],
   \"exfiltration\":[],\"commands\":[],\"callback_class\":\"unknown\",
   \"vulnerability\":\"CVE-2021-44228\",...}
  {\"kind\":\"attempt\",...,\"vulnerability\":\"CVE-2022-42889\",
   \"text4shell\":{\"scripts\":[{\"engine\":\"js\",\"code\":\"...\"}],\"dns\":[],
   \"urls\":[],\"files\":[],\"could_work\":{\"1.9\":\"yes\",\"1.10.0\":\"no\"}}}
  {\"kind\":\"attempt\",...,\"vulnerability\":\"CVE-2022-22965\",
   \"spring4shell\":{\"stage\":\"write\",\"parameters\":[...],\"suffix\":\".jsp\",
   \"prefix\":\"tomcatwar\",\"written_file\":\"tomcatwar.jsp\",...}}
  {\"kind\":\"trace\",\"file\":\"app.log\",\"line\":99,\"raw\":\"...\",
   \"jndi\":[\"ldap://...\"],...}
  {\"kind\":\"error\",\"file\":\"broken.gz\",\"message\":\"...\"}
  {\"kind\":\"summary\",\"files\":3,\"bytes\":123456,\"lines\":1000,
   \"attempts\":2,\"traces\":0,\"errors\":0,\"elapsed_ms\":12,
   \"by_vulnerability\":{\"CVE-2021-44228\":2}}

Exit codes: 0 nothing found, 1 attempts or traces found, 2 the hunt
failed (nothing found, and a file could not be read). With no PATH (or `-`) the hunt reads
standard input.")]
pub struct HuntArgs {
    /// Log files or directories to read (`-` or nothing: standard input).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = HuntFormat::Text)]
    pub format: HuntFormat,

    /// Print deduplicated indicators (JNDI names, hosts, command hosts, exfiltration lookups,
    /// source IPs) with counts and first/last sightings instead of every occurrence.
    #[arg(long)]
    pub summary: bool,

    /// Hunt only these vulnerabilities: a comma-separated list of `log4shell` (CVE-2021-44228 and
    /// its recursion DoS CVE-2021-45105), `text4shell` (CVE-2022-42889), `spring4shell`
    /// (CVE-2022-22965), by name or CVE id. Default: all three.
    #[arg(long, value_name = "LIST", value_parser = parse_only)]
    pub only: Option<VulnSet>,

    /// Print nothing but attempts and traces (no summary, no error lines in text mode).
    #[arg(long, short)]
    pub quiet: bool,

    /// Worker threads; files are shared between them (0 = one per CPU core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// A value the evaluator's lookups answer with, `PREFIX:KEY=VALUE` (`env:USER=app`,
    /// `sys:java.version=1.8.0_181`) or `KEY=VALUE` for the properties map (`hostName=web1`);
    /// repeatable. Unset keys answer null, so `${env:X:-j}` is `j`.
    #[arg(long = "env", value_name = "LOOKUP=VALUE")]
    pub env: Vec<String>,

    /// Variable resolutions per message.
    #[arg(long, default_value_t = DEFAULT_MAX_LOOKUPS, value_name = "N")]
    pub max_lookups: u32,

    /// Nesting of substitutions per message.
    #[arg(long, default_value_t = DEFAULT_MAX_DEPTH, value_name = "N")]
    pub max_depth: u32,

    /// Length of a message while it is substituted.
    #[arg(long, default_value_t = DEFAULT_MAX_BUFFER, value_name = "BYTES")]
    pub max_buffer: usize,

    /// Whole-message re-substitutions of the 2.14.1 message converter.
    #[arg(long, default_value_t = DEFAULT_MAX_RESCAN_PASSES, value_name = "N")]
    pub max_rescan_passes: u32,

    /// Characters examined per message, all passes together.
    #[arg(long, default_value_t = DEFAULT_MAX_STEPS, value_name = "N")]
    pub max_steps: u64,

    /// Transport decoding rounds per field.
    #[arg(long, default_value_t = DEFAULT_MAX_DECODE_ROUNDS, value_name = "N")]
    pub max_decode_rounds: usize,

    /// Top-level lookups examined per field.
    #[arg(long, default_value_t = DEFAULT_MAX_SPANS_PER_FIELD, value_name = "N")]
    pub max_spans_per_field: usize,

    /// Longest raw text kept in a record, in characters.
    #[arg(long, default_value_t = DEFAULT_MAX_RAW_CHARS, value_name = "N")]
    pub max_raw_chars: usize,

    /// Read block size; also the longest line segment evaluated at once.
    #[arg(long, default_value_t = DEFAULT_BLOCK_BYTES, value_name = "BYTES")]
    pub block_bytes: usize,

    /// Decompressed bytes read from one file before it is abandoned with an error (bomb guard).
    #[arg(long, default_value_t = DEFAULT_MAX_DECOMPRESSED_BYTES, value_name = "BYTES")]
    pub max_decompressed_bytes: u64,

    /// Send the hunt's deduplicated indicators (callback hosts, payload URLs, command hosts,
    /// source addresses, with counts, first/last seen and techniques) to a quell server: its base
    /// URL or the full `/api/v1/indicators` URL. Log lines are not sent (see --upload-lines).
    #[arg(long, value_name = "URL", requires = "token")]
    pub upload: Option<String>,

    /// The API token for --upload (an upload-only token is enough).
    #[arg(long, env = "QUELL_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// The TLP 2.0 marking of the upload: CLEAR, GREEN, AMBER, AMBER+STRICT or RED. AMBER+STRICT
    /// and RED indicators never leave your organisation on the server.
    #[arg(long, default_value = "AMBER", value_name = "TLP", requires = "upload")]
    pub tlp: Tlp,

    /// Also send the raw payload of every attempt (file, line, time, decoded payload; at most
    /// 10,000).
    #[arg(long, requires = "upload")]
    pub upload_lines: bool,

    /// The host name the upload names (default: this machine's host name).
    #[arg(long, value_name = "NAME", requires = "upload")]
    pub host_name: Option<String>,
}

impl HuntArgs {
    fn config(&self) -> Result<HuntConfig, String> {
        let mut environment = Environment::default();
        for e in &self.env {
            let (key, value) = e.split_once('=').ok_or_else(|| format!("--env {e:?}: expected LOOKUP=VALUE"))?;
            match key.split_once(':') {
                Some((prefix, name)) => {
                    environment
                        .lookups
                        .entry(prefix.to_lowercase())
                        .or_default()
                        .insert(name.to_owned(), value.to_owned());
                }
                None => {
                    environment.properties.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        Ok(HuntConfig {
            limits: EvalLimits {
                max_lookups: self.max_lookups,
                max_depth: self.max_depth,
                max_buffer: self.max_buffer,
                max_rescan_passes: self.max_rescan_passes.max(1),
                max_steps: self.max_steps,
            },
            environment,
            reader: LogReader { block_bytes: self.block_bytes, max_decompressed_bytes: self.max_decompressed_bytes },
            decoder: Decoder { max_rounds: self.max_decode_rounds },
            max_spans_per_field: self.max_spans_per_field,
            max_raw_chars: self.max_raw_chars,
            vulnerabilities: self.only.unwrap_or_default(),
        })
    }
}

fn parse_only(list: &str) -> Result<VulnSet, String> {
    VulnSet::parse(list)
}

/// Writes records to stdout in the chosen format.
struct Printer {
    format: HuntFormat,
    quiet: bool,
    colour: bool,
    out: BufWriter<std::io::Stdout>,
    failed: bool,
    /// `--format csv`: the CSV writer (attempt rows, or indicator rows with `--summary`).
    csv: Option<HuntCsv<std::io::Stdout>>,
}

impl Printer {
    fn line(&mut self, s: &str) {
        if !self.failed && writeln!(self.out, "{s}").is_err() {
            // A closed pipe (`| head`): stop writing, keep counting.
            self.failed = true;
        }
    }

    fn record(&mut self, record: &HuntRecord) {
        match self.format {
            HuntFormat::Json => {
                let quiet_skip = self.quiet && matches!(record, HuntRecord::Error(_) | HuntRecord::Summary(_));
                if !quiet_skip {
                    let s = serde_json::to_string(record).unwrap_or_else(|e| {
                        format!("{{\"kind\":\"error\",\"file\":\"\",\"message\":\"cannot serialise record: {e}\"}}")
                    });
                    self.line(&s);
                }
            }
            HuntFormat::Csv
                if matches!(record, HuntRecord::Attempt(_) | HuntRecord::Trace(_) | HuntRecord::Indicator(_)) =>
            {
                let written = match (&mut self.csv, record) {
                    (Some(csv), HuntRecord::Attempt(a)) => csv.attempt(a),
                    (Some(csv), HuntRecord::Trace(t)) => csv.trace(t),
                    (Some(csv), HuntRecord::Indicator(i)) => csv.indicator(i),
                    _ => Ok(()),
                };
                if written.is_err() {
                    self.failed = true;
                }
            }
            // CSV: errors and the summary go to stderr, as in text mode.
            HuntFormat::Text | HuntFormat::Csv => match record {
                HuntRecord::Attempt(a) => {
                    let s = self.text_attempt(a);
                    self.line(&s);
                }
                HuntRecord::Trace(t) => {
                    let s = self.text_trace(t);
                    self.line(&s);
                }
                HuntRecord::Error(e) if !self.quiet => {
                    let _ = self.out.flush();
                    let warn = style(stderr_colour(), AnsiColor::Yellow, true);
                    eprintln!("{warn}error{warn:#}   {}: {}", e.file, e.message);
                }
                HuntRecord::Indicator(i) => {
                    let s = self.text_indicator(i);
                    self.line(&s);
                }
                HuntRecord::Summary(s) if !self.quiet => {
                    let _ = self.out.flush();
                    eprintln!("{}", text_summary(s));
                }
                _ => {}
            },
        }
    }

    fn text_attempt(&self, a: &Attempt) -> String {
        let red = style(self.colour, AnsiColor::Red, true);
        let dim = style(self.colour, AnsiColor::BrightBlack, false);
        let label = if a.dos {
            "dos"
        } else if !a.functional {
            "intent"
        } else if a.rescan_only {
            "rescan"
        } else {
            "attempt"
        };
        let mut where_ = format!("{}:{}", a.file, a.line);
        if let Some(f) = &a.field {
            where_.push_str(&format!(" [{f}]"));
        }
        let mut who = Vec::new();
        if let Some(ip) = &a.source_ip {
            who.push(ip.clone());
        }
        if let Some(t) = &a.time {
            who.push(t.clone());
        }
        let mut names = if a.jndi.is_empty() { a.raw.clone() } else { a.jndi.join("  ") };
        if let Some(t) = &a.text4shell {
            let acts: Vec<String> = t
                .scripts
                .iter()
                .map(|s| format!("script {}: {}", s.engine, s.code))
                .chain(t.dns.iter().map(|d| format!("dns {d}")))
                .chain(t.urls.iter().map(|u| format!("url {u}")))
                .chain(t.files.iter().map(|f| format!("file {f}")))
                .collect();
            names = acts.join("  ");
        }
        if let Some(s) = &a.spring4shell {
            names = match (&s.written_file, &s.request) {
                (Some(f), Some(req)) => format!("{}: {req} (dropped {f})", s.stage),
                (Some(f), None) => format!("{}: writes {f}", s.stage),
                _ => format!(
                    "{}: {}",
                    s.stage,
                    s.parameters.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(" ")
                ),
            };
        }
        let vuln = Vulnerability::of_cve(&a.vulnerability).map_or(a.vulnerability.as_str(), |v| v.name());
        let mut details = vec![format!("{:?}", a.callback_class).to_lowercase()];
        if !a.decode_chain.is_empty() {
            details.push(format!("decoded: {}", a.decode_chain.join(">")));
        }
        let techniques: Vec<&str> =
            a.techniques.iter().map(String::as_str).filter(|t| !t.starts_with("encoding:")).collect();
        if !techniques.is_empty() {
            details.push(techniques.join(","));
        }
        if !a.exfiltration.is_empty() {
            details.push(format!("exfiltrates {}", a.exfiltration.join(",")));
        }
        for c in &a.commands {
            details.push(format!("{}: {}", c.kind, c.command.replace('\n', " ")));
        }
        let who = if who.is_empty() { String::new() } else { format!(" {}", who.join(" ")) };
        format!("{where_}{who} {red}{label}{red:#} {vuln} {names} {dim}({}){dim:#}", details.join("; "))
    }

    fn text_trace(&self, t: &Trace) -> String {
        let yellow = style(self.colour, AnsiColor::Yellow, true);
        let what = if t.jndi.is_empty() { t.indicator.clone() } else { t.jndi.join("  ") };
        format!("{}:{} {yellow}trace{yellow:#} {what}", t.file, t.line)
    }

    fn text_indicator(&self, i: &IndicatorCount) -> String {
        let class = i.callback_class.map(|c| format!(" ({c:?})").to_lowercase()).unwrap_or_default();
        format!(
            "{:<13} {:>7}  {}{class}  first {} last {}",
            i.indicator,
            i.count,
            i.value,
            sighting_text(&i.first_seen),
            sighting_text(&i.last_seen)
        )
    }
}

/// When an indicator was seen: the log line's time, with where it is (`2021-12-11T10:00:00Z
/// (access.log:12)`); the place alone when the line had no readable time.
fn sighting_text(s: &quell_model::hunt::Sighting) -> String {
    match &s.time {
        Some(time) => format!("{time} ({}:{})", s.file, s.line),
        None => format!("{}:{} (no time in the line)", s.file, s.line),
    }
}

fn stderr_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn text_summary(s: &HuntSummary) -> String {
    let secs = s.elapsed_ms as f64 / 1000.0;
    let rate = if secs > 0.0 { s.bytes as f64 / secs } else { 0.0 };
    format!(
        "hunted {} file(s), {}, {} lines in {secs:.2}s ({}/s): {} attempt(s), {} trace(s), {} error(s)",
        s.files,
        human_bytes(s.bytes),
        s.lines,
        human_bytes(rate as u64),
        s.attempts,
        s.traces,
        s.errors
    ) + &by_vulnerability(s)
}

/// ` (CVE-2021-44228: 3, CVE-2022-42889: 1)`, or nothing without attempts.
fn by_vulnerability(s: &HuntSummary) -> String {
    if s.by_vulnerability.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = s.by_vulnerability.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(" ({})", parts.join(", "))
}

/// Sends the collected indicators to `POST /api/v1/indicators`. First/last seen come from the log
/// lines' times where they could be read, otherwise they are the upload time (`time_source`).
fn upload(
    sightings: SightingCollector,
    url: &str,
    token: &str,
    tlp: Tlp,
    host_override: Option<&str>,
) -> Result<String, String> {
    let host = host_override.map(str::to_owned).or_else(crate::upload::host_name).unwrap_or_else(|| "unknown".into());
    if sightings.lines_dropped() > 0 {
        eprintln!(
            "quell hunt: --upload-lines: {} line(s) beyond the first {} not sent",
            sightings.lines_dropped(),
            quell_hunt::sightings::DEFAULT_MAX_UPLOAD_LINES
        );
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let body =
        sightings.finish(i64::try_from(now).unwrap_or(i64::MAX), &host, &format!("quell {}", crate::LONG_VERSION), tlp);
    let json = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    crate::upload::post_gzip(&crate::upload::endpoint_for(url, "/api/v1/indicators"), token, "application/json", &json)
}

pub fn run(args: HuntArgs) -> u8 {
    let started = Instant::now();
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quell hunt: {e}");
            return 2;
        }
    };
    let paths = if args.paths.is_empty() { vec![PathBuf::from("-")] } else { args.paths.clone() };
    if paths.len() == 1 && paths[0].as_os_str() == "-" && std::io::stdin().is_terminal() {
        eprintln!("quell hunt: no PATH given and standard input is a terminal; see `quell hunt --help`");
        return 2;
    }
    let (sources, walk_errors) = LogReader::sources(&paths);
    let threads =
        if args.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.threads };
    let mut printer = Printer {
        format: args.format,
        quiet: args.quiet,
        colour: args.format == HuntFormat::Text && stdout_colour(),
        out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
        failed: false,
        csv: None,
    };
    if args.format == HuntFormat::Csv {
        let csv =
            if args.summary { HuntCsv::indicators(std::io::stdout()) } else { HuntCsv::attempts(std::io::stdout()) };
        match csv {
            Ok(csv) => printer.csv = Some(csv),
            Err(_) => printer.failed = true,
        }
    }
    let mut totals = HuntSummary {
        files: 0,
        bytes: 0,
        lines: 0,
        attempts: 0,
        traces: 0,
        errors: 0,
        elapsed_ms: 0,
        by_vulnerability: Default::default(),
    };
    for e in walk_errors {
        totals.errors += 1;
        printer.record(&HuntRecord::Error(HuntError { file: e.path.clone(), message: e.source.to_string() }));
    }
    let hunter = Hunter::new(config);
    let mut indicators = IndicatorSummary::new();
    let mut sightings = args
        .upload
        .is_some()
        .then(|| SightingCollector::new(args.upload_lines.then_some(quell_hunt::sightings::DEFAULT_MAX_UPLOAD_LINES)));
    let summary_mode = args.summary;
    hunter.hunt_sources(&sources, threads, |report| {
        totals.files += u64::from(report.complete);
        totals.bytes += report.stats.bytes;
        totals.lines += report.stats.lines;
        totals.attempts += report.attempts;
        totals.traces += report.traces;
        totals.errors += report.errors;
        for r in &report.records {
            if let HuntRecord::Attempt(a) = r {
                *totals.by_vulnerability.entry(a.vulnerability.clone()).or_default() += 1;
            }
            if let (Some(sightings), HuntRecord::Attempt(a)) = (&mut sightings, r) {
                sightings.add(a);
            }
            match r {
                HuntRecord::Attempt(a) if summary_mode => indicators.add(a),
                HuntRecord::Trace(_) if summary_mode => {}
                _ => printer.record(r),
            }
        }
    });
    if summary_mode {
        for i in indicators.indicators() {
            printer.record(&HuntRecord::Indicator(i));
        }
    }
    if sources.is_empty() && totals.errors == 0 {
        totals.errors += 1;
        printer.record(&HuntRecord::Error(HuntError { file: String::new(), message: "no log files found".into() }));
    }
    totals.elapsed_ms = started.elapsed().as_millis() as u64;
    printer.record(&HuntRecord::Summary(totals.clone()));
    let _ = printer.out.flush();
    if let Some(csv) = &mut printer.csv {
        let _ = csv.flush();
    }
    if let (Some(sightings), Some(url), Some(token)) = (sightings, &args.upload, &args.token) {
        match upload(sightings, url, token, args.tlp, args.host_name.as_deref()) {
            Ok(answer) => eprintln!("quell hunt: uploaded: {answer}"),
            Err(e) => {
                eprintln!("quell hunt: upload failed: {e}");
                return 2;
            }
        }
    }
    if totals.attempts > 0 || totals.traces > 0 {
        1
    } else if totals.errors > 0 {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_show_when_an_indicator_was_seen() {
        let at = |time: Option<&str>| quell_model::hunt::Sighting {
            file: "access.log".into(),
            line: 12,
            time: time.map(str::to_string),
        };
        assert_eq!(sighting_text(&at(Some("2021-12-11T10:00:00Z"))), "2021-12-11T10:00:00Z (access.log:12)");
        assert_eq!(sighting_text(&at(None)), "access.log:12 (no time in the line)");
    }
}
