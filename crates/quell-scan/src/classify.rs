//! The classifier's vocabulary, from `quell-packs`: the scanner hands every entry that
//! [`quell_packs::Rules::interest`] names to [`quell_packs::Rules::classify`], which turns them
//! into copies. Nothing here knows a library; what a copy of Log4j (or any other component) looks
//! like is the data of a detection pack.

pub use quell_packs::rules::{CLASS_EXTENSIONS, ClassifiedCopy, EvidenceEntry, Interest, class_stem};
