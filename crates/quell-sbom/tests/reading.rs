//! Hand-written documents: what is read (and the documented choices), and every error class
//! with its exact message.

use quell_sbom::{Format, Limit, Sbom, SbomError, SbomLimits, parse};

fn ok(doc: &str) -> Sbom {
    parse(doc.as_bytes(), &SbomLimits::default()).unwrap_or_else(|e| panic!("{e}\n{doc}"))
}

fn err(doc: &str) -> SbomError {
    match parse(doc.as_bytes(), &SbomLimits::default()) {
        Ok(sbom) => panic!("accepted: {sbom:?}\n{doc}"),
        Err(e) => e,
    }
}

fn message(doc: &str) -> String {
    err(doc).to_string()
}

const SHA1: &str = "0812f284ac5dd0d617461d9a2ab6ac6811137f25";
const SHA256: &str = "0812f284ac5dd0d617461d9a2ab6ac6811137f25122dfffd4788a4871e732d00";

#[test]
fn cyclonedx_nested_components_are_flattened_with_their_ancestry() {
    let doc = format!(
        r#"{{
        "components": [
          {{"type": "application", "name": "app", "bom-ref": "r-app", "components": [
              {{"name": "lib", "bom-ref": "r-lib", "components": [
                  {{"name": "commons-text", "group": "org.apache.commons", "version": "1.9",
                    "purl": "pkg:maven/org.apache.commons/commons-text@1.9", "bom-ref": "r-ct",
                    "hashes": [{{"alg": "MD5", "content": "x"}}, {{"alg": "SHA-1", "content": "{}"}},
                               {{"alg": "SHA-256", "content": "{SHA256}"}}]}}]}}],
            "version": "2"}},
          {{"name": "no-ref"}}
        ],
        "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:1",
        "metadata": {{"timestamp": "2026-12-02T10:00:00Z",
                      "tools": {{"components": [{{"name": "cdxgen", "version": "12.8.4"}}],
                                 "services": [{{"name": "svc"}}]}},
                      "component": {{"name": "product", "version": "3", "components": [{{"name": "part"}}]}}}}
    }}"#,
        SHA1.to_uppercase()
    );
    let sbom = ok(&doc);
    assert_eq!(sbom.format, Format::CycloneDx);
    assert_eq!(sbom.spec_version, "1.6");
    assert_eq!(sbom.serial.as_deref(), Some("urn:uuid:1"));
    assert_eq!(sbom.created.as_deref(), Some("2026-12-02T10:00:00Z"));
    assert_eq!(sbom.subject.as_deref(), Some("product"));
    assert_eq!(sbom.tools, ["cdxgen 12.8.4", "svc"]);
    let names: Vec<_> = sbom.components.iter().map(|c| c.name.as_str()).collect();
    // A parent before its children; the subject (no purl) is not an entry, its part is.
    assert_eq!(names, ["app", "lib", "commons-text", "no-ref", "part"]);
    let paths: Vec<_> = sbom.components.iter().map(|c| c.path.join(" > ")).collect();
    assert_eq!(paths, ["r-app", "app > r-lib", "app > lib > r-ct", "no-ref", "product > part"]);
    let ct = &sbom.components[2];
    assert_eq!(ct.group.as_deref(), Some("org.apache.commons"));
    assert_eq!(ct.version.as_deref(), Some("1.9"));
    assert_eq!(ct.purl.as_deref(), Some("pkg:maven/org.apache.commons/commons-text@1.9"));
    assert_eq!(ct.sha1.as_deref(), Some(SHA1), "lowercased");
    assert_eq!(ct.sha256.as_deref(), Some(SHA256));
    assert_eq!(sbom.components[0].version.as_deref(), Some("2"), "a field after the nested ones");
}

#[test]
fn cyclonedx_subject_with_a_purl_is_an_entry() {
    let sbom = ok(r#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"name": "svc", "version": "1", "purl": "pkg:maven/com.example/svc@1"}}}"#);
    assert_eq!(sbom.subject.as_deref(), Some("svc"));
    assert_eq!(sbom.components.len(), 1);
    assert_eq!(sbom.components[0].group.as_deref(), Some("com.example"), "from the purl");
}

#[test]
fn cyclonedx_1_4_tools_and_optional_nulls_and_unknown_fields() {
    let sbom = ok(r#"{"bomFormat": "CycloneDX", "specVersion": "1.4", "serialNumber": null,
        "metadata": {"tools": [{"vendor": "CycloneDX", "name": "cyclonedx-python-lib", "version": "11.12.0"},
                               {"name": "bare"}, {"version": "no name"}], "licenses": [{"x": {"y": [1, 2.5, true, null]}}]},
        "components": [{"name": "a", "group": "", "version": null, "purl": "", "properties": [{"name": "n", "value": "v"}],
                        "description": 17, "hashes": null, "components": null}, null],
        "dependencies": [{"ref": 1}], "extra": "anything"}"#);
    assert_eq!(sbom.tools, ["cyclonedx-python-lib 11.12.0", "bare"]);
    assert_eq!(sbom.serial, None);
    assert_eq!(sbom.components.len(), 1);
    let a = &sbom.components[0];
    assert_eq!((a.group.as_deref(), a.version.as_deref(), a.purl.as_deref()), (None, None, None));
}

#[test]
fn utf8_byte_order_mark_is_skipped() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(
        br#"{"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [{"name": "\u00e9t\u00e9"}]}"#,
    );
    let sbom = parse(&bytes, &SbomLimits::default()).expect("accepted");
    assert_eq!(sbom.components[0].name, "été");
}

#[test]
fn spdx_packages_purls_checksums_and_the_root() {
    let doc = format!(
        r#"{{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "my-product",
        "documentNamespace": "https://example.invalid/doc-1",
        "creationInfo": {{"created": "2026-12-02T10:00:00Z",
                          "creators": ["Tool: syft-1.0.0", "Organization: ACME", "Tool:  cdxgen-12 "]}},
        "packages": [
          {{"SPDXID": "SPDXRef-root", "name": "my-product", "downloadLocation": "NOASSERTION"}},
          {{"SPDXID": "SPDXRef-ct", "name": "org.apache.commons:commons-text", "versionInfo": "1.9",
            "checksums": [{{"algorithm": "MD5", "checksumValue": "zz"}}, {{"algorithm": "SHA1", "checksumValue": "{SHA1}"}},
                          {{"algorithm": "SHA256", "checksumValue": "{SHA256}"}}],
            "externalRefs": [{{"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": "cpe:2.3:a:apache:commons_text:1.9"}},
                             {{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:maven/org.apache.commons/commons-text@1.9"}}]}},
          {{"SPDXID": "SPDXRef-npm", "name": "left-pad", "versionInfo": "1.3.0",
            "externalRefs": [{{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/left-pad@1.3.0"}}]}}
        ],
        "relationships": [{{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-root"}},
                          {{"spdxElementId": "SPDXRef-root", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-ct"}}]
        }}"#
    );
    let sbom = ok(&doc);
    assert_eq!(sbom.format, Format::Spdx);
    assert_eq!(sbom.spec_version, "SPDX-2.3");
    assert_eq!(sbom.serial.as_deref(), Some("https://example.invalid/doc-1"));
    assert_eq!(sbom.created.as_deref(), Some("2026-12-02T10:00:00Z"));
    assert_eq!(sbom.subject.as_deref(), Some("my-product"));
    assert_eq!(sbom.tools, ["syft-1.0.0", "cdxgen-12"]);
    assert_eq!(sbom.components.len(), 2, "the described root without version or purl is skipped");
    let ct = &sbom.components[0];
    assert_eq!(ct.name, "commons-text");
    assert_eq!(ct.group.as_deref(), Some("org.apache.commons"));
    assert_eq!(ct.version.as_deref(), Some("1.9"));
    assert_eq!(ct.purl.as_deref(), Some("pkg:maven/org.apache.commons/commons-text@1.9"));
    assert_eq!((ct.sha1.as_deref(), ct.sha256.as_deref()), (Some(SHA1), Some(SHA256)));
    assert_eq!(ct.path, ["SPDXRef-ct"]);
    let npm = &sbom.components[1];
    assert_eq!((npm.name.as_str(), npm.group.as_deref()), ("left-pad", None));
}

#[test]
fn spdx_2_2_and_a_described_root_with_a_version_is_kept() {
    let sbom = ok(r#"{"spdxVersion": "SPDX-2.2", "name": "d", "documentDescribes": ["SPDXRef-app"],
        "packages": [{"SPDXID": "SPDXRef-app", "name": "app", "versionInfo": "2.0"},
                     {"SPDXID": "SPDXRef-other", "name": "lib"}]}"#);
    assert_eq!(sbom.spec_version, "SPDX-2.2");
    let names: Vec<_> = sbom.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["app", "lib"], "a package that is not described is kept even without a version");
}

// ------------------------------------------------------------------ errors, one per class

#[test]
fn malformed_json_has_line_and_column() {
    let e = err("{\"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",,}");
    assert_eq!(e, SbomError::Json { message: "key must be a string".into(), line: 2, column: 24 }, "{e}");
    assert_eq!(e.to_string(), "invalid JSON at line 2, column 24: key must be a string");
    assert!(matches!(err(""), SbomError::Json { line: 1, column: 0, .. }));
    assert!(matches!(err(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6"} trailing"#), SbomError::Json { .. }));
    assert!(matches!(err(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6""#), SbomError::Json { .. }));
}

#[test]
fn not_utf8() {
    let bad = b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [{\"name\": \"a\xff\"}]}";
    let e = parse(bad, &SbomLimits::default()).expect_err("rejected");
    assert!(matches!(e, SbomError::Json { line: 1, .. }), "{e}");
    assert!(e.to_string().contains("invalid unicode"), "{e}");
    let e = parse(b"\xff\xfe{\x00}\x00", &SbomLimits::default()).expect_err("rejected");
    assert_eq!(e.to_string(), "not UTF-8: the document starts with a UTF-16 byte order mark; JSON SBOMs must be UTF-8");
    let e = parse(b"\xfe\xff\x00{\x00}", &SbomLimits::default()).expect_err("rejected");
    assert!(matches!(e, SbomError::Encoding(_)), "{e}");
    let e = parse(b"\x80\x81", &SbomLimits::default()).expect_err("rejected");
    assert!(matches!(e, SbomError::Json { .. }), "{e}");
}

#[test]
fn not_an_sbom() {
    assert_eq!(
        message("[1, 2]"),
        "not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: the top level is an array, not an object"
    );
    assert_eq!(
        message("\"text\""),
        "not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: the top level is a string, not an object"
    );
    assert_eq!(
        message("null"),
        "not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: the top level is null, not an object"
    );
    assert_eq!(
        message(r#"{"name": "x"}"#),
        "not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: it has neither \"bomFormat\" (CycloneDX) nor \"spdxVersion\" (SPDX)"
    );
    assert_eq!(
        message(r#"{"components": []}"#),
        "not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: it has neither \"bomFormat\" (CycloneDX) nor \"spdxVersion\" (SPDX) (it has \"components\": a CycloneDX document needs \"bomFormat\")"
    );
    assert_eq!(
        message(r#"{"bomFormat": "SPDX", "specVersion": "1.6"}"#),
        "not a CycloneDX 1.4–1.7 or SPDX 2.3 JSON document: \"bomFormat\" is \"SPDX\", not \"CycloneDX\""
    );
}

#[test]
fn unsupported_spec_versions() {
    assert_eq!(
        err(r#"{"bomFormat": "CycloneDX", "specVersion": "1.3"}"#),
        SbomError::UnsupportedSpecVersion {
            format: "CycloneDX",
            found: "1.3".into(),
            supported: "CycloneDX 1.4, 1.5, 1.6 and 1.7"
        }
    );
    assert_eq!(
        message(r#"{"bomFormat": "CycloneDX", "specVersion": "1.8"}"#),
        "unsupported CycloneDX version \"1.8\" (this reader reads CycloneDX 1.4, 1.5, 1.6 and 1.7)"
    );
    assert_eq!(
        message(r#"{"spdxVersion": "SPDX-3.0", "packages": []}"#),
        "unsupported SPDX version \"SPDX-3.0\" (this reader reads SPDX 2.3 and 2.2 (JSON))"
    );
    assert_eq!(message(r#"{"bomFormat": "CycloneDX"}"#), "/specVersion: missing (required)");
    assert_eq!(
        message(r#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}"#),
        "unsupported SPDX version \"3.0.1\" (this reader reads SPDX 2.3 and 2.2 (JSON))"
    );
    // Another JSON-LD document is not an SBOM; a @context of any other type is skipped.
    assert!(matches!(err(r#"{"@context": "https://schema.org/", "@graph": []}"#), SbomError::NotSbom(_)));
    assert!(matches!(err(r#"{"@context": [{"a": [1]}, "x"]}"#), SbomError::NotSbom(_)));
}

#[test]
fn wrong_types_have_their_location() {
    let components: String = (0..17).map(|i| format!(r#"{{"name": "c{i}"}},"#)).collect();
    let doc = format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{components} {{"name": "x", "version": 17}}]}}"#
    );
    assert_eq!(message(&doc), "/components/17/version: expected a string, found a number");
    let cases = [
        (r#"{"bomFormat": "CycloneDX", "specVersion": 1.6}"#, "/specVersion: expected a string, found a number"),
        (r#"{"bomFormat": ["CycloneDX"]}"#, "/bomFormat: expected a string, found an array"),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}"#,
            "/components: expected an array, found an object",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [7]}"#,
            "/components/0: expected an object, found a number",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": true}]}"#,
            "/components/0/name: expected a string, found a boolean",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "components": [{"name": "b", "purl": {}}]}]}"#,
            "/components/0/components/0/purl: expected a string, found an object",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "hashes": [{"alg": "SHA-1", "content": 5}]}]}"#,
            "/components/0/hashes/0/content: expected a string, found a number",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": []}"#,
            "/metadata: expected an object, found an array",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"tools": "x"}}"#,
            "/metadata/tools: expected an array or an object, found a string",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"tools": {"components": [{"name": 1}]}}}"#,
            "/metadata/tools/components/0/name: expected a string, found a number",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"name": "p", "components": [{"name": null, "version": "1"}]}}}"#,
            "/metadata/component/components/0/name: missing (required)",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "p", "versionInfo": 1.0}]}"#,
            "/packages/0/versionInfo: expected a string, found a number",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "p", "checksums": [{"algorithm": "SHA1", "checksumValue": false}]}]}"#,
            "/packages/0/checksums/0/checksumValue: expected a string, found a boolean",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "p", "externalRefs": [{"referenceType": "purl", "referenceLocator": []}]}]}"#,
            "/packages/0/externalRefs/0/referenceLocator: expected a string, found an array",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "creationInfo": {"creators": [1]}}"#,
            "/creationInfo/creators/0: expected a string, found a number",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "relationships": [{"relationshipType": 3}]}"#,
            "/relationships/0/relationshipType: expected a string, found a number",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "documentDescribes": "SPDXRef-x"}"#,
            "/documentDescribes: expected an array, found a string",
        ),
    ];
    for (doc, want) in cases {
        assert_eq!(message(doc), want, "{doc}");
    }
    assert!(matches!(
        err(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 1}]}"#),
        SbomError::WrongType { expected: "a string", found: "a number", .. }
    ));
}

#[test]
fn missing_names() {
    assert_eq!(
        message(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"version": "1"}]}"#),
        "/components/0/name: missing (required)"
    );
    assert_eq!(
        message(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{}]}"#),
        "/components/0/name: missing (required)"
    );
    assert_eq!(
        message(r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": ""}]}"#),
        "/packages/0/name: missing (required)"
    );
}

#[test]
fn invalid_hashes() {
    assert_eq!(
        message(
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "hashes": [{"alg": "SHA-1", "content": "abc"}]}]}"#
        ),
        "/components/0/hashes/0/content: expected 40 hex digits for SHA-1, found \"abc\""
    );
    let not_hex = "g".repeat(64);
    assert_eq!(
        message(&format!(
            r#"{{"spdxVersion": "SPDX-2.3", "packages": [{{"name": "a", "checksums": [{{"algorithm": "SHA256", "checksumValue": "{not_hex}"}}]}}]}}"#
        )),
        format!("/packages/0/checksums/0/checksumValue: expected 64 hex digits for SHA256, found \"{not_hex}\"")
    );
    assert!(matches!(
        err(
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "hashes": [{"alg": "SHA-256", "content": ""}]}]}"#
        ),
        SbomError::InvalidValue { .. }
    ));
}

// ------------------------------------------------------------------ limits, each by name

fn limits(f: impl FnOnce(&mut SbomLimits)) -> SbomLimits {
    let mut l = SbomLimits::default();
    f(&mut l);
    l
}

#[test]
fn the_limits_are_the_named_constants() {
    let l = SbomLimits::default();
    assert_eq!(l.max_component_depth, quell_sbom::MAX_COMPONENT_DEPTH);
    assert_eq!(l.max_components, quell_sbom::MAX_COMPONENTS);
    assert_eq!(l.max_string_bytes, quell_sbom::MAX_STRING_BYTES);
    assert_eq!(l.max_json_depth, quell_sbom::MAX_JSON_DEPTH);
    assert_eq!(
        (l.max_component_depth, l.max_components, l.max_string_bytes, l.max_json_depth),
        (32, 200_000, 4096, 100)
    );
}

#[test]
fn component_count_limit() {
    let doc = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a"}, {"name": "b", "components": [{"name": "c"}]}]}"#;
    assert_eq!(parse(doc.as_bytes(), &limits(|l| l.max_components = 3)).map(|s| s.components.len()), Ok(3));
    let e = parse(doc.as_bytes(), &limits(|l| l.max_components = 2)).expect_err("over");
    assert_eq!(e, SbomError::Limit { limit: Limit::Components, max: 2, at: "/components/1/components/0".into() });
    assert_eq!(e.to_string(), "/components/1/components/0: more than 2 components (SbomLimits::max_components)");
    // metadata.component counts; SPDX packages count.
    let doc = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"name": "p"}}, "components": [{"name": "a"}]}"#;
    assert!(matches!(
        parse(doc.as_bytes(), &limits(|l| l.max_components = 1)),
        Err(SbomError::Limit { limit: Limit::Components, .. })
    ));
    let doc = r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a"}, {"name": "b"}]}"#;
    assert_eq!(
        parse(doc.as_bytes(), &limits(|l| l.max_components = 1)).map_err(|e| e.to_string()),
        Err("/packages/1: more than 1 components (SbomLimits::max_components)".to_string())
    );
}

#[test]
fn component_depth_limit() {
    let nest = |n: usize| {
        let mut doc = String::from(r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "#);
        for i in 0..n {
            doc.push_str(&format!(r#"[{{"name": "c{i}", "components": "#));
        }
        doc.push_str("[]");
        for _ in 0..n {
            doc.push_str("}]");
        }
        doc.push('}');
        doc
    };
    let sbom = ok(&nest(32));
    assert_eq!(sbom.components.len(), 32);
    assert_eq!(sbom.components[31].path.len(), 32);
    assert_eq!(sbom.components[31].path[..2], ["c0", "c1"]);
    let e = err(&nest(33));
    let at = format!("/components{}", "/0/components".repeat(32)) + "/0";
    assert_eq!(e, SbomError::Limit { limit: Limit::ComponentDepth, max: 32, at: at.clone() });
    assert_eq!(
        e.to_string(),
        format!("{at}: more than 32 levels of nested components (SbomLimits::max_component_depth)")
    );
    // A chain far deeper than anything fails the same way, at the same place, without reading on.
    assert_eq!(err(&nest(20_000)), SbomError::Limit { limit: Limit::ComponentDepth, max: 32, at });
    // The limit is configurable.
    assert!(parse(nest(10).as_bytes(), &limits(|l| l.max_component_depth = 9)).is_err());
    assert!(parse(nest(40).as_bytes(), &limits(|l| l.max_component_depth = 40)).is_ok());
}

#[test]
fn string_length_limit() {
    let long = "a".repeat(4097);
    let doc = format!(r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{{"name": "{long}"}}]}}"#);
    let e = err(&doc);
    assert_eq!(e, SbomError::Limit { limit: Limit::StringBytes, max: 4096, at: "/components/0/name".into() });
    assert_eq!(e.to_string(), "/components/0/name: more than 4096 bytes in a string (SbomLimits::max_string_bytes)");
    let fits =
        format!(r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{{"name": "{}"}}]}}"#, &long[1..]);
    assert_eq!(ok(&fits).components[0].name.len(), 4096);
    // Bytes, not characters: 2,049 two-byte characters are over.
    let wide = "é".repeat(2049);
    let doc = format!(r#"{{"spdxVersion": "SPDX-2.3", "name": "{wide}"}}"#);
    assert!(matches!(err(&doc), SbomError::Limit { limit: Limit::StringBytes, .. }));
    // Fields that are not read are not limited.
    let doc = format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{{"name": "a", "description": "{}"}}]}}"#,
        "d".repeat(1 << 20)
    );
    assert_eq!(ok(&doc).components.len(), 1);
}

#[test]
fn json_depth_limit() {
    let deep = |n: usize| {
        format!(r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "x": {}1{}}}"#, "[".repeat(n), "]".repeat(n))
    };
    assert!(parse(deep(99).as_bytes(), &SbomLimits::default()).is_ok(), "the top-level object and 99 arrays");
    let e = err(&deep(100));
    assert_eq!(e, SbomError::Limit { limit: Limit::JsonDepth, max: 100, at: format!("/x{}", "/0".repeat(99)) });
    assert!(
        e.to_string()
            .ends_with(": more than 100 levels of nested JSON arrays and objects (SbomLimits::max_json_depth)"),
        "{e}"
    );
    assert!(matches!(
        parse(deep(10).as_bytes(), &limits(|l| l.max_json_depth = 10)),
        Err(SbomError::Limit { limit: Limit::JsonDepth, max: 10, .. })
    ));
}
