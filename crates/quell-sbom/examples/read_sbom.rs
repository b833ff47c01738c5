//! Reads SBOM files with `quell_sbom::parse` and prints what it found and how long parsing took
//! (the file is read first; only `parse` is timed). Used by `scripts/bench/sbom`.
//!
//!   cargo run --release -p quell-sbom --example read_sbom -- [--value] FILE...
//!
//! `--value` parses into a `serde_json::Value` instead (the baseline: the whole tree in memory);
//! `--stream` reads the file with `quell_sbom::parse_reader` as the server reads an upload (the
//! file is not held; reading and parsing are timed together).

use std::time::Instant;

fn main() {
    let mut value = false;
    let mut stream = false;
    let mut status = 0;
    for arg in std::env::args().skip(1) {
        if arg == "--value" {
            value = true;
            continue;
        }
        if arg == "--stream" {
            stream = true;
            continue;
        }
        if stream {
            let start = Instant::now();
            let read = std::fs::File::open(&arg).map_err(|e| e.to_string()).and_then(|f| {
                quell_sbom::parse_reader(f, &quell_sbom::SbomLimits::default()).map_err(|e| e.to_string())
            });
            match read {
                Ok(sbom) => println!(
                    "{arg}: {:?} {}, {} components, {:.3} s",
                    sbom.format,
                    sbom.spec_version,
                    sbom.components.len(),
                    start.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    eprintln!("{arg}: {e}");
                    status = 1;
                }
            }
            continue;
        }
        let bytes = match std::fs::read(&arg) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{arg}: {e}");
                status = 2;
                continue;
            }
        };
        let start = Instant::now();
        if value {
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(v) => println!(
                    "{arg}: serde_json::Value with {} top-level keys, {:.3} s",
                    v.as_object().map_or(0, |o| o.len()),
                    start.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    eprintln!("{arg}: {e}");
                    status = 1;
                }
            }
            continue;
        }
        match quell_sbom::parse(&bytes, &quell_sbom::SbomLimits::default()) {
            Ok(sbom) => println!(
                "{arg}: {:?} {}, {} components, {:.3} s",
                sbom.format,
                sbom.spec_version,
                sbom.components.len(),
                start.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("{arg}: {e}");
                status = 1;
            }
        }
    }
    std::process::exit(status);
}
