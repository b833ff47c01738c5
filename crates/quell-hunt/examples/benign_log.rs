//! Writes a benign log for the benchmark: `cargo run --release -p quell-hunt --example benign_log
//! -- OUT BYTES [SEED] [typical|dense|placeholders]`. The same generator as the tests (harmless `${...}`
//! placeholders, configuration dumps, JSON lines, non-ASCII text); nothing in it should make quell
//! alert. `typical` (the default) is mostly access-log lines; `dense` is the tests' mix;
//! `placeholders` is `typical` with a harmless `${...}` at the end of a quarter of the lines.

#[path = "../tests/common/benign.rs"]
mod benign;

use std::io::{BufWriter, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: benign_log OUT BYTES [SEED]");
        std::process::exit(2);
    }
    let bytes: u64 = args[2].parse().expect("BYTES is a number");
    let seed: u64 = args.get(3).map_or(1, |s| s.parse().expect("SEED is a number"));
    let file = std::fs::File::create(&args[1]).expect("create OUT");
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mix = match args.get(4).map(String::as_str) {
        Some("dense") => benign::Mix::Dense,
        Some("placeholders") => benign::Mix::Placeholders,
        _ => benign::Mix::Typical,
    };
    let lines = benign::write_benign_log(&mut w, bytes, seed, mix, |_| None).expect("write");
    w.flush().expect("flush");
    eprintln!("{}: {lines} lines", args[1]);
}
