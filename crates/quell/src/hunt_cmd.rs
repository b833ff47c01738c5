//! `quell hunt` — wired by the hunt work (issue 10).

use clap::Args;

/// Arguments of `quell hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Log files or directories to read.
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(_args: HuntArgs) -> u8 {
    eprintln!("quell hunt: not built yet");
    2
}
