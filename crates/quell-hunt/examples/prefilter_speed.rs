//! Measures the prefilter alone over a file (`prefilter_speed FILE`): candidate lines and MB/s.

use std::io::Read;

fn main() {
    let path = std::env::args().nth(1).expect("usage: prefilter_speed FILE");
    let mut data = Vec::new();
    std::fs::File::open(&path).expect("open").read_to_end(&mut data).expect("read");
    let p = quell_hunt::Prefilter::new();
    let t = std::time::Instant::now();
    let mut from = 0;
    let mut lines = 0u64;
    while let Some(hit) = p.find(&data, from) {
        lines += 1;
        from = memchr::memchr(b'\n', &data[hit.pos..]).map_or(data.len(), |i| hit.pos + i + 1);
    }
    let s = t.elapsed().as_secs_f64();
    println!("{lines} candidate lines, {:.0} MB/s", data.len() as f64 / 1e6 / s);
}
