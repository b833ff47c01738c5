//! Shared test helpers: the corpus, base64, a deterministic PRNG.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/corpus` relative to the repository root, or `$QUELL_CORPUS`.
pub fn corpus() -> PathBuf {
    if let Some(p) = std::env::var_os("QUELL_CORPUS") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

pub fn b64d(s: &str) -> Vec<u8> {
    quell_hunt::indicators::lenient_base64(s).unwrap_or_default()
}

pub fn b64e(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("valid hex")).collect()
}

/// One test vector of `hunt/vectors.jsonl`.
#[derive(Debug, Clone)]
pub struct Vector {
    pub id: String,
    pub kind: String,
    pub input: Vec<u8>,
    pub expected_jndi: Vec<String>,
    pub decoded: Option<Vec<u8>>,
}

pub fn vectors() -> Vec<Vector> {
    let path = corpus().join("hunt/vectors.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("vector is JSON");
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
            Vector {
                id: s("id"),
                kind: s("kind"),
                input: b64d(&s("input_b64")),
                expected_jndi: v
                    .get("expected_jndi")
                    .and_then(|x| x.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
                decoded: v.get("decoded_b64").and_then(|x| x.as_str()).map(b64d),
            }
        })
        .collect()
}

/// xorshift64* — small, deterministic.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
