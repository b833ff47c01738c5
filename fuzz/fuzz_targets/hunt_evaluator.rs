//! Fuzzes the lookup evaluators: Log4j's (single pass, converter rescan, lenient and forgiving
//! modes) and Commons Text's (1.9, 1.10.0, lenient). They must never panic, hostile input must
//! end within the work bounds, and the cheap inertness proofs must hold: a text judged inert
//! makes no JNDI call and no Commons Text action.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quell_hunt::{Evaluator, TextEvaluator, TextVersion};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ev = Evaluator::default();
    let m = ev.message(&text);
    let names = m.all_names();
    let lenient = ev.lenient(&text);
    let _ = ev.forgiving(&text);
    if ev.is_inert(&text) {
        assert!(names.is_empty() && lenient.names.is_empty(), "judged inert, but calls JNDI: {text:?}");
    }
    if ev.is_inert_anywhere(text.as_bytes()) {
        assert!(ev.is_inert(&text), "inert anywhere, but not inert: {text:?}");
    }
    let tv = TextEvaluator::default();
    let e19 = tv.evaluate(&text, TextVersion::V1_9);
    let e110 = tv.evaluate(&text, TextVersion::V1_10);
    let tl = tv.lenient(&text);
    if tv.is_inert(text.as_bytes()) {
        assert!(
            e19.events.is_empty() && e110.events.is_empty() && tl.events.is_empty(),
            "judged inert, but acts: {text:?}"
        );
    }
});
