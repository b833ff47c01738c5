//! Runs the hunter over files without the command line (`hunt_speed THREADS FILE...`): a
//! development aid for profiling; the benchmark proper is `scripts/bench/hunt`.

use quell_hunt::{HuntConfig, Hunter, Source};

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().and_then(|t| t.parse().ok()).expect("usage: hunt_speed THREADS FILE...");
    let sources: Vec<Source> = args.map(|a| Source::File(a.into())).collect();
    let hunter = Hunter::new(HuntConfig::new());
    let t = std::time::Instant::now();
    let (mut bytes, mut attempts) = (0u64, 0u64);
    hunter.hunt_sources(&sources, threads, |r| {
        bytes += r.stats.bytes;
        attempts += r.attempts;
    });
    let s = t.elapsed().as_secs_f64();
    println!("{bytes} bytes, {attempts} attempts, {:.2} s, {:.0} MB/s", s, bytes as f64 / 1e6 / s);
}
