#!/usr/bin/env python3
"""Checks quell's indicator exports (`GET /api/v1/indicators/feed`) with the official tools.

Usage:
    check-indicators.py DIR          check every NAME.stix.json and NAME.misp.json in DIR; exit 1
                                     on any failure
    check-indicators.py --check-deps exit 0 when the Python packages are importable, else 3

What is checked:
- STIX: the bundle passes the OASIS STIX validator (stix2-validator, `--version 2.1 --strict`:
  the official STIX 2.1 JSON schemas plus the specification's MUST and SHOULD rules, warnings
  counted as errors) with references enforced (every `created_by_ref` and `object_marking_refs`
  names an object of the bundle); every indicator carries exactly one TLP 2.0 marking, one of the
  five OASIS-published TLP 2.0 marking definitions, and the bundle holds exactly the markings used.
- MISP: the event loads with the official MISP library (`pymisp.MISPEvent().load(...)`), which
  checks every attribute's type against MISP's type list; the loaded event has as many attributes
  as the document; each attribute has exactly one `tlp:` tag, and the event's `tlp:` tag is the
  most restrictive of them (`tlp:clear` for an empty event).
"""

import json
import sys
from pathlib import Path

TLP_ORDER = ["clear", "green", "amber", "amber+strict", "red"]
TLP2_MARKINGS = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}


def check_deps():
    try:
        from stix2validator import ValidationOptions, validate_string  # noqa: F401
        from pymisp import MISPEvent  # noqa: F401
    except Exception as e:  # noqa: BLE001 — any failure means "not installed"
        print(f"check-indicators: missing Python packages: {e}", file=sys.stderr)
        return False
    return True


def check_stix(path, problems):
    from stix2validator import ValidationOptions, validate_string

    text = path.read_text(encoding="utf-8")
    options = ValidationOptions(version="2.1", strict=True, enforce_refs=True, silent=True)
    results = validate_string(text, options)
    for result in results.object_results if hasattr(results, "object_results") else [results]:
        for e in result.errors:
            problems.append(f"{path.name}: {result.object_id}: {e}")
        for w in result.warnings:
            problems.append(f"{path.name}: {result.object_id}: warning: {w}")
    if not results.is_valid:
        problems.append(f"{path.name}: the STIX validator says invalid")
    bundle = json.loads(text)
    objects = bundle.get("objects", [])
    markings = {o["id"] for o in objects if o.get("type") == "marking-definition"}
    used = set()
    indicators = [o for o in objects if o.get("type") == "indicator"]
    for o in indicators:
        refs = o.get("object_marking_refs", [])
        if len(refs) != 1 or refs[0] not in TLP2_MARKINGS:
            problems.append(f"{path.name}: {o['id']}: not exactly one TLP 2.0 marking: {refs}")
        used.update(refs)
    if markings != used:
        problems.append(f"{path.name}: markings in the bundle {sorted(markings)} != used {sorted(used)}")
    for m in markings:
        obj = next(o for o in objects if o["id"] == m)
        ext = obj.get("extensions", {}).get("extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d", {})
        if ext.get("tlp_2_0") != TLP2_MARKINGS.get(m):
            problems.append(f"{path.name}: {m}: tlp_2_0 {ext.get('tlp_2_0')!r} is not the published level")
    return len(indicators)


def check_misp(path, problems):
    from pymisp import MISPEvent

    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    event = MISPEvent()
    try:
        event.load(text)
    except Exception as e:  # noqa: BLE001 — report whatever the library refuses
        problems.append(f"{path.name}: pymisp refuses the event: {e!r}")
        return 0
    expected = len(document["Event"].get("Attribute", []))
    if len(event.attributes) != expected:
        problems.append(f"{path.name}: pymisp loaded {len(event.attributes)} attributes, the document has {expected}")
    levels = []
    for a in event.attributes:
        tags = [t.name for t in a.tags if t.name.startswith("tlp:")]
        if len(tags) != 1 or tags[0][4:] not in TLP_ORDER:
            problems.append(f"{path.name}: attribute {a.value!r}: not exactly one TLP tag: {tags}")
            continue
        levels.append(TLP_ORDER.index(tags[0][4:]))
    event_tags = [t.name for t in event.tags if t.name.startswith("tlp:")]
    want = "tlp:" + TLP_ORDER[max(levels, default=0)]
    if event_tags != [want]:
        problems.append(f"{path.name}: event TLP tags {event_tags}, expected [{want!r}]")
    return len(event.attributes)


def main(argv):
    if argv[1:] == ["--check-deps"]:
        return 0 if check_deps() else 3
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if not check_deps():
        return 3
    directory = Path(argv[1])
    problems = []
    checked = 0
    for path in sorted(directory.glob("*.stix.json")):
        n = check_stix(path, problems)
        print(f"{path.name}: STIX 2.1 bundle, {n} indicators")
        checked += 1
    for path in sorted(directory.glob("*.misp.json")):
        n = check_misp(path, problems)
        print(f"{path.name}: MISP event, {n} attributes")
        checked += 1
    if checked == 0:
        problems.append(f"{directory}: no *.stix.json or *.misp.json")
    for p in problems:
        print(f"FAIL {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
