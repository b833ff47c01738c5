//! Fuzzes the whole per-line path: format recognition, transport decoding, evaluation and
//! indicator extraction. It must never panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use quell_hunt::{HuntConfig, Hunter};
use quell_model::hunt::HuntRecord;

static HUNTER: LazyLock<Hunter> = LazyLock::new(|| Hunter::new(HuntConfig::new()));

fuzz_target!(|data: &[u8]| {
    let mut records: Vec<HuntRecord> = Vec::new();
    HUNTER.analyze_line("fuzz", 1, 0, data, None, &mut records);
});
