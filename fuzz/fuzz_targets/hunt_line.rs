//! Fuzzes the whole per-line path: format recognition, transport decoding, evaluation and
//! indicator extraction. It must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quell_hunt::{HuntConfig, Hunter};
use quell_model::hunt::HuntRecord;

fuzz_target!(|data: &[u8]| {
    let hunter = Hunter::new(HuntConfig::new());
    let mut records: Vec<HuntRecord> = Vec::new();
    hunter.analyze_line("fuzz", 1, 0, data, None, &mut records);
});
