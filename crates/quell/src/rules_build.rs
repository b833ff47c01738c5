//! `quell rules build`: a pack's fingerprint table from a folder of release jars.
//!
//! For each jar (one release each), every class entry the pack names is hashed (SHA-256 of its
//! bytes). Classes with equal bytes in several releases share one `[[fingerprint]]` table listing
//! all of them, so a match narrows the version to exactly the releases that ship those bytes.
//! The releases read are written as `[[fingerprint_source]]`, which the classifier needs to stay
//! sound: a release the table did not see might ship the same bytes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use quell_model::MavenVersion;
use quell_packs::rules::{class_stem, parse_manifest, read_pom};
use sha2::{Digest, Sha256};

/// The markers around the generated part of a pack file.
pub const BEGIN: &str = "# --- BEGIN quell rules build: generated, do not edit by hand ---";
pub const END: &str = "# --- END quell rules build ---";

/// Largest jar read (bytes): release jars of a library are a few megabytes.
pub const MAX_RELEASE_JAR_BYTES: u64 = 512 << 20;
/// Largest class entry hashed (bytes).
pub const MAX_CLASS_BYTES: u64 = 8 << 20;

/// A release jar's identity: its version, and the `group:artifact` of its own pom.properties when
/// it has exactly one.
struct Release {
    version: String,
    coordinates: Option<(String, String)>,
}

/// The components of the pack a release jar is a release of. A jar with one pom.properties is a
/// release only of the components (and variants) whose `pom` list names its coordinates: a
/// log4j-core jar that happens to hold a class named like a Log4j 1.x marker
/// (`appender/db/jdbc/JDBCAppender`) is no release of Log4j 1.x. Without a pom, every component
/// with a class in the jar counts.
fn releases_of(pack: &quell_packs::format::Pack, coordinates: &(String, String)) -> Vec<String> {
    let named = |entries: &[String]| {
        entries.iter().any(|entry| quell_packs::rules::pom_entry_names(entry, &coordinates.0, &coordinates.1))
    };
    let mut out = Vec::new();
    for component in &pack.components {
        let c = component.get_ref();
        if named(&c.pom) || c.variants.iter().any(|v| named(&v.get_ref().pom)) {
            out.push(c.name.clone());
        }
    }
    out
}

/// The version of a release jar: its own pom.properties (exactly one), else the manifest's
/// `Implementation-Version`/`Bundle-Version`, else the file name `artifact-VERSION.jar`.
fn release_version(file: &Path, archive: &mut zip::ZipArchive<std::fs::File>) -> Option<Release> {
    let mut poms = Vec::new();
    let mut manifest = None;
    for i in 0..archive.len() {
        let Ok(mut entry) = archive.by_index(i) else { continue };
        let Ok(name) = entry.name().map(|n| n.to_string()) else { continue };
        let wanted = (name.ends_with("/pom.properties") && name.starts_with("META-INF/maven/"))
            || name == "META-INF/MANIFEST.MF";
        if !wanted {
            continue;
        }
        let mut bytes = Vec::new();
        if entry.by_ref().take(1 << 20).read_to_end(&mut bytes).is_err() {
            continue;
        }
        if name == "META-INF/MANIFEST.MF" {
            manifest = Some(bytes);
        } else if let Some(pom) = read_pom(&name, &bytes) {
            poms.push(pom);
        }
    }
    if poms.len() == 1 {
        return poms.pop().map(|pom| Release { version: pom.version, coordinates: Some((pom.group, pom.artifact)) });
    }
    if let Some(bytes) = manifest {
        for section in parse_manifest(&bytes) {
            for key in ["Implementation-Version", "Bundle-Version"] {
                if let Some((_, v)) = section.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                    return Some(Release { version: v.clone(), coordinates: None });
                }
            }
        }
    }
    let name = file.file_name()?.to_str()?;
    quell_scan::inventory::name_and_version(name).1.map(|version| Release { version, coordinates: None })
}

/// A TOML basic string: `"` and `\` escaped, control characters as `\uXXXX`; everything else
/// (UTF-8 included) as is.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs `quell rules build`; returns the exit code.
pub fn run(pack_path: &Path, releases: &Path, write: bool) -> u8 {
    let shown = pack_path.display().to_string();
    let text = match std::fs::read_to_string(pack_path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("quell rules build: {shown}: {e}");
            return 2;
        }
    };
    let pack = match quell_packs::parse(&shown, &text) {
        Ok(pack) => pack,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return 1;
        }
    };
    let rules = quell_packs::Rules::compile(&[(pack.clone(), shown.clone())]);
    let mut jars: Vec<_> = match std::fs::read_dir(releases) {
        Ok(dir) => {
            dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "jar")).collect()
        }
        Err(e) => {
            eprintln!("quell rules build: {}: {e}", releases.display());
            return 2;
        }
    };
    jars.sort();
    // (component, class id, sha256) → versions; component → versions read.
    let mut table: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for jar in &jars {
        let too_big = std::fs::metadata(jar).map(|m| m.len() > MAX_RELEASE_JAR_BYTES).unwrap_or(true);
        if too_big {
            eprintln!(
                "quell rules build: {}: skipped: unreadable or larger than {MAX_RELEASE_JAR_BYTES} bytes",
                jar.display()
            );
            continue;
        }
        let opened = std::fs::File::open(jar)
            .map_err(|e| e.to_string())
            .and_then(|f| zip::ZipArchive::new(f).map_err(|e| e.to_string()));
        let mut archive = match opened {
            Ok(archive) => archive,
            Err(e) => {
                eprintln!("quell rules build: {}: skipped: not a jar: {e}", jar.display());
                continue;
            }
        };
        let Some(Release { version, coordinates }) = release_version(jar, &mut archive) else {
            eprintln!("quell rules build: {}: skipped: no version in pom.properties, manifest or name", jar.display());
            continue;
        };
        let released = coordinates.as_ref().map(|c| releases_of(&pack, c));
        let mut seen_components = Vec::new();
        for i in 0..archive.len() {
            let Ok(mut entry) = archive.by_index(i) else { continue };
            let Ok(name) = entry.name().map(|n| n.to_string()) else { continue };
            if class_stem(&name).is_none() {
                continue;
            }
            let mut hits = rules.class_ids(&name);
            if let Some(released) = &released {
                hits.retain(|(component, _)| released.contains(component));
            }
            if hits.is_empty() {
                continue;
            }
            let mut bytes = Vec::new();
            if entry.by_ref().take(MAX_CLASS_BYTES + 1).read_to_end(&mut bytes).is_err()
                || bytes.len() as u64 > MAX_CLASS_BYTES
            {
                eprintln!("quell rules build: {}!/{name}: unreadable, skipped", jar.display());
                continue;
            }
            let hash: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            for (component, class) in hits {
                let versions = table.entry((component.clone(), class, hash.clone())).or_default();
                if !versions.contains(&version) {
                    versions.push(version.clone());
                }
                if !seen_components.contains(&component) {
                    seen_components.push(component);
                }
            }
        }
        if seen_components.is_empty() {
            eprintln!("quell rules build: {}: no class of the pack in it", jar.display());
        }
        for component in seen_components {
            let list = sources.entry(component).or_default();
            if !list.contains(&version) {
                list.push(version.clone());
            }
        }
        eprintln!("quell rules build: {} → {version}", jar.display());
    }
    if sources.is_empty() {
        eprintln!("quell rules build: no release jar in {} holds a class of the pack", releases.display());
        return 1;
    }
    let sort = |v: &mut Vec<String>| v.sort_by_key(|a| MavenVersion::new(a));
    let mut block = format!("{BEGIN}\n");
    for (component, versions) in &mut sources {
        sort(versions);
        let list: Vec<String> = versions.iter().map(|v| format!("{v:?}")).collect();
        block.push_str(&format!(
            "\n[[fingerprint_source]]\ncomponent = {component:?}\nreleases = [{}]\n",
            list.join(", ")
        ));
    }
    for ((component, class, hash), versions) in &mut table {
        sort(versions);
        let list: Vec<String> = versions.iter().map(|v| toml_string(v)).collect();
        block.push_str(&format!(
            "\n[[fingerprint]]\ncomponent = {}\nclass = {}\nsha256 = \"{hash}\"\nversions = [{}]\n",
            toml_string(component),
            toml_string(class),
            list.join(", ")
        ));
    }
    block.push_str(END);
    block.push('\n');
    if !write {
        return crate::output::print_stdout(&block);
    }
    let without = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{}", &text[..b], text[e + END.len()..].trim_start_matches('\n')),
        _ => text.clone(),
    };
    let new_text = format!("{}\n\n{block}", without.trim_end());
    if let Err(errors) = quell_packs::parse(&shown, &new_text) {
        for e in errors {
            eprintln!("quell rules build: the result would not parse: {e}");
        }
        return 2;
    }
    // Write beside the pack and rename over it: a crash leaves the old pack whole.
    let tmp = pack_path.with_extension("toml.tmp");
    let result = std::fs::write(&tmp, &new_text).and_then(|_| std::fs::rename(&tmp, pack_path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        eprintln!("quell rules build: cannot write {shown}: {e}");
        return 2;
    }
    eprintln!(
        "quell rules build: {shown}: {} fingerprints from {} releases",
        table.len(),
        sources.values().map(Vec::len).sum::<usize>()
    );
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape_what_toml_requires() {
        assert_eq!(toml_string("1.9"), "\"1.9\"");
        assert_eq!(toml_string("a\"b\\c\u{1}é"), "\"a\\\"b\\\\c\\u0001é\"");
        let parsed: toml::Value = toml::from_str(&format!("v = {}", toml_string("x\"y\\z\té"))).expect("valid TOML");
        assert_eq!(parsed["v"].as_str(), Some("x\"y\\z\té"));
    }
}
