//! The identity of one Java archive for `quell scan --inventory`: what the archive says it is,
//! from its own metadata, else its file name.
//!
//! Pure: the caller hands over the archive's evidence entries (its own `META-INF/` among them),
//! the copies the detection packs classified in it, and its digests.

use quell_model::{Hashes, InventoryComponent, InventoryConfidence};
use quell_packs::rules::{ClassifiedCopy, EvidenceEntry, parse_manifest, read_pom};

/// The component record of an archive at `path` (the chain to the archive itself).
pub fn component(
    path: Vec<String>,
    entries: &[EvidenceEntry],
    copies: &[ClassifiedCopy],
    hashes: Hashes,
) -> InventoryComponent {
    // The archive's own pom.properties: directly under its META-INF/maven/, not a shaded one's.
    let own_poms: Vec<(&str, quell_packs::rules::Pom)> = entries
        .iter()
        .filter(|e| e.name.starts_with("META-INF/maven/") && e.name.ends_with("/pom.properties"))
        .filter_map(|e| Some((e.name.as_str(), read_pom(&e.name, e.bytes.as_deref()?)?)))
        .collect();
    let file_name = path.last().map(|p| p.rsplit('/').next().unwrap_or(p)).unwrap_or_default().to_string();
    if let [(entry, pom)] = own_poms.as_slice() {
        let purl =
            quell_packs::rules::purl_with(&format!("pkg:maven/{}/{}", pom.group, pom.artifact), Some(&pom.version));
        let mut evidence = vec![format!("pom.properties:{entry}")];
        let confirming = copies
            .iter()
            .find(|c| c.purl == purl && c.version.is_some() && c.confidence == quell_model::Confidence::Confirmed);
        if let Some(copy) = confirming {
            evidence.extend(copy.evidence.iter().filter(|e| e.starts_with("class:")).cloned());
        }
        return InventoryComponent {
            path,
            purl: Some(purl),
            name: pom.artifact.clone(),
            version: Some(pom.version.clone()),
            hashes,
            confidence: if confirming.is_some() {
                InventoryConfidence::Confirmed
            } else {
                InventoryConfidence::Declared
            },
            evidence,
        };
    }
    let manifest = entries.iter().find(|e| e.name == "META-INF/MANIFEST.MF").and_then(|e| e.bytes.as_deref());
    if let Some(bytes) = manifest {
        let sections = parse_manifest(bytes);
        let main = sections.first().cloned().unwrap_or_default();
        let get = |key: &str| main.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.clone());
        for (name_key, version_key) in
            [("Implementation-Title", "Implementation-Version"), ("Bundle-SymbolicName", "Bundle-Version")]
        {
            if let (Some(name), Some(version)) = (get(name_key), get(version_key)) {
                // Bundle-SymbolicName may carry directives: `org.example.x;singleton:=true`.
                let name = name.split(';').next().unwrap_or(&name).trim().to_string();
                return InventoryComponent {
                    path,
                    purl: None,
                    name,
                    version: Some(version),
                    hashes,
                    confidence: InventoryConfidence::Declared,
                    evidence: vec![format!("manifest:{name_key}")],
                };
            }
        }
    }
    let (name, version) = name_and_version(&file_name);
    InventoryComponent {
        path,
        purl: None,
        name,
        version,
        hashes,
        confidence: InventoryConfidence::Guessed,
        evidence: vec!["file-name".to_string()],
    }
}

/// Extensions of Java archives: these are inventory components even without a class of their
/// own (a war or an ear that only holds other jars).
pub const JAVA_ARCHIVE_EXTENSIONS: [&str; 12] =
    ["jar", "war", "ear", "sar", "par", "rar", "aar", "jmod", "hpi", "jpi", "kar", "nar"];

/// Whether an archive is a Java archive: by its name, or because it holds a class or a manifest.
pub fn is_java_archive_name(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.rsplit_once('.').is_some_and(|(_, ext)| JAVA_ARCHIVE_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// `commons-text-1.9.jar` → (`commons-text`, `1.9`); `app.war` → (`app`, none). The version
/// starts at the first `-` followed by a digit, as Maven names artifacts.
pub fn name_and_version(file_name: &str) -> (String, Option<String>) {
    let stem = match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file_name,
    };
    let split = stem.char_indices().find(|&(i, c)| c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()));
    match split {
        Some((i, _)) => (stem[..i].to_string(), Some(stem[i + 1..].to_string())),
        None => (stem.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_from_file_names() {
        assert_eq!(name_and_version("commons-text-1.9.jar"), ("commons-text".into(), Some("1.9".into())));
        assert_eq!(
            name_and_version("spring-beans-5.3.18.RELEASE.jar"),
            ("spring-beans".into(), Some("5.3.18.RELEASE".into()))
        );
        assert_eq!(name_and_version("log4j-core-2.0-beta9.jar"), ("log4j-core".into(), Some("2.0-beta9".into())));
        assert_eq!(name_and_version("app.war"), ("app".into(), None));
        assert_eq!(name_and_version("x2-y.jar"), ("x2-y".into(), None));
    }
}
