//! Fuzzes the classifier on its own: a container's entries (names and bytes) straight from the
//! fuzzer, with names steered towards the ones the classifier reads (class markers, pom.properties,
//! manifests, shaded prefixes) and classified with the built-in detection packs. It must never
//! panic, and every log4j-core copy it reports must carry a verdict for each 2.x CVE.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quell_model::Component;
use quell_model::cve::LOG4J2_CVES;
use quell_scan::classify::EvidenceEntry;

/// Names the classifier cares about; the fuzzer picks one by a byte and may add a prefix.
const NAMES: [&str; 16] = [
    "org/apache/logging/log4j/core/lookup/JndiLookup.class",
    "org/apache/logging/log4j/core/net/JndiManager.class",
    "org/apache/logging/log4j/core/lookup/Interpolator.class",
    "org/apache/logging/log4j/core/pattern/MessagePatternConverter.class",
    "org/apache/logging/log4j/core/util/NetUtils.class",
    "org/apache/logging/log4j/core/appender/nosql/NoSqlAppender.class",
    "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
    "META-INF/MANIFEST.MF",
    "org/apache/log4j/net/SocketServer.class",
    "org/apache/log4j/net/JMSAppender.class",
    "META-INF/maven/log4j/log4j/pom.properties",
    "org/apache/logging/log4j/core/lookup/JndiLookup.esclazz",
    "org/apache/commons/text/lookup/StringLookupFactory.class",
    "org/springframework/beans/CachedIntrospectionResults.class",
    "org/apache/commons/collections/functors/InvokerTransformer.class",
    "org/apache/log4j/chainsaw/Main.class",
];
const PREFIXES: [&str; 4] = ["", "shaded/", "com/vendor/deps/", "BOOT-INF/classes/"];

fuzz_target!(|data: &[u8]| {
    let rules = quell_packs::builtin();
    // Records separated by 0xFF: [selector byte][bytes...]. Selector < 0xC0 picks a known name,
    // otherwise the bytes up to the first NUL are the name itself.
    let mut entries = Vec::new();
    for record in data.split(|b| *b == 0xFF) {
        let Some((&selector, rest)) = record.split_first() else { continue };
        let (name, bytes) = if selector < 0xC0 {
            let name = NAMES[usize::from(selector) % NAMES.len()];
            let prefix = PREFIXES[usize::from(selector / 16) % PREFIXES.len()];
            (format!("{prefix}{name}"), rest.to_vec())
        } else {
            let split = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
            (String::from_utf8_lossy(&rest[..split]).into_owned(), rest.get(split + 1..).unwrap_or(&[]).to_vec())
        };
        let Some(kind) = rules.interest(&name) else { continue };
        let bytes = kind.needs_bytes().then_some(bytes);
        entries.push(EvidenceEntry { name, bytes });
    }
    for copy in rules.classify(&entries) {
        if copy.component == Component::Log4jCore {
            assert_eq!(copy.cves.len(), LOG4J2_CVES.len(), "every 2.x CVE has a verdict: {copy:?}");
        }
    }
});
