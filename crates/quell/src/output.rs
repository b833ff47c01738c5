//! Shared output helpers: colour decisions, progress display and number formatting.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

/// Whether to colour stdout: only on a terminal, and never when `NO_COLOR` is set.
pub fn stdout_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Whether to draw progress on stderr: only on a terminal, and not when asked to be quiet.
pub fn stderr_progress(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

pub fn style(colour: bool, ansi: AnsiColor, bold: bool) -> Style {
    if !colour {
        return Style::new();
    }
    let style = Style::new().fg_color(Some(ansi.into()));
    if bold { style.bold() } else { style }
}

/// Writes text to stdout; returns the exit code of the attempt: 0 when written (or when the
/// reader went away, as `| head` does: the output was not wanted any more), 2 on another error.
pub fn print_stdout(text: &str) -> u8 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("quell: cannot write to stdout: {e}");
            2
        }
    }
}

/// `1234567` → `1.2 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_bytes() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
