//! Fuzzes the Log4j lookup evaluator (single pass, converter rescan, lenient mode): it must never
//! panic, and hostile input must end within the work bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quell_hunt::Evaluator;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ev = Evaluator::default();
    let m = ev.message(&text);
    let _ = m.all_names();
    let _ = ev.lenient(&text);
    let _ = ev.is_inert(&text);
});
