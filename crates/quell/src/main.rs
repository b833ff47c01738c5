//! `quell` — the command-line binary: flags, wiring, output and exit codes.
//!
//! The binary is thin: each subcommand module turns what the user typed into the library call that
//! does the work, and turns the library's typed results into output and an exit code
//! (0 nothing found, 1 findings, 2 failure).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

mod config;
mod fix_cmd;
mod generate_cmd;
mod hunt_cmd;
mod output;
mod packs_remote;
mod registry_cmd;
mod report_out;
mod rules_build;
mod rules_cmd;
mod scan_cmd;
#[cfg(feature = "server")]
mod serve_cmd;
mod upload;

/// `quell 0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-02)`: the release, the git commit it was
/// built from and the build date (`SOURCE_DATE_EPOCH` when set), from `build.rs`.
pub(crate) const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("QUELL_GIT_COMMIT"),
    ", built ",
    env!("QUELL_BUILD_DATE"),
    ")"
);

/// Find, fix and hunt Log4Shell-class flaws: every embedded copy of a vulnerable Java library
/// (Log4j, Spring, Commons Text, Commons Collections, or any detection pack), however deeply
/// nested, and every exploitation attempt in your logs.
#[derive(Debug, Parser)]
#[command(name = "quell", version = LONG_VERSION, about, long_about = None, after_help = "\
Examples:
  quell scan /opt /srv                 find every Log4j, Spring4Shell, Text4Shell... copy
  quell scan --only commons-text /srv  one detection pack only (quell rules list)
  quell scan --format json app.ear     JSON lines, one finding per line
  quell hunt /var/log/nginx            look for exploitation attempts in logs
  quell fix /srv                       dry run: what removing JndiLookup would change
  quell fix --apply /srv               remove it, with backups (quell fix --restore undoes)
  quell serve                          the coordination server (SQLite in ./quell-data)
  quell scan --upload URL --token T /  send a host's scan to the server
  quell registry check list/*.md       problems and status counts of software lists

Exit codes: 0 nothing found, 1 findings (affected copies / attempts), 2 the command failed.")]
pub(crate) struct Cli {
    /// Configuration file: a table per subcommand, keys are its long flags (default
    /// /etc/quell/quell.toml when it exists; flags and QUELL_* variables override it).
    #[arg(long, global = true, value_name = "FILE", env = "QUELL_CONFIG", hide_env_values = true)]
    #[allow(dead_code)] // read from the raw arguments by `config::config_path`, before clap parses
    config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell config check                         the file in use, every setting and where it comes from
  quell --config ./quell.toml config check   another file

A file (/etc/quell/quell.toml, or --config FILE, or QUELL_CONFIG) has a table per subcommand
whose keys are that subcommand's long flags, with the same values:

  [scan]
  upload = \"https://quell.example.org\"
  token-file = \"/etc/quell/token\"
  exclude = [\"/home/*/.cache\", \"/var/lib/docker\"]
  paths = [\"/\"]

  [serve]
  listen = \"127.0.0.1:8080\"

Flags override the file, QUELL_* variables (QUELL_TOKEN, QUELL_RULES, ...) come in between.
Unknown tables and keys are errors with their line. Exit codes: 0 ok, 1 the file has problems.")]
struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration file and print the effective settings with their sources.
    Check,
}

// Parsed once per process: the size of the largest variant (`serve`'s flags) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Find and classify every copy of a vulnerable library (Log4j and the other detection packs)
    /// in files, directories and nested archives.
    Scan(scan_cmd::ScanArgs),
    /// Find Log4Shell exploitation attempts in log files.
    Hunt(hunt_cmd::HuntArgs),
    /// Remove JndiLookup from affected Log4j copies, safely, with backups and restore.
    Fix(fix_cmd::FixArgs),
    /// Run the coordination server: organisations upload scans, see their inventory.
    #[cfg(feature = "server")]
    Serve(serve_cmd::ServeArgs),
    /// Manage the server's accounts, organisations and API tokens.
    #[cfg(feature = "server")]
    Admin(serve_cmd::AdminArgs),
    /// The product status registry's lists: check, convert (Markdown, CSV, JSON, CSAF VEX), import.
    Registry(registry_cmd::RegistryArgs),
    /// Detection packs: list, check, test against labelled jars, build fingerprint tables.
    Rules(rules_cmd::RulesArgs),
    /// The configuration file: check it and see the effective settings.
    Config(ConfigArgs),
    /// Man pages and shell completions (for packages).
    #[command(hide = true)]
    Generate(generate_cmd::GenerateArgs),
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut command = Cli::command();
    let checking = args.iter().any(|a| a == "config") && args.iter().any(|a| a == "check");
    let config = match config::config_path(&args) {
        None => None,
        Some(path) => match config::read(&path, &command) {
            Ok(config) => Some(config),
            Err(errors) => {
                for e in errors {
                    if checking {
                        println!("{e}");
                    } else {
                        eprintln!("quell: {e}");
                    }
                }
                return ExitCode::from(if checking { 1 } else { 2 });
            }
        },
    };
    if let Some(config) = &config {
        command = config::apply(command, config);
    }
    let matches = command.clone().get_matches_from(&args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let code = match cli.command {
        Command::Config(ConfigArgs { command: ConfigCommand::Check }) => {
            output::print_stdout(&config::describe(config.as_ref(), &command))
        }
        Command::Scan(args) => scan_cmd::run(args),
        Command::Hunt(args) => hunt_cmd::run(args),
        Command::Fix(args) => fix_cmd::run(args),
        #[cfg(feature = "server")]
        Command::Serve(args) => serve_cmd::run(args),
        #[cfg(feature = "server")]
        Command::Admin(args) => serve_cmd::run_admin(args),
        Command::Registry(args) => registry_cmd::run(args),
        Command::Rules(args) => rules_cmd::run(args),
        Command::Generate(args) => generate_cmd::run(args),
    };
    ExitCode::from(code)
}
