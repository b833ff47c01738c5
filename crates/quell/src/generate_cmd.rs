//! `quell generate`: man pages and shell completions, written from the command-line definition
//! itself (clap_mangen, clap_complete), so they never drift from `--help`. Used by
//! `scripts/package`; hidden from `--help`.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Subcommand};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    what: Generate,
}

#[derive(Debug, Subcommand)]
enum Generate {
    /// Man pages: quell.1 and quell-<subcommand>.1 for each subcommand.
    Man {
        /// Directory to write them to (created if missing).
        dir: PathBuf,
    },
    /// Shell completions: quell.bash, _quell (zsh) and quell.fish.
    Completions {
        /// Directory to write them to (created if missing).
        dir: PathBuf,
    },
}

fn write_man(cmd: &clap::Command, path: &Path) -> std::io::Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    std::fs::write(path, out)
}

/// Runs `quell generate`; returns the exit code.
pub fn run(args: GenerateArgs) -> u8 {
    let mut cmd = crate::Cli::command();
    cmd.build();
    let result = match args.what {
        Generate::Man { dir } => std::fs::create_dir_all(&dir).and_then(|_| {
            write_man(&cmd, &dir.join("quell.1"))?;
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
                let name = format!("quell-{}", sub.get_name());
                let page = sub.clone().name(name.clone()).display_name(name.clone());
                write_man(&page, &dir.join(format!("{name}.1")))?;
            }
            Ok(())
        }),
        Generate::Completions { dir } => std::fs::create_dir_all(&dir).and_then(|_| {
            use clap_complete::Shell;
            for (shell, file) in [(Shell::Bash, "quell.bash"), (Shell::Zsh, "_quell"), (Shell::Fish, "quell.fish")] {
                let mut out = Vec::new();
                clap_complete::generate(shell, &mut cmd, "quell", &mut out);
                std::fs::write(dir.join(file), out)?;
            }
            Ok(())
        }),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("quell generate: {e}");
            2
        }
    }
}
