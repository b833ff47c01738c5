//! The configuration file: `/etc/quell/quell.toml` (or `--config FILE`, or `QUELL_CONFIG`), with
//! one table per subcommand whose keys are that subcommand's long flags:
//!
//! ```toml
//! [scan]
//! upload = "https://quell.example.org"
//! token-file = "/etc/quell/token"
//! exclude = ["/home/*/.cache", "/var/lib/docker"]
//! max-depth = 16
//! rules = ["/etc/quell/packs"]
//!
//! [serve]
//! listen = "127.0.0.1:8080"
//! data-dir = "/var/lib/quell"
//! ```
//!
//! Precedence: a flag on the command line, then the `QUELL_*` environment variable of that flag,
//! then the file, then the built-in default. The file's values become the flags' defaults (clap
//! resolves the rest), so every setting has exactly the name, type and validation of its flag.
//! An unknown table or key is an error with its line: a typo never silently does nothing.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Command;

/// Read when no `--config` and no `QUELL_CONFIG` is given, if it exists.
pub const DEFAULT_CONFIG: &str = "/etc/quell/quell.toml";

/// Largest configuration file read (bytes).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// One `key = value` of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub section: String,
    /// The key as written (the long flag, `max-depth`).
    pub key: String,
    /// The clap id of the flag (`max_depth`).
    pub id: String,
    /// The values as the flag would take them (an array gives several).
    pub values: Vec<String>,
    pub line: usize,
    /// A secret (a token): never printed.
    pub secret: bool,
}

/// A configuration file, read and validated against the command line.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub file: PathBuf,
    pub settings: Vec<Setting>,
    /// Tables of subcommands this build does not have (`[serve]` in the agent): kept out, said.
    pub skipped: Vec<(String, usize)>,
}

/// Flags a file may not set: they change what a command does to the user's files, so they must
/// be typed each time (`quell fix` is a dry run unless `--apply` is on its command line).
pub const COMMAND_LINE_ONLY: [(&str, &str); 3] = [("fix", "apply"), ("fix", "strip-signatures"), ("fix", "restore")];

/// Subcommands of the full build only: their tables are skipped, not refused, by the agent, so
/// one file serves both packages.
pub const SERVER_ONLY_TABLES: [&str; 2] = ["serve", "admin"];

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The file named by `--config FILE` / `--config=FILE` in `args`, else `QUELL_CONFIG`, else
/// [`DEFAULT_CONFIG`] when it exists. `None`: no file.
pub fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            break;
        }
        if text == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    if let Some(path) = std::env::var_os("QUELL_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    Path::new(DEFAULT_CONFIG).is_file().then(|| PathBuf::from(DEFAULT_CONFIG))
}

fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a text file of at most `max` bytes (also when its size lies, as `/dev/zero`'s does).
pub fn read_capped(file: &Path, max: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(file)?.take(max + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(std::io::Error::other(format!("more than the {max} bytes such a file may have")));
    }
    Ok(text)
}

/// Reads a configuration file and checks every table and key against the subcommands and flags
/// of `cmd`. Errors are `FILE:LINE: what is wrong`, all of them.
pub fn read(file: &Path, cmd: &Command) -> Result<Config, Vec<String>> {
    let shown = file.display().to_string();
    let size = std::fs::metadata(file).map_err(|e| vec![format!("{shown}: {e}")])?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(vec![format!("{shown}: {size} bytes, more than the {MAX_CONFIG_BYTES} a configuration may have")]);
    }
    let text = read_capped(file, MAX_CONFIG_BYTES).map_err(|e| vec![format!("{shown}: {e}")])?;
    type Tables =
        BTreeMap<toml::Spanned<String>, toml::Spanned<BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>>>>;
    let tables: Tables = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(&text, s.start));
        vec![format!("{shown}:{line}: {}", e.message().trim())]
    })?;
    let mut errors = Vec::new();
    let mut settings = Vec::new();
    let mut skipped = Vec::new();
    for (section, keys) in &tables {
        let section_line = line_of(&text, section.span().start);
        if cmd.find_subcommand(section.get_ref()).is_none() && SERVER_ONLY_TABLES.contains(&section.get_ref().as_str())
        {
            skipped.push((section.get_ref().clone(), section_line));
            continue;
        }
        let Some(sub) = cmd.find_subcommand(section.get_ref()).filter(|s| !s.is_hide_set()) else {
            let known: Vec<&str> = cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(|s| s.get_name())
                .collect();
            errors.push(format!(
                "{shown}:{section_line}: unknown table [{}] (tables are subcommands: {})",
                section.get_ref(),
                known.join(", ")
            ));
            continue;
        };
        for (key, value) in keys.get_ref() {
            let line = line_of(&text, key.span().start);
            let arg = sub.get_arguments().find(|a| {
                a.get_long() == Some(key.get_ref().as_str()) || (a.is_positional() && a.get_id() == key.get_ref())
            });
            if COMMAND_LINE_ONLY.contains(&(section.get_ref().as_str(), key.get_ref().as_str())) {
                errors.push(format!(
                    "{shown}:{line}: `{}` cannot be set in a configuration file: it changes files, so it is \
                     given on the command line each time",
                    key.get_ref()
                ));
                continue;
            }
            let Some(arg) = arg.filter(|a| !matches!(a.get_id().as_str(), "help" | "version" | "config")) else {
                errors.push(format!(
                    "{shown}:{line}: unknown key `{}` in [{}] (keys are the long flags of `quell {} --help`)",
                    key.get_ref(),
                    section.get_ref(),
                    section.get_ref()
                ));
                continue;
            };
            let values: Option<Vec<String>> = match value.get_ref() {
                toml::Value::Array(items) => items.iter().map(scalar).collect(),
                other => scalar(other).map(|v| vec![v]),
            };
            let Some(values) = values else {
                errors.push(format!("{shown}:{line}: `{}`: a string, number, boolean or array of them", key.get_ref()));
                continue;
            };
            let multiple = arg.get_num_args().is_some_and(|n| n.max_values() > 1)
                || matches!(arg.get_action(), clap::ArgAction::Append);
            if values.len() > 1 && !multiple {
                errors.push(format!("{shown}:{line}: `{}` takes one value, not a list", key.get_ref()));
                continue;
            }
            settings.push(Setting {
                section: section.get_ref().clone(),
                key: key.get_ref().clone(),
                id: arg.get_id().to_string(),
                values,
                line,
                secret: arg.is_hide_env_values_set() && arg.get_long() == Some("token"),
            });
        }
    }
    if errors.is_empty() { Ok(Config { file: file.to_path_buf(), settings, skipped }) } else { Err(errors) }
}

/// Makes the file's values the defaults of their flags.
pub fn apply(mut cmd: Command, config: &Config) -> Command {
    for setting in &config.settings {
        let values = setting.values.clone();
        let id = setting.id.clone();
        cmd = cmd.mut_subcommand(setting.section.as_str(), move |sub| {
            sub.mut_arg(id, move |arg| {
                // A required argument with a default from the file is no longer required.
                arg.required(false).default_values(values)
            })
        });
    }
    cmd
}

/// `quell config check`: the effective settings and where each comes from.
pub fn describe(config: Option<&Config>, cmd: &Command) -> String {
    let mut out = String::new();
    match config {
        Some(config) => {
            out.push_str(&format!("configuration file: {}\n", config.file.display()));
            for (table, line) in &config.skipped {
                out.push_str(&format!(
                    "  [{table}] skipped: this build has no `quell {table}` (the agent)    ({}:{line})\n",
                    config.file.display()
                ));
            }
            for s in &config.settings {
                out.push_str(&format!(
                    "  {}.{} = {}    ({}:{})\n",
                    s.section,
                    s.key,
                    if s.secret { "(set, hidden)".to_string() } else { s.values.join(", ") },
                    config.file.display(),
                    s.line
                ));
            }
        }
        None => out.push_str(&format!("configuration file: none ({DEFAULT_CONFIG} does not exist)\n")),
    }
    let mut env_lines = Vec::new();
    for sub in cmd.get_subcommands() {
        for arg in sub.get_arguments() {
            if let Some(name) = arg.get_env()
                && std::env::var_os(name).is_some()
            {
                let secret = arg.is_hide_env_values_set();
                let value = if secret { "(set, hidden)".to_string() } else { std::env::var(name).unwrap_or_default() };
                env_lines.push(format!(
                    "  {}.{} = {value}    (environment {}, over the file)\n",
                    sub.get_name(),
                    arg.get_long().unwrap_or(arg.get_id().as_str()),
                    name.to_string_lossy()
                ));
            }
        }
    }
    if !env_lines.is_empty() {
        out.push_str("environment:\n");
        for l in env_lines {
            out.push_str(&l);
        }
    }
    out.push_str("Flags on the command line override both.\n");
    out
}
