//! `quell registry`: the product status registry's lists, offline (`check`, `convert`) and into a
//! server (`import`). The work is `quell-registry`'s; this module reads files, prints and exits.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use quell_registry::csaf::{supplier_slug, to_csaf_vex_all};
use quell_registry::{
    CsafMeta, Entry, Format, Problem, ProblemKind, Status, count_problems, count_statuses, import, merge, to_csv,
    to_json, to_markdown,
};

/// Arguments of `quell registry`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell registry check software/software_list_*.md       problems of the Dutch list, with file:line
  quell registry check --format json cisa/cisagov_*.yml > check.json
  quell registry check ncsc-nl/software_list_*.md cisa/cisagov_*.yml   both lists, merged
  quell registry convert ncsc-nl/software_list_*.md cisa/cisagov_*.yml --to markdown --out registry.md
  quell registry convert list.csv --to json --out list.json
  quell registry convert ncsc-nl/software_list_*.md --to csaf --out vex/   one CSAF VEX per supplier
  quell registry import ncsc-nl/software_list_*.md --server https://quell.example.org --token T

Formats are recognised by extension (.md, .csv, .json, .yml/.yaml) or by content; --from forces one.
Exit codes: 0 ok, 1 problems reported (check, import), 2 the command failed.")]
pub struct RegistryArgs {
    #[command(subcommand)]
    command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Import and merge list files offline; print counts per status and every problem with file:line.
    Check(CheckArgs),
    /// Import and merge list files, and write them as Markdown, CSV, JSON or CSAF VEX.
    Convert(ConvertArgs),
    /// Send list files to a quell server's registry (coordinator token).
    Import(ImportArgs),
}

/// The input formats, as the server's `?format=` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FromFormat {
    /// The Dutch list's Markdown tables.
    NcscMd,
    /// The Dutch list's CSV release.
    NcscCsv,
    /// The Dutch list's JSON release.
    NcscJson,
    /// The US list's YAML.
    CisaYaml,
}

impl FromFormat {
    fn format(self) -> Format {
        match self {
            FromFormat::NcscMd => Format::NcscMarkdown,
            FromFormat::NcscCsv => Format::NcscCsv,
            FromFormat::NcscJson => Format::NcscJson,
            FromFormat::CisaYaml => Format::CisaYaml,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    /// Counts and one problem per line.
    Text,
    /// One JSON object: counts, problems by kind, every problem.
    Json,
}

#[derive(Debug, Args)]
struct Inputs {
    /// List files (Markdown, CSV, JSON or YAML).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// The format of every file (default: by extension, then by content).
    #[arg(long, value_enum, value_name = "FORMAT")]
    from: Option<FromFormat>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    inputs: Inputs,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ToFormat {
    /// The 9-column Markdown table of the Dutch list (a column more per further CVE).
    Markdown,
    /// The CSV release format of the Dutch list.
    Csv,
    /// The JSON release format of the Dutch list.
    Json,
    /// CSAF 2.0 VEX, one document per supplier, into a directory.
    Csaf,
}

#[derive(Debug, Args)]
struct ConvertArgs {
    #[command(flatten)]
    inputs: Inputs,

    /// What to write.
    #[arg(long, value_enum)]
    to: ToFormat,

    /// The output file (markdown, csv, json; `-` or absent: standard output) or directory (csaf).
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,

    /// CSAF: the publisher's name.
    #[arg(long, default_value = "quell registry", value_name = "NAME")]
    publisher_name: String,

    /// CSAF: the publisher's namespace (a URL).
    #[arg(long, default_value = "https://quell.invalid", value_name = "URL")]
    publisher_namespace: String,

    /// CSAF: the prefix of each document's tracking id (the supplier's slug follows).
    #[arg(long, default_value = "QUELL-REGISTRY", value_name = "PREFIX")]
    id_prefix: String,

    /// CSAF: the release date, RFC 3339 (default: now).
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[command(flatten)]
    inputs: Inputs,

    /// The server's base URL (`https://quell.example.org`).
    #[arg(long, value_name = "URL")]
    server: String,

    /// A coordinator's API token.
    #[arg(long, env = "QUELL_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    token: String,
}

/// Runs `quell registry`; returns the exit code.
pub fn run(args: RegistryArgs) -> u8 {
    let result = match args.command {
        RegistryCommand::Check(args) => check(args),
        RegistryCommand::Convert(args) => convert(args),
        RegistryCommand::Import(args) => import_to_server(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("quell registry: {message}");
            2
        }
    }
}

/// A file read and its format decided.
struct Input {
    name: String,
    format: Format,
    bytes: Vec<u8>,
}

fn read_inputs(inputs: &Inputs) -> Result<Vec<Input>, String> {
    let mut out = Vec::with_capacity(inputs.files.len());
    for path in &inputs.files {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = file_name(path);
        let format = match inputs.from {
            Some(from) => from.format(),
            None => Format::detect(&name, &bytes).ok_or_else(|| {
                format!("{}: unknown format (use --from ncsc-md|ncsc-csv|ncsc-json|cisa-yaml)", path.display())
            })?,
        };
        out.push(Input { name, format, bytes });
    }
    Ok(out)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

struct Imported {
    rows: usize,
    registry: Vec<Entry>,
    problems: Vec<Problem>,
}

fn import_inputs(inputs: &[Input]) -> Imported {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        let outcome = import(input.format, &input.name, &input.bytes);
        entries.extend(outcome.entries);
        problems.extend(outcome.problems);
    }
    let rows = entries.len();
    Imported { rows, registry: merge(entries), problems }
}

fn check(args: CheckArgs) -> Result<u8, String> {
    let inputs = read_inputs(&args.inputs)?;
    let imported = import_inputs(&inputs);
    let counts = count_statuses(&imported.registry);
    let by_kind = count_problems(&imported.problems);
    let conflicts: usize = imported.registry.iter().map(|e| e.conflicts.len()).sum();
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        CheckFormat::Json => {
            let report = serde_json::json!({
                "files": inputs.iter().map(|i| serde_json::json!({"file": i.name, "format": i.format.as_str()})).collect::<Vec<_>>(),
                "rows": imported.rows,
                "entries": imported.registry.len(),
                "conflicts": conflicts,
                "statuses": counts,
                "problems_by_kind": by_kind.iter().map(|(k, n)| (k.as_str().to_string(), *n)).collect::<BTreeMap<_, _>>(),
                "problems": imported.problems,
            });
            writeln!(out, "{report}")
        }
        CheckFormat::Text => write_check_text(&mut out, &inputs, &imported, &counts, &by_kind, conflicts),
    };
    written.map_err(|e| format!("writing: {e}"))?;
    Ok(if imported.problems.is_empty() { 0 } else { 1 })
}

fn write_check_text(
    out: &mut impl Write,
    inputs: &[Input],
    imported: &Imported,
    counts: &BTreeMap<String, BTreeMap<Status, usize>>,
    by_kind: &BTreeMap<ProblemKind, usize>,
    conflicts: usize,
) -> std::io::Result<()> {
    for problem in &imported.problems {
        writeln!(out, "{}:{}: {}: {}", problem.file, problem.line, problem.kind, problem.message)?;
    }
    if !imported.problems.is_empty() {
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} files, {} rows, {} entries after merging ({} conflicting statuses kept aside)",
        inputs.len(),
        imported.rows,
        imported.registry.len(),
        conflicts
    )?;
    write!(out, "{:<16}", "entries")?;
    for status in Status::ALL {
        write!(out, " {:>19}", status.as_str())?;
    }
    writeln!(out)?;
    for (cve, per) in counts {
        write!(out, "{cve:<16}")?;
        for status in Status::ALL {
            write!(out, " {:>19}", per.get(&status).copied().unwrap_or(0))?;
        }
        writeln!(out)?;
    }
    let total: usize = by_kind.values().sum();
    write!(out, "{total} problems")?;
    if total > 0 {
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        write!(out, ": {}", kinds.join(", "))?;
    }
    writeln!(out)
}

fn write_output(out: Option<&Path>, text: &str) -> Result<(), String> {
    match out {
        None => std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| format!("writing: {e}")),
        Some(path) if path.as_os_str() == "-" => {
            std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| format!("writing: {e}"))
        }
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
    }
}

fn convert(args: ConvertArgs) -> Result<u8, String> {
    let inputs = read_inputs(&args.inputs)?;
    let imported = import_inputs(&inputs);
    let registry = &imported.registry;
    match args.to {
        ToFormat::Markdown => write_output(args.out.as_deref(), &to_markdown(registry))?,
        ToFormat::Csv => write_output(args.out.as_deref(), &to_csv(registry))?,
        ToFormat::Json => {
            let json = serde_json::to_string_pretty(&to_json(registry)).map_err(|e| e.to_string())?;
            write_output(args.out.as_deref(), &(json + "\n"))?;
        }
        ToFormat::Csaf => {
            let dir = args.out.as_deref().ok_or("--to csaf needs --out DIRECTORY")?;
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let meta = CsafMeta {
                publisher_name: args.publisher_name,
                publisher_namespace: args.publisher_namespace,
                publisher_category: "coordinator".to_string(),
                id_prefix: args.id_prefix,
                date: args.date.unwrap_or_else(quell_model::time::now_rfc3339),
                generator_version: env!("CARGO_PKG_VERSION").to_string(),
            };
            let docs = to_csaf_vex_all(registry, &meta);
            for (supplier, doc) in &docs {
                // File names follow CSAF 2.0 section 5.1: the tracking id in lower case, every
                // character other than `+`, `-`, a-z and 0-9 replaced by `_`, then `.json`.
                let id = doc["document"]["tracking"]["id"].as_str().map(str::to_string);
                let stem: String = id
                    .unwrap_or_else(|| supplier_slug(supplier))
                    .to_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' { c } else { '_' })
                    .collect();
                let path = dir.join(format!("{stem}.json"));
                let text = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())?;
                std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
            }
            eprintln!("quell registry: {} CSAF VEX documents in {}", docs.len(), dir.display());
        }
    }
    if !imported.problems.is_empty() {
        eprintln!(
            "quell registry: {} problems in the input (see `quell registry check`); {} entries written",
            imported.problems.len(),
            registry.len()
        );
    }
    Ok(0)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept). By hand: one small function,
/// not worth a dependency.
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The import URL for one file.
fn import_url(server: &str, format: Format, name: &str) -> String {
    let base = server.trim_end_matches('/');
    let base = base.strip_suffix("/api/v1/registry/import").unwrap_or(base);
    format!("{base}/api/v1/registry/import?format={}&name={}", format.as_str(), query_escape(name))
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::NcscMarkdown => "text/markdown; charset=utf-8",
        Format::NcscCsv => "text/csv; charset=utf-8",
        Format::NcscJson => "application/json",
        Format::CisaYaml => "application/yaml",
    }
}

fn import_to_server(args: ImportArgs) -> Result<u8, String> {
    let inputs = read_inputs(&args.inputs)?;
    let mut problems = 0usize;
    let mut failed = 0usize;
    for input in &inputs {
        let url = import_url(&args.server, input.format, &input.name);
        // The server's import is idempotent (importing a file again changes nothing): retries are safe.
        match crate::upload::post(&url, &args.token, content_type(input.format), None, &input.bytes) {
            Ok(answer) => {
                let report: serde_json::Value = serde_json::from_str(&answer).unwrap_or(serde_json::Value::Null);
                let n = |key: &str| report[key].as_u64().unwrap_or(0);
                let file_problems = report["problems"].as_array().map(Vec::len).unwrap_or(0);
                problems += file_problems;
                println!(
                    "{}: {} entries: {} created, {} updated, {} unchanged; {} problems",
                    input.name,
                    n("entries"),
                    n("created"),
                    n("updated"),
                    n("unchanged"),
                    file_problems
                );
                for problem in report["problems"].as_array().into_iter().flatten() {
                    println!(
                        "{}:{}: {}: {}",
                        problem["file"].as_str().unwrap_or(&input.name),
                        problem["line"].as_u64().unwrap_or(0),
                        problem["kind"].as_str().unwrap_or("?"),
                        problem["message"].as_str().unwrap_or("")
                    );
                }
            }
            Err(message) => {
                eprintln!("quell registry: {}: {message}", input.name);
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 {
        2
    } else if problems > 0 {
        1
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_urls() {
        assert_eq!(
            import_url("http://h:8080/", Format::CisaYaml, "cisagov_A b&c.yml"),
            "http://h:8080/api/v1/registry/import?format=cisa-yaml&name=cisagov_A%20b%26c.yml"
        );
        assert_eq!(
            import_url("http://h/api/v1/registry/import", Format::NcscMarkdown, "a.md"),
            "http://h/api/v1/registry/import?format=ncsc-md&name=a.md"
        );
    }
}
