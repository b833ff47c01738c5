//! `quell scan`: flags, output formats and the exit code of a scan.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anstyle::AnsiColor;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use quell_model::{CveStatus, Finding, InventoryComponent, ScanRecord, ScanSummary};
use quell_scan::{Limits, ReportSink, ScanOptions, WalkOptions, limits};

use crate::output::{human_bytes, stderr_progress, stdout_colour, style};
use crate::report_out::Document;

/// Output formats of `quell scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// A readable table; colour only on a terminal.
    Text,
    /// JSON lines: one finding, error or summary object per line.
    Json,
    /// CycloneDX 1.6 JSON BOM: each copy, the archives holding it, and a VEX analysis per CVE.
    Cyclonedx,
    /// CycloneDX 1.6 VEX only: the vulnerabilities and analyses of the same scan.
    CyclonedxVex,
    /// SARIF 2.1.0: one rule per CVE, one result per affected copy and CVE.
    Sarif,
    /// CSV (RFC 4180): one row per copy, one column per CVE.
    Csv,
}

impl ScanFormat {
    /// The formats that are whole documents, rendered once the scan has finished.
    fn document(self) -> Option<Document> {
        match self {
            ScanFormat::Text | ScanFormat::Json => None,
            ScanFormat::Cyclonedx => Some(Document::CycloneDx),
            ScanFormat::CyclonedxVex => Some(Document::CycloneDxVex),
            ScanFormat::Sarif => Some(Document::Sarif),
            ScanFormat::Csv => Some(Document::Csv),
        }
    }
}

/// The order of text and JSON records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortOrder {
    /// By path chain, printed when the scan is over: the same files give the same output.
    Path,
    /// As found, streamed while the scan runs (several threads: the order varies).
    None,
}

/// Arguments of `quell scan`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell scan /opt /srv /var/lib              scan directories, nested archives included
  quell scan app.ear                         one file: every jar in every war in the ear
  quell scan --format json / > findings.jsonl   the whole host, JSON lines
  quell scan --format cyclonedx /srv > bom.cdx.json   CycloneDX 1.6 SBOM + VEX
  quell scan --format cyclonedx-vex /srv > vex.cdx.json   VEX only
  quell scan --format sarif /srv > quell.sarif   SARIF 2.1.0, code scanning
  quell scan --format csv /srv > copies.csv  one row per copy, a column per CVE
  quell scan --exclude '/home/*/.cache' --one-file-system /
  quell scan --threads 1 --max-depth 8 /mnt/share
  quell scan --nice --quiet / > report.txt   low CPU and I/O priority on a busy host
  quell scan --sort none --format json / | jq .   stream records as found (order varies)
  quell scan --inventory --format json /srv > inventory.jsonl   every jar, with purl and hashes
  quell scan --inventory --format cyclonedx /srv > sbom.cdx.json   the full Java SBOM + VEX
  quell scan --inventory --hash-cache /var/cache/quell/hashes.jsonl /srv   daily: hash only what changed
  quell scan --only spring-beans,commons-text /srv   some detection packs only
  quell scan --rules ./next-crisis.toml /srv  add a pack (quell rules --help)
  quell scan --rules-from https://quell.example.org \\
      --rules-key /etc/quell/packs.pub --token-file /etc/quell/token /srv
                                             add the server's signed detection packs; exit 2,
                                             nothing scanned, if one is unsigned, tampered,
                                             signed by another key or expired

Output (--format json), one object per line:
  {\"kind\":\"finding\",\"path\":[\"/srv/app.ear\",\"lib/log4j-core-2.14.1.jar\"],\"component\":\"log4j-core\",
   \"version\":\"2.14.1\",\"version_range\":null,\"confidence\":\"confirmed\",\"evidence\":[...],
   \"mitigations\":[],\"cves\":[{\"id\":\"CVE-2021-44228\",\"status\":\"affected\"},...]}
  {\"kind\":\"error\",\"path\":[\"/srv/broken.jar\"],\"message\":\"...\"}
  {\"kind\":\"component\",\"path\":[\"/srv/app.war\",\"WEB-INF/lib/commons-text-1.9.jar\"],
   \"purl\":\"pkg:maven/org.apache.commons/commons-text@1.9\",\"name\":\"commons-text\",\"version\":\"1.9\",
   \"hashes\":{\"sha1\":\"...\",\"sha256\":\"...\"},\"confidence\":\"confirmed\",\"evidence\":[...]}   (--inventory)
  {\"kind\":\"summary\",\"files\":1234,\"archives\":56,\"bytes\":789,\"findings\":3,\"affected\":2,\"errors\":1,
   \"elapsed_ms\":420,\"inflated_bytes\":5678,\"host\":\"web1\",
   \"tool_version\":\"quell 0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02)\",
   \"finished_at\":\"2026-12-02T05:40:51Z\"}

Detection packs (quell rules list): log4j (2.x core, 1.x, reload4j), commons-text
(Text4Shell), spring-beans (Spring4Shell), commons-collections (deserialisation gadgets).
Verdicts per CVE: affected; mitigated (the pack's removable class is gone, e.g. JndiLookup:
CVE-2021-44228 and CVE-2021-45046 only, the other two still need an upgrade to 2.17.1, 2.12.4 or
2.3.2); not_affected. Versions before 2.0-beta9 have no JNDI lookup and are not affected by the
2.x CVEs.

Exit codes: 0 no affected copy, 1 at least one affected copy, 2 the scan could not run.")]
pub struct ScanArgs {
    /// Files and directories to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,

    /// Order of text and JSON output: `path` (sorted by path chain when the scan is over, the
    /// same every run) or `none` (streamed as found).
    #[arg(long, value_enum, default_value_t = SortOrder::Path)]
    pub sort: SortOrder,

    /// Print nothing but findings (no progress, no summary, no error lines in text mode).
    #[arg(long, short)]
    pub quiet: bool,

    /// Worker threads (0 = one per CPU core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,

    /// Stay on the file system of each starting path (like find -xdev).
    #[arg(long, short = 'x')]
    pub one_file_system: bool,

    /// Also scan network file systems (nfs, cifs, sshfs, ...), skipped by default.
    #[arg(long)]
    pub network: bool,

    /// Skip paths matching this glob (matched against the full path and the file name); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Do not skip .git, .hg, .svn and node_modules directories.
    #[arg(long)]
    pub no_default_excludes: bool,

    /// Deepest archive nesting to open.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_DEPTH, value_name = "N")]
    pub max_depth: usize,

    /// Bytes inflated per top-level file, all nesting levels together (zip bomb guard).
    #[arg(long, default_value_t = limits::DEFAULT_MAX_INFLATED_BYTES, value_name = "BYTES")]
    pub max_inflated_bytes: u64,

    /// Entries accepted per archive.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_ENTRIES, value_name = "N")]
    pub max_entries: usize,

    /// Nested archives up to this size are read in memory; larger ones go to a temporary file.
    #[arg(long, default_value_t = limits::DEFAULT_IN_MEMORY_ARCHIVE_BYTES, value_name = "BYTES")]
    pub in_memory_archive_bytes: u64,

    /// Nested archives held in memory by all threads together; beyond this they are spilled.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_MEMORY_BYTES, value_name = "BYTES")]
    pub max_memory_bytes: u64,

    /// Largest class, pom.properties or manifest entry read as evidence.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_EVIDENCE_BYTES, value_name = "BYTES")]
    pub max_evidence_bytes: u64,

    /// Be polite: lowest CPU priority (nice 19), which on Linux also gives the lowest best-effort
    /// I/O priority (the I/O priority of a process follows its nice value unless set otherwise).
    #[arg(long)]
    pub nice: bool,

    /// Seconds spent on one top-level file before it is abandoned with an error.
    #[arg(long, default_value_t = limits::DEFAULT_MAX_TIME_PER_FILE.as_secs(), value_name = "SECONDS")]
    pub max_time_per_file: u64,

    /// Also report every Java archive (jars, wars, ears, nested ones included) as a `component`
    /// record: identity from its own pom.properties, else its manifest, else its file name, with
    /// SHA-1 and SHA-256 of its bytes. CycloneDX output lists them as components with purls.
    #[arg(long)]
    pub inventory: bool,

    /// With --inventory: keep the archives' hashes in FILE and reuse them for files unchanged
    /// since (same device, inode, size, modification and status-change time), so a daily scan
    /// hashes only what changed. Written whole and renamed into place, mode 0600; a cache that is
    /// malformed, not yours or writable by others is ignored with a warning.
    #[arg(long, value_name = "FILE", requires = "inventory")]
    pub hash_cache: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub packs: crate::rules_cmd::PackArgs,

    #[command(flatten)]
    pub remote_packs: crate::packs_remote::RemotePackArgs,

    #[command(flatten)]
    pub upload: crate::upload::UploadArgs,
}

impl ScanArgs {
    fn options(&self, rules: std::sync::Arc<quell_scan::Rules>) -> ScanOptions {
        ScanOptions {
            rules,
            inventory: self.inventory,
            hash_cache: None,
            limits: Limits {
                max_depth: self.max_depth,
                max_inflated_bytes: self.max_inflated_bytes,
                max_entries: self.max_entries,
                in_memory_archive_bytes: self.in_memory_archive_bytes,
                max_memory_bytes: self.max_memory_bytes,
                max_evidence_bytes: self.max_evidence_bytes,
                max_time_per_file: Duration::from_secs(self.max_time_per_file),
            },
            walk: WalkOptions {
                threads: self.threads,
                follow_symlinks: self.follow_symlinks,
                one_file_system: self.one_file_system,
                network: self.network,
                excludes: self.exclude.clone(),
                default_excludes: !self.no_default_excludes,
            },
        }
    }
}

/// Writes records as they arrive. Holds the lock only for one record at a time.
struct CliSink {
    format: ScanFormat,
    quiet: bool,
    colour: bool,
    out: Mutex<BufWriter<std::io::Stdout>>,
    progress: Option<ProgressBar>,
    counts: ProgressCounts,
    write_failed: std::sync::atomic::AtomicBool,
    /// Standard output's reader went away: nothing more is printed, the exit is quiet.
    pipe_closed: std::sync::atomic::AtomicBool,
    /// The findings of a document format, rendered at the end.
    findings: Mutex<Vec<Finding>>,
    /// The inventory components of a document format, rendered at the end.
    inventory: Mutex<Vec<InventoryComponent>>,
    /// The report for `--upload`, collected as it is printed.
    upload: Option<crate::upload::Collector>,
    host_name: Option<String>,
    /// Text and JSON records held for `--sort path`, printed by [`CliSink::flush_sorted`].
    sorted: Option<Mutex<Vec<ScanRecord>>>,
}

/// What the progress display shows, counted as records arrive.
#[derive(Default)]
struct ProgressCounts {
    files: AtomicU64,
    bytes: AtomicU64,
    archives: AtomicU64,
    copies: AtomicU64,
    affected: AtomicU64,
}

impl ProgressCounts {
    /// One status line: `1,234 files · 56 archives · 1.2 GiB · 3 copies (2 affected) · 410.3 MiB/s`.
    fn line(&self, elapsed: Duration) -> String {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let bytes = load(&self.bytes);
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { human_bytes((bytes as f64 / secs) as u64) + "/s" } else { "-".to_string() };
        format!(
            "{} files · {} archives · {} · {} copies ({} affected) · {rate}",
            thousands(load(&self.files)),
            thousands(load(&self.archives)),
            human_bytes(bytes),
            thousands(load(&self.copies)),
            thousands(load(&self.affected)),
        )
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl CliSink {
    fn write(&self, text: &str) {
        if self.pipe_closed.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let write = |out: &mut BufWriter<std::io::Stdout>| out.write_all(text.as_bytes());
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let result = match &self.progress {
            Some(bar) => bar.suspend(|| write(&mut out).and_then(|_| out.flush())),
            None => write(&mut out),
        };
        match result {
            Ok(()) => {}
            // The reader is gone (`| head`): print nothing more and end quietly with the status
            // of the work done, as grep does — after the scan and any upload have finished.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.pipe_closed.store(true, std::sync::atomic::Ordering::Relaxed)
            }
            Err(_) => self.write_failed.store(true, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Prints the records held for `--sort path`: by path chain (findings, errors and components
    /// of one chain together, then by component and version), the summary last.
    fn flush_sorted(&self) {
        let Some(held) = &self.sorted else { return };
        let mut records = std::mem::take(&mut *held.lock().unwrap_or_else(|p| p.into_inner()));
        let key = |r: &ScanRecord| -> (Vec<String>, u8, String, String) {
            match r {
                ScanRecord::Finding(f) => {
                    (f.path.clone(), 1, f.component.name().to_string(), f.version.clone().unwrap_or_default())
                }
                ScanRecord::Component(c) => (c.path.clone(), 0, c.name.clone(), String::new()),
                ScanRecord::Error(e) => (e.path.clone(), 2, e.message.clone(), String::new()),
                ScanRecord::Summary(_) => (Vec::new(), 3, String::new(), String::new()),
            }
        };
        records.sort_by_cached_key(|r| {
            let (path, kind, a, b) = key(r);
            (matches!(r, ScanRecord::Summary(_)), path, kind, a, b)
        });
        for record in records {
            self.print(record);
        }
    }

    /// A record of a document format: findings are kept for the end, errors and the summary go
    /// to stderr (unless `--quiet`) so that stdout holds the document alone.
    fn document_record(&self, record: ScanRecord) {
        let line = match record {
            ScanRecord::Finding(finding) => {
                self.findings.lock().unwrap_or_else(|p| p.into_inner()).push(finding);
                return;
            }
            ScanRecord::Component(component) => {
                self.inventory.lock().unwrap_or_else(|p| p.into_inner()).push(component);
                return;
            }
            ScanRecord::Error(error) if !self.quiet => {
                format!("error     {}: {}", error.path.join("!/"), error.message)
            }
            ScanRecord::Summary(summary) if !self.quiet => text_summary(&summary).trim().to_string(),
            _ => return,
        };
        match &self.progress {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn text_finding(&self, finding: &Finding) -> String {
        let any = |s: CveStatus| finding.cves.iter().any(|c| c.status == s);
        let (label, colour) = if any(CveStatus::Affected) {
            ("AFFECTED ", AnsiColor::Red)
        } else if any(CveStatus::Mitigated) {
            ("MITIGATED", AnsiColor::Yellow)
        } else {
            ("ok       ", AnsiColor::Green)
        };
        let label_style = style(self.colour, colour, true);
        let dim = style(self.colour, AnsiColor::BrightBlack, false);
        let version =
            finding.version.clone().or_else(|| finding.version_range.clone()).unwrap_or_else(|| "?".to_string());
        let confidence = match finding.confidence {
            quell_model::Confidence::Confirmed => "",
            quell_model::Confidence::Declared => " (declared only)",
        };
        let cves: Vec<String> = finding.cves.iter().map(|c| format!("{} {}", c.id, c.status)).collect();
        let mitigations = if finding.mitigations.is_empty() {
            String::new()
        } else {
            format!("  mitigations: {}", finding.mitigations.join(", "))
        };
        format!(
            "{label_style}{label}{label_style:#} {} {version}{confidence}  {}\n          {dim}{}{mitigations}{dim:#}\n",
            finding.component.name(),
            finding.path.join("!/"),
            cves.join(" · "),
        )
    }
}

impl CliSink {
    fn text_component(&self, component: &InventoryComponent) -> String {
        let dim = style(self.colour, AnsiColor::BrightBlack, false);
        let confidence = match component.confidence {
            quell_model::InventoryConfidence::Confirmed => "confirmed",
            quell_model::InventoryConfidence::Declared => "declared",
            quell_model::InventoryConfidence::Guessed => "guessed",
        };
        format!(
            "component {} {}  {}\n          {dim}{} · sha256 {}{dim:#}\n",
            component.name,
            component.version.as_deref().unwrap_or("?"),
            component.path.join("!/"),
            component.purl.as_deref().unwrap_or(confidence),
            component.hashes.sha256,
        )
    }
}

impl ReportSink for CliSink {
    fn record(&self, mut record: ScanRecord) {
        crate::upload::stamp(&mut record, self.host_name.as_deref());
        if let Some(collector) = &self.upload {
            collector.push(&record);
        }
        if let ScanRecord::Finding(finding) = &record {
            self.counts.copies.fetch_add(1, Ordering::Relaxed);
            if finding.is_affected() {
                self.counts.affected.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(held) = &self.sorted
            && matches!(self.format, ScanFormat::Text | ScanFormat::Json)
        {
            held.lock().unwrap_or_else(|p| p.into_inner()).push(record);
            return;
        }
        self.print(record);
    }

    fn file_scanned(&self, _path: &std::path::Path, bytes: u64) {
        self.counts.files.fetch_add(1, Ordering::Relaxed);
        self.counts.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(bar) = &self.progress {
            bar.set_message(self.counts.line(bar.elapsed()));
        }
    }

    fn archive_opened(&self) {
        self.counts.archives.fetch_add(1, Ordering::Relaxed);
    }
}

impl CliSink {
    fn print(&self, record: ScanRecord) {
        match self.format {
            ScanFormat::Cyclonedx | ScanFormat::CyclonedxVex | ScanFormat::Sarif | ScanFormat::Csv => {
                self.document_record(record)
            }
            ScanFormat::Json => {
                let line = serde_json::to_string(&record).unwrap_or_else(|e| {
                    format!("{{\"kind\":\"error\",\"path\":[],\"message\":\"cannot serialise record: {e}\"}}")
                });
                self.write(&(line + "\n"));
            }
            ScanFormat::Text => match &record {
                ScanRecord::Finding(finding) => self.write(&self.text_finding(finding)),
                ScanRecord::Error(error) if !self.quiet => {
                    let warn = style(self.colour, AnsiColor::Yellow, false);
                    let line = format!("{warn}error{warn:#}     {}: {}\n", error.path.join("!/"), error.message);
                    self.write(&line);
                }
                ScanRecord::Summary(summary) if !self.quiet => self.write(&text_summary(summary)),
                ScanRecord::Component(component) => self.write(&self.text_component(component)),
                _ => {}
            },
        }
    }
}

fn text_summary(summary: &ScanSummary) -> String {
    format!(
        "\nscanned {} files ({}), {} archives ({} inflated) in {:.1} s: {} copies found, {} affected, {} errors\n",
        summary.files,
        human_bytes(summary.bytes),
        summary.archives,
        human_bytes(summary.inflated_bytes),
        summary.elapsed_ms as f64 / 1000.0,
        summary.findings,
        summary.affected,
        summary.errors,
    )
}

/// Lowers the CPU priority of the calling thread (and of every thread it starts later) to nice 19.
#[cfg(unix)]
pub fn lower_priority() -> std::io::Result<()> {
    rustix::process::setpriority_process(None, 19).map_err(std::io::Error::from)
}

/// No priority control on this platform; `--nice` does nothing.
#[cfg(not(unix))]
pub fn lower_priority() -> std::io::Result<()> {
    Ok(())
}

/// Runs `quell scan`; returns the exit code.
pub fn run(args: ScanArgs) -> u8 {
    if let Err(e) = quell_scan::walk::compile_excludes(&args.exclude) {
        eprintln!("quell scan: {e}");
        return 2;
    }
    let missing: Vec<_> = args.paths.iter().filter(|p| std::fs::symlink_metadata(p).is_err()).collect();
    if missing.len() == args.paths.len() {
        for path in missing {
            eprintln!("quell scan: cannot read {}: no such file or directory, or permission denied", path.display());
        }
        return 2;
    }
    if args.upload.upload.is_some()
        && let Err(e) = args.upload.token()
    {
        eprintln!("quell scan: {e}");
        return 2;
    }
    let remote = match args.remote_packs.fetch(|| args.upload.token_for("--rules-from"), args.quiet) {
        Ok(packs) => packs,
        Err(e) => {
            eprintln!("quell scan: --rules-from: {e}");
            return 2;
        }
    };
    let rules = match args.packs.load_with(remote) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("quell scan: {e}");
            return 2;
        }
    };
    if args.nice {
        // Before any worker thread exists: on Linux priority is per thread and inherited.
        if let Err(e) = lower_priority() {
            eprintln!("quell scan: --nice: cannot lower the priority: {e}");
        }
    }
    let progress = stderr_progress(args.quiet).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let sink = CliSink {
        format: args.format,
        quiet: args.quiet,
        colour: stdout_colour(),
        out: Mutex::new(BufWriter::new(std::io::stdout())),
        progress,
        counts: ProgressCounts::default(),
        write_failed: std::sync::atomic::AtomicBool::new(false),
        pipe_closed: std::sync::atomic::AtomicBool::new(false),
        findings: Mutex::new(Vec::new()),
        inventory: Mutex::new(Vec::new()),
        upload: args.upload.upload.is_some().then(crate::upload::Collector::default),
        host_name: args.upload.host_name.clone(),
        sorted: (args.sort == SortOrder::Path).then(|| Mutex::new(Vec::new())),
    };
    let mut options = args.options(rules);
    if let Some(file) = &args.hash_cache {
        let (cache, warning) = quell_scan::hash_cache::HashCache::open(file);
        if let Some(warning) = warning {
            eprintln!("quell scan: {warning}");
        }
        options.hash_cache = Some(std::sync::Arc::new(cache));
    }
    let summary = quell_scan::scan(&args.paths, &options, &sink);
    if let (Some(cache), Some(file)) = (&options.hash_cache, &args.hash_cache) {
        match cache.save() {
            Ok(()) if !args.quiet => {
                eprintln!("quell scan: hash cache: {} archive hashes reused", cache.hits())
            }
            Ok(()) => {}
            Err(e) => eprintln!("quell scan: --hash-cache {}: cannot write it: {e}", file.display()),
        }
    }
    if let Some(bar) = &sink.progress {
        bar.finish_and_clear();
    }
    sink.flush_sorted();
    if let Some(document) = args.format.document() {
        let findings = std::mem::take(&mut *sink.findings.lock().unwrap_or_else(|p| p.into_inner()));
        let inventory = std::mem::take(&mut *sink.inventory.lock().unwrap_or_else(|p| p.into_inner()));
        match crate::report_out::render(
            document,
            &crate::report_out::meta(&args.paths, args.upload.host_name.as_deref()),
            &findings,
            &inventory,
            &summary,
        ) {
            Ok(text) => sink.write(&text),
            Err(e) => {
                eprintln!("quell scan: cannot render the report: {e}");
                return 2;
            }
        }
    }
    let flush = sink.out.lock().map(|mut out| out.flush()).unwrap_or_else(|p| p.into_inner().flush());
    let pipe_closed = sink.pipe_closed.load(std::sync::atomic::Ordering::Relaxed)
        || flush.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
    if !pipe_closed && (flush.is_err() || sink.write_failed.load(std::sync::atomic::Ordering::Relaxed)) {
        eprintln!("quell scan: could not write the report to stdout");
        return 2;
    }
    if let Some(collector) = &sink.upload {
        match crate::upload::send(&args.upload, collector) {
            Ok(answer) => eprintln!("quell scan: uploaded: {answer}"),
            Err(e) => {
                eprintln!("quell scan: upload failed: {e}");
                return 2;
            }
        }
    }
    if summary.affected > 0 { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_shows_files_archives_bytes_copies_and_rate() {
        let counts = ProgressCounts::default();
        counts.files.store(12_345, Ordering::Relaxed);
        counts.bytes.store(2 * 1024 * 1024 * 1024, Ordering::Relaxed);
        counts.archives.store(3_001, Ordering::Relaxed);
        counts.copies.store(7, Ordering::Relaxed);
        counts.affected.store(2, Ordering::Relaxed);
        assert_eq!(
            counts.line(Duration::from_secs(4)),
            "12,345 files · 3,001 archives · 2.0 GiB · 7 copies (2 affected) · 512.0 MiB/s"
        );
        assert!(counts.line(Duration::ZERO).ends_with("· -"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn lower_priority_sets_nice_19_for_the_thread_and_its_children() {
        let nice_of_this_thread = || {
            let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
            // Fields after the parenthesised command name; nice is field 19 of stat(5).
            let after = stat.rsplit_once(')').expect("comm").1;
            after.split_whitespace().nth(16).expect("nice field").parse::<i32>().expect("number")
        };
        let (parent, child) = std::thread::spawn(move || {
            lower_priority().expect("setpriority");
            let child = std::thread::spawn(nice_of_this_thread).join().expect("child");
            (nice_of_this_thread(), child)
        })
        .join()
        .expect("thread");
        assert_eq!((parent, child), (19, 19));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
