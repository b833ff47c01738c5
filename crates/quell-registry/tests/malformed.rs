//! Malformed input: every bad row or file is a problem with its file and line, never a panic and
//! never a silent drop.

use quell_registry::{Format, ProblemKind, Status, import};

const HEADER: &str = "| Supplier | Product | Version (see Status) | Status CVE-2021-4104 | Status CVE-2021-44228 \
                      | Status CVE-2021-45046 | Status CVE-2021-45105 | Notes | Links |\n\
                      |:--|:--|:--:|:--:|:--:|:--:|:--:|:--|--:|\n";

fn kinds(outcome: &quell_registry::ImportOutcome) -> Vec<(u64, ProblemKind)> {
    outcome.problems.iter().map(|p| (p.line, p.kind)).collect()
}

#[test]
fn markdown_rows_of_the_wrong_shape() {
    let text = format!(
        "# title\n\n{HEADER}\
         |Acme|Short row|\n\
         |Acme|Pipe in notes|2.0| |Fix| | |see a | b|[s](https://a.example)|\n\
         | |No supplier| | |Not vuln| | ||[s](https://a.example)|\n\
         |Acme|Odd status| | |not affected|x|Unknown||[s](https://a.example)|\n\
         |Acme|Columns moved| | |Investigation| | ||[s](https://a.example)|\n\
         \ntext between tables\n\
         |Acme|No header|1.0|Vulnerable| | | ||[s](https://a.example)|\n\
         |Acme|No header, 3 cells|x|\n"
    );
    let outcome = import(Format::NcscMarkdown, "t.md", text.as_bytes());
    let products: Vec<&str> = outcome.entries.iter().map(|e| e.product.as_str()).collect();
    assert_eq!(products, ["Short row", "Pipe in notes", "Odd status", "Columns moved", "No header"]);
    assert_eq!(
        kinds(&outcome),
        [
            (5, ProblemKind::MalformedRow),
            (5, ProblemKind::NoStatus),
            (5, ProblemKind::MissingLink),
            (6, ProblemKind::MalformedRow),
            (7, ProblemKind::MissingSupplier),
            (8, ProblemKind::NonStandardStatus),
            (8, ProblemKind::UnknownStatus),
            (8, ProblemKind::NonStandardStatus),
            (12, ProblemKind::MissingHeader),
            (13, ProblemKind::MissingHeader),
        ]
    );
    let pipe = &outcome.entries[1];
    assert_eq!(pipe.notes, "see a | b", "an unescaped pipe is read as part of the Notes");
    assert_eq!(pipe.links, ["https://a.example"]);
    assert_eq!(pipe.statuses["CVE-2021-44228"].fixed_versions, ["2.0"]);
    let odd = &outcome.entries[2];
    assert_eq!(odd.statuses.len(), 1);
    assert_eq!(odd.statuses["CVE-2021-44228"].status, Status::NotVulnerable);
    assert!(odd.notes.contains("Status CVE-2021-45046: x"));
    assert!(
        outcome.problems.iter().all(|p| p.file == "t.md" && !p.raw.is_empty() || p.kind == ProblemKind::MissingHeader)
    );
}

#[test]
fn header_columns_are_found_by_name() {
    let text = "| Links | Product | Supplier | Status CVE-2021-44832 | Version | Notes | Colour |\n|-|-|-|-|-|-|-|\n\
                |https://b.example|Thing|Beta|Fix|3.1|n|red|\n";
    let outcome = import(Format::NcscMarkdown, "moved.md", text.as_bytes());
    assert_eq!(kinds(&outcome), [(1, ProblemKind::UnknownColumn)]);
    let e = &outcome.entries[0];
    assert_eq!((e.supplier.as_str(), e.product.as_str(), e.notes.as_str()), ("Beta", "Thing", "n"));
    assert_eq!(e.statuses["CVE-2021-44832"].fixed_versions, ["3.1"]);
    assert_eq!(e.links, ["https://b.example"]);
}

#[test]
fn broken_files() {
    for (format, bytes) in [
        (Format::CisaYaml, &b"software: [ {vendor: a\n  - : :"[..]),
        (Format::CisaYaml, b"version: '1.0'\n"),
        (Format::NcscJson, b"{\"not\": \"an array\"}"),
        (Format::NcscJson, b"[{\"Supplier\": \"a\""),
        (Format::NcscCsv, b"no,header,here\n1,2,3\n"),
    ] {
        let outcome = import(format, "bad", bytes);
        assert!(outcome.entries.is_empty(), "{format}");
        assert_eq!(outcome.problems.len(), 1, "{format}: {:?}", outcome.problems);
        assert!(matches!(outcome.problems[0].kind, ProblemKind::InvalidFile | ProblemKind::MissingHeader));
    }
    // Not UTF-8: read anyway, reported once with its line.
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"|Acme|Caf\xe9|1.0| |Vulnerable| | ||[s](https://a.example)|\n");
    let outcome = import(Format::NcscMarkdown, "latin1.md", &bytes);
    assert_eq!(outcome.entries[0].product, "Caf\u{fffd}");
    assert_eq!(kinds(&outcome), [(3, ProblemKind::InvalidFile)]);
}

#[test]
fn json_and_csv_items_of_the_wrong_shape() {
    let json = br#"[{"Supplier":"A","Product":"P","Status CVE-2021-44228":"Fix","Version":"1","Links":{"s":"https://a.example"}},
                    "text", {"Supplier":"B","Product":7,"Links":["https://b.example"],"Extra":"?"}]"#;
    let outcome = import(Format::NcscJson, "r.json", json);
    assert_eq!(outcome.entries.len(), 2);
    assert_eq!(outcome.entries[0].statuses["CVE-2021-44228"].fixed_versions, ["1"]);
    assert_eq!(
        kinds(&outcome),
        [
            (2, ProblemKind::MalformedRow),
            (3, ProblemKind::UnknownColumn),
            (3, ProblemKind::MalformedRow),
            (3, ProblemKind::MissingProduct),
            (3, ProblemKind::NoStatus),
        ]
    );
    let csv = "Supplier,Product,Version,Status CVE-2021-44228,Notes,Links\r\nA,P,,Not vuln,\"a, \"\"quoted\"\"\nnote\",\"['https://a.example']\"\r\nB,Q\r\n";
    let outcome = import(Format::NcscCsv, "r.csv", csv.as_bytes());
    assert_eq!(outcome.entries[0].notes, "a, \"quoted\"\nnote");
    assert_eq!(outcome.entries[0].links, ["https://a.example"]);
    assert_eq!(
        kinds(&outcome),
        [(4, ProblemKind::MalformedRow), (4, ProblemKind::NoStatus), (4, ProblemKind::MissingLink)],
        "lines count from the record's start (the quoted note spans two)"
    );
}

#[test]
fn yaml_items_of_the_wrong_shape() {
    let yaml = "software:\n  - vendor: A\n    product: P\n    cves:\n      cve-2021-44228:\n        investigated: true\n        \
                affected_versions: [2.0]\n      not-a-cve:\n        investigated: true\n    vendor_links: [https://a.example]\n  \
                - vendor: ''\n    product: Q\n  - just text\n";
    let outcome = import(Format::CisaYaml, "y.yml", yaml.as_bytes());
    assert_eq!(outcome.entries.len(), 1);
    assert_eq!(outcome.entries[0].statuses["CVE-2021-44228"].affected_versions, ["2.0"]);
    assert_eq!(
        kinds(&outcome),
        [(2, ProblemKind::InvalidCve), (11, ProblemKind::MissingSupplier), (13, ProblemKind::MalformedRow)]
    );
}
