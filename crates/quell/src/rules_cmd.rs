//! `quell rules`: the detection packs — list, check, test against labelled files, build
//! fingerprint tables — and the `--rules`/`--only` flags that `scan` and `fix` share.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use quell_model::{CveStatus, Finding, ScanRecord};
use quell_packs::{Pack, Rules};

/// Where the packs of a scan come from: the built-in packs, plus `--rules`, narrowed by `--only`.
#[derive(Debug, Clone, Default, Args)]
pub struct PackArgs {
    /// A detection pack (.toml) or a directory of them, added to the built-in packs; a pack with
    /// the name of a built-in pack replaces it. Repeatable.
    #[arg(long = "rules", value_name = "PATH", env = "QUELL_RULES", value_delimiter = ':', hide_env_values = true)]
    pub rules: Vec<PathBuf>,

    /// Use only these packs, by name, comma-separated (see `quell rules list`).
    #[arg(long, value_delimiter = ',', value_name = "PACK,...")]
    pub only: Vec<String>,
}

impl PackArgs {
    /// Reads, validates and compiles the packs, and installs them as the process's active rules
    /// (reports describe vulnerabilities from them). Errors name file and line.
    pub fn load(&self) -> Result<Arc<Rules>, String> {
        self.load_with(Vec::new())
    }

    /// As [`PackArgs::load`], with `extra` packs (already validated: `--rules-from`) after the
    /// files of `--rules`; a pack replaces an earlier one of the same name.
    pub fn load_with(&self, extra: Vec<(Pack, String)>) -> Result<Arc<Rules>, String> {
        let mut packs = quell_packs::builtin_packs();
        packs.extend(read_packs(&self.rules)?);
        packs.extend(extra);
        let mut rules = Rules::compile(&packs);
        if !self.only.is_empty() {
            rules = rules.only(&self.only)?;
        }
        let rules = Arc::new(rules);
        quell_packs::set_active(rules.clone());
        Ok(rules)
    }
}

/// Reads every pack file named (directories: their `*.toml`, sorted), validating each.
fn read_packs(paths: &[PathBuf]) -> Result<Vec<(Pack, String)>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let listing = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = listing
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut packs = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let shown = file.display().to_string();
        match read_pack_file(&file) {
            Ok(pack) => packs.push((pack, shown)),
            Err(errors) => problems.extend(errors),
        }
    }
    if problems.is_empty() { Ok(packs) } else { Err(problems.join("\n")) }
}

fn read_pack_file(file: &Path) -> Result<Pack, Vec<String>> {
    let shown = file.display().to_string();
    let meta = std::fs::metadata(file).map_err(|e| vec![format!("{shown}: {e}")])?;
    if meta.len() > quell_packs::format::MAX_PACK_BYTES as u64 {
        return Err(vec![format!("{shown}: {} bytes, more than a pack may have", meta.len())]);
    }
    let text = crate::config::read_capped(file, quell_packs::format::MAX_PACK_BYTES as u64)
        .map_err(|e| vec![format!("{shown}: {e}")])?;
    quell_packs::parse(&shown, &text).map_err(|errors| errors.iter().map(|e| e.to_string()).collect())
}

/// A pack named on the command line: a file, or the name of a built-in pack.
fn pack_by_name_or_path(arg: &str) -> Result<(Pack, String), Vec<String>> {
    let path = Path::new(arg);
    if path.exists() {
        return read_pack_file(path).map(|p| (p, arg.to_string()));
    }
    quell_packs::builtin_packs()
        .into_iter()
        .find(|(p, _)| p.name.get_ref() == arg)
        .ok_or_else(|| vec![format!("{arg}: no such file, and no built-in pack of that name")])
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell rules list                              the packs in use: built-in and --rules
  quell rules check my-pack.toml                validate a pack: file, line and what is wrong
  quell rules test my-pack.toml labels.tsv      labelled jars must give the expected verdicts
  quell rules test commons-text labels.tsv --base target/pack-jars
  quell rules build my-pack.toml releases/      class fingerprints from one jar per release
  quell scan --rules my-pack.toml /srv          scan with the built-in packs and yours
  quell scan --only spring-beans /srv           scan for Spring4Shell alone

A pack is a TOML file that describes a library's marker classes, version rules, fingerprints,
vulnerabilities (OSV events in Maven order) and mitigations; docs/packs.md explains the format
with a worked example, packs/schema.json is its JSON Schema.

Exit codes: 0 ok, 1 problems found (invalid pack, a label not met), 2 the command failed.")]
pub struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

/// Output formats of `quell rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// List the packs in use (built-in, plus --rules), their components and vulnerabilities.
    List {
        #[command(flatten)]
        packs: PackArgs,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Validate packs; every problem with file, line and what is wrong.
    Check {
        /// Pack files (or directories of them).
        #[arg(required = true, value_name = "PACK")]
        packs: Vec<PathBuf>,
    },
    /// Scan labelled files with a pack alone and compare with the expected copies and verdicts.
    ///
    /// LABELS is a tab-separated file: `file  component  version  verdicts`, one expected copy
    /// per line (`#` starts a comment). `component` `-` says the file holds no copy; `version`
    /// is the exact version or range the scan must report (`*`: any); `verdicts` is
    /// `CVE-ID=status,...` (affected, mitigated, not_affected) or `*`.
    Test {
        /// A pack file, or the name of a built-in pack.
        #[arg(value_name = "PACK")]
        pack: String,
        /// The labels (TSV).
        #[arg(value_name = "LABELS")]
        labels: PathBuf,
        /// Directory the labelled file names are relative to (default: the labels' directory).
        #[arg(long, value_name = "DIR")]
        base: Option<PathBuf>,
        /// Print only mismatches and the total.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compute a pack's class fingerprints from a folder of release jars, one per version.
    ///
    /// Each jar's version comes from its pom.properties (else its manifest, else the file name
    /// `artifact-VERSION.jar`). For every class the pack names, the SHA-256 of its bytes in each
    /// release is written as `[[fingerprint]]` tables, and the releases read as
    /// `[[fingerprint_source]]`, between marker comments that a later build replaces.
    Build {
        /// The pack file to compute fingerprints for.
        #[arg(value_name = "PACK")]
        pack: PathBuf,
        /// Folder of release jars.
        #[arg(value_name = "DIR")]
        releases: PathBuf,
        /// Rewrite the pack file in place (otherwise the tables go to standard output).
        #[arg(long)]
        write: bool,
    },
}

/// Runs `quell rules`; returns the exit code.
pub fn run(args: RulesArgs) -> u8 {
    match args.command {
        RulesCommand::List { packs, format } => list(&packs, format),
        RulesCommand::Check { packs } => check(&packs),
        RulesCommand::Test { pack, labels, base, quiet } => test(&pack, &labels, base.as_deref(), quiet),
        RulesCommand::Build { pack, releases, write } => crate::rules_build::run(&pack, &releases, write),
    }
}

fn list(args: &PackArgs, format: ListFormat) -> u8 {
    let rules = match args.load() {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("quell rules list: {e}");
            return 2;
        }
    };
    let mut out = String::new();
    match format {
        ListFormat::Json => {
            for pack in rules.packs() {
                let _ = writeln!(out, "{}", serde_json::to_string(pack).unwrap_or_default());
            }
        }
        ListFormat::Text => {
            for pack in rules.packs() {
                let _ = writeln!(
                    out,
                    "{}  {}{}\n  source: {}\n  components: {}\n  vulnerabilities: {}",
                    pack.name,
                    pack.title,
                    pack.revision.as_ref().map(|r| format!(" (revision {r})")).unwrap_or_default(),
                    pack.source,
                    pack.components.join(", "),
                    pack.vulnerabilities.join(", "),
                );
            }
        }
    }
    crate::output::print_stdout(&out)
}

fn check(paths: &[PathBuf]) -> u8 {
    let mut bad = false;
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|d| {
                    d.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                        .collect()
                })
                .unwrap_or_default();
            found.sort();
            found
        } else {
            vec![path.clone()]
        };
        for file in files {
            match read_pack_file(&file) {
                Ok(pack) => {
                    let vulns = pack.vulnerabilities.len();
                    println!(
                        "{}: ok — pack {} ({} component{}, {vulns} vulnerabilit{})",
                        file.display(),
                        pack.name.get_ref(),
                        pack.components.len(),
                        if pack.components.len() == 1 { "" } else { "s" },
                        if vulns == 1 { "y" } else { "ies" },
                    );
                }
                Err(errors) => {
                    bad = true;
                    for e in errors {
                        println!("{e}");
                    }
                }
            }
        }
    }
    u8::from(bad)
}

/// One expected copy of a labels file.
#[derive(Debug)]
struct Label {
    line: usize,
    component: String,
    version: String,
    verdicts: Option<Vec<(String, String)>>,
}

fn parse_labels(text: &str) -> Result<BTreeMap<String, Vec<Label>>, String> {
    let mut files: BTreeMap<String, Vec<Label>> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 4 {
            return Err(format!("line {}: {} columns, want 4 (file, component, version, verdicts)", i + 1, cols.len()));
        }
        let entry = files.entry(cols[0].to_string()).or_default();
        if cols[1] == "-" {
            continue;
        }
        let verdicts = if cols[3] == "*" {
            None
        } else {
            let mut list = Vec::new();
            for pair in cols[3].split(',') {
                let (id, status) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("line {}: verdict {pair:?} is not CVE-ID=status", i + 1))?;
                if !matches!(status, "affected" | "mitigated" | "not_affected") {
                    return Err(format!("line {}: status {status:?}: affected, mitigated or not_affected", i + 1));
                }
                list.push((id.to_string(), status.to_string()));
            }
            Some(list)
        };
        entry.push(Label { line: i + 1, component: cols[1].to_string(), version: cols[2].to_string(), verdicts });
    }
    Ok(files)
}

/// Collects the findings and errors of one scan.
#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<ScanRecord>>);

impl quell_scan::ReportSink for Collect {
    fn record(&self, record: ScanRecord) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(record);
    }
}

fn describe(f: &Finding) -> String {
    let version = f.version.clone().or_else(|| f.version_range.clone()).unwrap_or_else(|| "?".into());
    let cves: Vec<String> = f.cves.iter().map(|c| format!("{}={}", c.id, c.status)).collect();
    format!("{} {version} [{}] in {}", f.component, cves.join(","), f.path.join("!/"))
}

fn test(pack_arg: &str, labels_path: &Path, base: Option<&Path>, quiet: bool) -> u8 {
    let pack = match pack_by_name_or_path(pack_arg) {
        Ok(pack) => pack,
        Err(errors) => {
            for e in errors {
                eprintln!("quell rules test: {e}");
            }
            return 2;
        }
    };
    let rules = Rules::compile(&[pack]);
    quell_packs::set_active(Arc::new(rules.clone()));
    let text = match std::fs::read_to_string(labels_path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("quell rules test: {}: {e}", labels_path.display());
            return 2;
        }
    };
    let labels = match parse_labels(&text) {
        Ok(labels) => labels,
        Err(e) => {
            eprintln!("quell rules test: {}: {e}", labels_path.display());
            return 2;
        }
    };
    let base =
        base.map(Path::to_path_buf).unwrap_or_else(|| labels_path.parent().unwrap_or(Path::new(".")).to_path_buf());
    let mut mismatches = 0usize;
    let mut checked = 0usize;
    let mut out = String::new();
    for (file, expected) in &labels {
        let path = base.join(file);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("quell rules test: {}: {e}", path.display());
                return 2;
            }
        };
        let sink = Collect::default();
        quell_scan::scan_bytes_with(file, &bytes, &quell_scan::Limits::default(), &rules, &sink);
        let records = sink.0.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut findings: Vec<Finding> = records
            .iter()
            .filter_map(|r| match r {
                ScanRecord::Finding(f) => Some(f.clone()),
                _ => None,
            })
            .collect();
        let mut problems = Vec::new();
        for r in &records {
            if let ScanRecord::Error(e) = r {
                problems.push(format!("error {}: {}", e.path.join("!/"), e.message));
            }
        }
        for label in expected {
            let found = findings.iter().position(|f| {
                // Versions compare in Maven order (`4.3.30` = `4.3.30.RELEASE`), ranges as text.
                let same_version = f.version.as_deref().is_some_and(|v| {
                    v == label.version
                        || quell_model::MavenVersion::new(v) == quell_model::MavenVersion::new(&label.version)
                });
                f.component.name() == label.component
                    && (label.version == "*"
                        || same_version
                        || f.version_range.as_deref() == Some(label.version.as_str()))
            });
            let Some(index) = found else {
                problems.push(format!(
                    "line {}: want {} {}, found {}",
                    label.line,
                    label.component,
                    label.version,
                    if findings.is_empty() {
                        "no copy".to_string()
                    } else {
                        findings.iter().map(describe).collect::<Vec<_>>().join("; ")
                    }
                ));
                continue;
            };
            let finding = findings.remove(index);
            if let Some(verdicts) = &label.verdicts {
                for (id, want) in verdicts {
                    let got = finding.cves.iter().find(|c| c.id.id() == id).map(|c| c.status.to_string());
                    if got.as_deref() != Some(want.as_str()) {
                        problems.push(format!(
                            "line {}: {id} want {want}, got {}",
                            label.line,
                            got.unwrap_or_else(|| "no verdict".into())
                        ));
                    }
                }
                let extra: Vec<String> = finding
                    .cves
                    .iter()
                    .filter(|c| c.status == CveStatus::Affected && !verdicts.iter().any(|(id, _)| id == c.id.id()))
                    .map(|c| c.id.to_string())
                    .collect();
                if !extra.is_empty() {
                    problems.push(format!("line {}: unlabelled affected verdicts {}", label.line, extra.join(",")));
                }
            }
        }
        for extra in &findings {
            problems.push(format!("unexpected copy: {}", describe(extra)));
        }
        checked += 1;
        if problems.is_empty() {
            if !quiet {
                let _ = writeln!(out, "ok        {file}");
            }
        } else {
            mismatches += 1;
            let _ = writeln!(out, "MISMATCH  {file}");
            for p in problems {
                let _ = writeln!(out, "          {p}");
            }
        }
    }
    let _ = writeln!(out, "{checked} files, {mismatches} mismatched");
    let printed = crate::output::print_stdout(&out);
    if printed != 0 {
        return printed;
    }
    u8::from(mismatches > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_and_refuse_bad_rows() {
        let labels = parse_labels(
            "# comment\na.jar\tcommons-text\t1.9\tCVE-2022-42889=affected\nb.jar\t-\t-\t-\nc.jar\tx\t*\t*\n",
        )
        .expect("labels");
        assert_eq!(labels.len(), 3);
        assert!(labels["b.jar"].is_empty());
        assert_eq!(labels["a.jar"][0].verdicts.as_ref().map(Vec::len), Some(1));
        assert!(parse_labels("a.jar\tx\t1\n").is_err());
        assert!(parse_labels("a.jar\tx\t1\tCVE-1=vulnerable\n").is_err());
    }
}
