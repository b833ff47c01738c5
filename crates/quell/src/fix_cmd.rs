//! `quell fix`: flags, output and exit codes of a fix or a restore.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anstyle::AnsiColor;
use clap::{Args, ValueEnum};
use quell_fix::{ActionStatus, FileAction, FixOptions, FixRecord, FixSummary, RestoreRecord, RestoreStatus};
use quell_scan::{Limits, ScanOptions, WalkOptions};

use crate::output::{stdout_colour, style};

/// Output formats of `quell fix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixFormat {
    /// Readable text; colour only on a terminal.
    Text,
    /// JSON lines: one action record per file, then a summary.
    Json,
}

/// Arguments of `quell fix`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  quell fix /opt/app               dry run: print the plan, change nothing
  quell fix --apply /opt/app       fix every affected copy, with backups
  quell fix --apply --format json /srv > fix.jsonl
  quell fix --apply --strip-signatures vendor-signed.jar
  quell fix --restore              put the originals back (hashes verified)

What it does: removes exactly the JndiLookup class (matched by suffix, shaded
copies included) of every log4j-core copy the scanner finds affected by
CVE-2021-44228 or CVE-2021-45046, at any nesting depth (jar in war in ear,
Spring Boot BOOT-INF/lib). Every other entry keeps its bytes, compression method
(nested jars stay STORED), order, timestamps and attributes; a prepended
launcher script is kept. The result is written to a temporary file in the same
directory, given the original's owner, mode and timestamps, fsynced, re-scanned
(the copy must read `mitigated`); the original is backed up, and only then
replaced by a rename. A failure at any step leaves the original untouched.
CVE-2021-45105 and CVE-2021-44832 are not fixed by this: they need an upgrade to
2.17.1 (Java 8+), 2.12.4 (Java 7) or 2.3.2 (Java 6).

Signed jars (META-INF/*.SF) are refused: changing them breaks the signature and
the JVM rejects the jar. --strip-signatures removes the signature files (*.SF,
*.RSA, *.DSA, *.EC) of each changed archive, so that it loads as unsigned.

Backups: --backup-dir, default /var/backups/quell for root, else
$XDG_STATE_HOME/quell/backups or ~/.local/state/quell/backups. It holds
objects/<sha256>-<name> (the originals) and manifest.jsonl (path, sha256, owner,
mode, mtime). --restore puts each original back unless the file changed since
the fix, and verifies its hash.

Output (--format json), one object per line:
  {\"kind\":\"action\",\"path\":\"/srv/app.jar\",\"status\":\"fixed\",\"copies\":[
    {\"path\":[...],\"version\":\"2.14.1\",\"removed\":[\"org/.../JndiLookup.class\"],
     \"mitigates\":[\"CVE-2021-44228\",\"CVE-2021-45046\"],
     \"needs_upgrade\":[\"CVE-2021-45105\",\"CVE-2021-44832\"],
     \"upgrade_to\":\"2.17.1 (Java 8+), ...\",\"verified\":true}],
   \"sha256_before\":\"...\",\"sha256_after\":\"...\",\"backup\":\"...\"}
  status: planned (dry run), fixed, refused (signed), unfixable (tar,
  exploded directory, ...), failed
  {\"kind\":\"summary\",\"applied\":true,\"files_changed\":1,\"copies_fixed\":1,...}

Exit codes: 0 no copy is left affected by CVE-2021-44228 or CVE-2021-45046
(nothing to do, or all fixed; upgrades for the other two may still be reported);
1 such copies remain (a dry run that found some, refused, unfixable or failed
files); 2 the command could not run.
With --restore: 0 all restored (or already original), 1 some files changed since
the fix and were left alone, 2 a restore failed or the manifest cannot be read.")]
pub struct FixArgs {
    /// Files and directories to fix.
    #[arg(value_name = "PATH", required_unless_present = "restore")]
    pub paths: Vec<PathBuf>,

    /// Write the changes (without it: dry run, nothing on disk changes).
    #[arg(long, conflicts_with = "restore")]
    pub apply: bool,

    /// Put back the originals recorded in the backup directory's manifest.
    #[arg(long)]
    pub restore: bool,

    /// Where originals and the manifest are kept (see below for the default).
    #[arg(long, value_name = "DIR", env = "QUELL_BACKUP_DIR", hide_env_values = true)]
    pub backup_dir: Option<PathBuf>,

    /// Remove the signature files of signed jars instead of refusing them.
    #[arg(long, conflicts_with = "restore")]
    pub strip_signatures: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FixFormat::Text)]
    pub format: FixFormat,

    /// Print only files that change or need attention, no summary.
    #[arg(long, short)]
    pub quiet: bool,

    /// Stay on the file system of each starting path (like find -xdev).
    #[arg(long, short = 'x')]
    pub one_file_system: bool,

    /// Skip paths matching this glob; repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    #[command(flatten)]
    pub packs: crate::rules_cmd::PackArgs,
}

struct Printer {
    format: FixFormat,
    quiet: bool,
    colour: bool,
    out: BufWriter<std::io::Stdout>,
    failed: bool,
}

impl Printer {
    fn write(&mut self, text: &str) {
        if self.out.write_all(text.as_bytes()).is_err() {
            self.failed = true;
        }
    }

    fn json(&mut self, line: Result<String, serde_json::Error>) {
        let line = line
            .unwrap_or_else(|e| format!("{{\"kind\":\"error\",\"path\":[],\"message\":\"cannot serialise: {e}\"}}"));
        self.write(&(line + "\n"));
    }

    fn action(&mut self, a: &FileAction) {
        let (label, colour) = match a.status {
            ActionStatus::Planned => ("WOULD FIX ", AnsiColor::Yellow),
            ActionStatus::Fixed => ("FIXED     ", AnsiColor::Green),
            ActionStatus::Refused => ("REFUSED   ", AnsiColor::Red),
            ActionStatus::Unfixable => ("CANNOT FIX", AnsiColor::Red),
            ActionStatus::Failed => ("FAILED    ", AnsiColor::Red),
        };
        let ls = style(self.colour, colour, true);
        let dim = style(self.colour, AnsiColor::BrightBlack, false);
        let mut text = format!("{ls}{label}{ls:#} {}\n", a.path);
        for copy in &a.copies {
            let version = copy.version.clone().or_else(|| copy.version_range.clone()).unwrap_or_else(|| "?".into());
            text.push_str(&format!("           log4j-core {version}  {}\n", copy.path.join("!/")));
            for removed in &copy.removed {
                text.push_str(&format!("           {dim}remove{dim:#} {removed}\n"));
            }
            if !copy.mitigates.is_empty() {
                let ids: Vec<&str> = copy.mitigates.iter().map(|c| c.id()).collect();
                text.push_str(&format!("           {dim}mitigates{dim:#} {}\n", ids.join(", ")));
            }
            if let Some(to) = &copy.upgrade_to {
                let ids: Vec<&str> = copy.needs_upgrade.iter().map(|c| c.id()).collect();
                text.push_str(&format!("           {dim}still needs an upgrade to {to}:{dim:#} {}\n", ids.join(", ")));
            }
        }
        for sig in &a.signature_files_removed {
            text.push_str(&format!("           {dim}remove signature file{dim:#} {sig}\n"));
        }
        if let Some(reason) = &a.reason {
            text.push_str(&format!("           {reason}\n"));
        }
        if let Some(backup) = &a.backup {
            text.push_str(&format!("           {dim}backup{dim:#} {backup}\n"));
        }
        self.write(&text);
    }

    fn summary(&mut self, s: &FixSummary) {
        let (verb, done) =
            if s.applied { ("changed", "mitigated") } else { ("would change (dry run: add --apply)", "to mitigate") };
        let text = format!(
            "\n{} files {verb}, {} copies {done}; {} refused, {} cannot be fixed here, {} failed; \
             {} copies still affected by CVE-2021-44228/45046; {} need an upgrade for CVE-2021-45105/44832; {} errors\n",
            s.files_changed,
            s.copies_fixed,
            s.files_refused,
            s.files_unfixable,
            s.files_failed,
            s.copies_still_affected,
            s.copies_needing_upgrade,
            s.errors,
        );
        self.write(&text);
    }

    fn record(&mut self, record: &FixRecord) {
        match (self.format, record) {
            (FixFormat::Json, r) => self.json(serde_json::to_string(r)),
            (FixFormat::Text, FixRecord::Action(a)) => self.action(a),
            (FixFormat::Text, FixRecord::Error { path, message }) if !self.quiet => {
                let warn = style(self.colour, AnsiColor::Yellow, false);
                self.write(&format!("{warn}error{warn:#}      {}: {message}\n", path.join("!/")));
            }
            (FixFormat::Text, FixRecord::Summary(s)) if !self.quiet => self.summary(s),
            _ => {}
        }
    }

    fn restore_record(&mut self, r: &RestoreRecord) {
        if self.format == FixFormat::Json {
            return self.json(serde_json::to_string(r));
        }
        let (label, colour) = match r.status {
            RestoreStatus::Restored => ("RESTORED  ", AnsiColor::Green),
            RestoreStatus::AlreadyOriginal => ("ORIGINAL  ", AnsiColor::Green),
            RestoreStatus::ChangedSinceFix => ("CHANGED   ", AnsiColor::Yellow),
            RestoreStatus::Failed => ("FAILED    ", AnsiColor::Red),
        };
        let ls = style(self.colour, colour, true);
        let message = r.message.as_deref().map(|m| format!("\n           {m}")).unwrap_or_default();
        self.write(&format!("{ls}{label}{ls:#} {}  sha256 {}{message}\n", r.path, r.sha256));
    }
}

/// Runs `quell fix`; returns the exit code.
pub fn run(args: FixArgs) -> u8 {
    let backup_dir = args.backup_dir.clone().unwrap_or_else(quell_fix::default_backup_dir);
    let mut printer = Printer {
        format: args.format,
        quiet: args.quiet,
        colour: stdout_colour(),
        out: BufWriter::new(std::io::stdout()),
        failed: false,
    };
    if args.restore {
        let records = match quell_fix::restore(&backup_dir, &mut |r| printer.restore_record(&r)) {
            Ok(records) => records,
            Err(e) => {
                eprintln!("quell fix --restore: cannot read the manifest in {}: {e}", backup_dir.display());
                return 2;
            }
        };
        if printer.out.flush().is_err() || printer.failed {
            eprintln!("quell fix: could not write the report to stdout");
            return 2;
        }
        return if records.iter().any(|r| r.status == RestoreStatus::Failed) {
            2
        } else if records.iter().any(|r| r.status == RestoreStatus::ChangedSinceFix) {
            1
        } else {
            0
        };
    }
    if let Err(e) = quell_scan::walk::compile_excludes(&args.exclude) {
        eprintln!("quell fix: {e}");
        return 2;
    }
    let missing: Vec<_> = args.paths.iter().filter(|p| std::fs::symlink_metadata(p).is_err()).collect();
    if missing.len() == args.paths.len() {
        for path in missing {
            eprintln!("quell fix: cannot read {}: no such file or directory, or permission denied", path.display());
        }
        return 2;
    }
    let rules = match args.packs.load() {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("quell fix: {e}");
            return 2;
        }
    };
    let options = FixOptions {
        apply: args.apply,
        strip_signatures: args.strip_signatures,
        backup_dir,
        scan: ScanOptions {
            rules,
            inventory: false,
            hash_cache: None,
            limits: Limits::default(),
            walk: WalkOptions {
                one_file_system: args.one_file_system,
                excludes: args.exclude.clone(),
                ..WalkOptions::default()
            },
        },
        fault: None,
    };
    let summary = quell_fix::fix(&args.paths, &options, &mut |record| printer.record(&record));
    if printer.out.flush().is_err() || printer.failed {
        eprintln!("quell fix: could not write the report to stdout");
        return 2;
    }
    if summary.copies_still_affected > 0 { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(paths: Vec<PathBuf>, backup: &std::path::Path) -> FixArgs {
        FixArgs {
            paths,
            apply: false,
            restore: false,
            backup_dir: Some(backup.to_path_buf()),
            strip_signatures: false,
            format: FixFormat::Json,
            quiet: true,
            one_file_system: false,
            exclude: Vec::new(),
            packs: Default::default(),
        }
    }

    #[test]
    fn exit_codes_of_dry_run_apply_and_restore() {
        let jar =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/jars/log4j-core-2.14.1.jar");
        let dir = tempfile::tempdir().expect("tempdir");
        let backup = tempfile::tempdir().expect("backup");
        let path = dir.path().join("app.jar");
        let original = std::fs::read(&jar).expect("corpus jar");
        std::fs::write(&path, &original).expect("write");
        assert_eq!(run(args(vec![path.clone()], backup.path())), 1, "dry run: affected copies remain");
        assert_eq!(std::fs::read(&path).expect("read"), original);
        assert_eq!(run(FixArgs { apply: true, ..args(vec![path.clone()], backup.path()) }), 0);
        assert_ne!(std::fs::read(&path).expect("read"), original);
        assert_eq!(run(args(vec![path.clone()], backup.path())), 0, "nothing left to do");
        assert_eq!(run(FixArgs { restore: true, ..args(Vec::new(), backup.path()) }), 0);
        assert_eq!(std::fs::read(&path).expect("read"), original);
        assert_eq!(run(args(vec![dir.path().join("missing.jar")], backup.path())), 2);
        let empty = tempfile::tempdir().expect("empty");
        assert_eq!(run(FixArgs { restore: true, ..args(Vec::new(), empty.path()) }), 2, "no manifest");
    }
}
