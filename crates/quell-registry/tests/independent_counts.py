#!/usr/bin/env python3
"""Independent count of the full lists, to check the numbers pinned in tests/full_lists.rs.

Written apart from the Rust importer (regexes over the Markdown, PyYAML over the YAML), from the
rules in the crate docs. Run: python3 crates/quell-registry/tests/independent_counts.py ../shared/corpus/registry
"""
import collections, glob, os, re, sys

import yaml

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/registry"
LABELS = {"Vulnerable": "vulnerable", "Fix": "fix", "Workaround": "workaround", "Not vuln": "not_vulnerable",
          "Investigation": "under_investigation"}
MAPPED = {"not vuln": "not_vulnerable", "fix/workaround": "workaround"}
CVES = ["CVE-2021-4104", "CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"]

counts, problems, rows = collections.Counter(), collections.Counter(), 0
for path in sorted(glob.glob(os.path.join(root, "ncsc-nl", "software_list_*.md"))):
    for line in open(path, encoding="utf-8"):
        if not line.startswith("|") or line.startswith("| Supplier") or re.match(r"^\|\s*:?-", line):
            continue
        cells = [c.strip() for c in line.strip()[1:-1].split("|")]
        assert len(cells) == 9, line
        rows += 1
        supplier, product, version, *statuses, notes, links = cells
        read = []
        for cve, cell in zip(CVES, statuses):
            if cell == "":
                continue
            if cell in LABELS:
                read.append((cve, LABELS[cell]))
            elif cell.lower() in MAPPED:
                problems["non_standard_status"] += 1
                read.append((cve, MAPPED[cell.lower()]))
            else:
                problems["unknown_status"] += 1
        if version == "":
            fixed = [c for c, s in read if s == "fix"]
            problems["fix_without_version"] += len(fixed)
            read = [(c, "workaround" if s == "fix" else s) for c, s in read]
        if not read:
            problems["no_status"] += 1
            if version:
                problems["version_without_status"] += 1
        if not re.search(r"https?://\S", links):
            problems["missing_link"] += 1
        for cve, status in read:
            counts[(cve, status)] += 1
print("ncsc-nl rows", rows)
for k in sorted(counts): print("  ", k, counts[k])
print("  problems", dict(sorted(problems.items())))

counts, problems, items = collections.Counter(), collections.Counter(), 0
for path in sorted(glob.glob(os.path.join(root, "cisa", "cisagov_*.yml"))):
    doc = yaml.load(open(path, encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    for item in doc["software"]:
        items += 1
        if not (item.get("product") or "").strip():
            problems["missing_product"] += 1
        any_status, odd = False, False
        for cve, rec in item["cves"].items():
            inv = rec.get("investigated")
            if not isinstance(inv, bool):
                odd = True
                inv = str(inv).lower() in ("true", "yes")
            lists = {k: rec.get(k) or [] for k in ("affected_versions", "fixed_versions", "unaffected_versions")}
            real = {k: [str(v).strip() for v in vs if str(v).strip()] for k, vs in lists.items()}
            if lists["fixed_versions"]:
                status = "fix" if real["fixed_versions"] else "workaround"
                if status == "workaround":
                    problems["fix_without_version"] += 1
            elif lists["affected_versions"]:
                status = "vulnerable"
            elif lists["unaffected_versions"]:
                status = "not_vulnerable"
            elif inv:
                status = "under_investigation"
            else:
                continue
            if not inv and any(lists.values()):
                problems["inconsistent"] += 1
            any_status = True
            counts[(cve.upper(), status)] += 1
        if odd:
            problems["non_standard_status"] += 1
        if not any_status:
            problems["no_status"] += 1
        urls = [u for k in ("vendor_links", "references") for u in (item.get(k) or []) if re.match(r"https?://\S", str(u))]
        if not urls:
            problems["missing_link"] += 1
print("cisa items", items)
for k in sorted(counts): print("  ", k, counts[k])
print("  problems", dict(sorted(problems.items())))
