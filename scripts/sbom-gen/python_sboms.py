#!/usr/bin/env python3
"""Writes two SBOMs of real jars with the official Python libraries (run by scripts/make-sboms):

  python-lib-1.4.cdx.json   CycloneDX 1.4 by cyclonedx-python-lib: an application with nested
                            components (one per source package of the jars, the jars inside),
                            SHA-1 and SHA-256 of each jar; validated with the library's strict
                            1.4 schema validator.
  spdx-tools-2.3.spdx.json  SPDX 2.3 by spdx-tools: a root package the document DESCRIBES (no
                            version, no purl) that CONTAINS one package per jar, with a purl
                            externalRef and SHA1/SHA256 checksums; validated by spdx-tools.

Usage: python_sboms.py JAR_DIR TSV OUT_DIR
  TSV: `scripts/fetch-pack-jars --tsv` (file, component, version, source, sha256).
Deterministic: fixed serial numbers, namespaces and times; the same jars give the same bytes.
"""

import datetime
import hashlib
import importlib.metadata
import sys
import uuid
from pathlib import Path

# Maven groupIds of the pack components (the TSV names the artifact only).
GROUPS = {
    "commons-text": "org.apache.commons",
    "commons-collections4": "org.apache.commons",
    "commons-collections": "commons-collections",
    "spring-beans": "org.springframework",
}
CREATED = datetime.datetime(2026, 12, 2, 12, 0, 0, tzinfo=datetime.timezone.utc)


def jars(jar_dir, tsv):
    rows = []
    for line in Path(tsv).read_text().splitlines()[1:]:
        file, component, version, source, sha256 = line.split("\t")
        data = (Path(jar_dir) / file).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            sys.exit(f"python_sboms: {file}: sha256 differs from the pinned one")
        rows.append(
            {
                "file": file,
                "artifact": component,
                "group": GROUPS[component],
                "version": version,
                "source": source,
                "sha1": hashlib.sha1(data).hexdigest(),
                "sha256": sha256,
            }
        )
    return rows


def cyclonedx_14(rows, out):
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot4
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from packageurl import PackageURL

    bom = Bom(serial_number=uuid.UUID("6d1c5c1e-2f4e-4a55-9a47-0a1b2c3d4e5f"))
    bom.metadata.timestamp = CREATED
    # The library does not name itself in the document it writes; say which one did.
    bom.metadata.tools.components.add(
        Component(
            type=ComponentType.LIBRARY,
            group="CycloneDX",
            name="cyclonedx-python-lib",
            version=importlib.metadata.version("cyclonedx-python-lib"),
        )
    )
    bom.metadata.component = Component(
        name="quell-fixture-app", version="1.0.0", type=ComponentType.APPLICATION, bom_ref="app"
    )
    sources = {}
    for row in rows:
        sources.setdefault(row["source"], []).append(row)
    for source, members in sorted(sources.items()):
        bundle = Component(
            name=source.replace(":", "-").replace("==", "-").replace("=", "-"),
            type=ComponentType.APPLICATION,
            bom_ref=f"bundle:{source}",
        )
        for row in members:
            bundle.components.add(
                Component(
                    name=row["artifact"],
                    group=row["group"],
                    version=row["version"],
                    type=ComponentType.LIBRARY,
                    purl=PackageURL("maven", row["group"], row["artifact"], row["version"]),
                    bom_ref=f"jar:{row['file']}",
                    hashes=[
                        HashType(alg=HashAlgorithm.SHA_1, content=row["sha1"]),
                        HashType(alg=HashAlgorithm.SHA_256, content=row["sha256"]),
                    ],
                )
            )
        bom.components.add(bundle)
    bom.register_dependency(bom.metadata.component, list(bom.components))
    text = JsonV1Dot4(bom).output_as_string(indent=2)
    errors = JsonStrictValidator(SchemaVersion.V1_4).validate_str(text)
    if errors:
        sys.exit(f"python_sboms: the CycloneDX 1.4 document does not validate: {errors!r}")
    Path(out).write_text(text + "\n")


def spdx_23(rows, out):
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        Checksum,
        ChecksumAlgorithm,
        CreationInfo,
        Document,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        Relationship,
        RelationshipType,
        SpdxNoAssertion,
    )
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    from spdx_tools.spdx.writer.write_anything import write_file

    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name="quell-fixture-app",
        document_namespace="https://example.invalid/spdx/quell-fixture-app-1",
        creators=[Actor(ActorType.TOOL, "spdx-tools-0.8.5"), Actor(ActorType.ORGANIZATION, "quell tests")],
        created=CREATED.replace(tzinfo=None),
    )
    root = Package(
        spdx_id="SPDXRef-root",
        name="quell-fixture-app",
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
    )
    packages = [root]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-root")]
    for i, row in enumerate(rows):
        spdx_id = f"SPDXRef-jar-{i}"
        purl = f"pkg:maven/{row['group']}/{row['artifact']}@{row['version']}"
        packages.append(
            Package(
                spdx_id=spdx_id,
                name=f"{row['group']}:{row['artifact']}",
                version=row["version"],
                file_name=row["file"],
                download_location=SpdxNoAssertion(),
                files_analyzed=False,
                checksums=[
                    Checksum(ChecksumAlgorithm.SHA1, row["sha1"]),
                    Checksum(ChecksumAlgorithm.SHA256, row["sha256"]),
                ],
                external_references=[
                    ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)
                ],
            )
        )
        relationships.append(Relationship("SPDXRef-root", RelationshipType.CONTAINS, spdx_id))
    document = Document(creation_info=info, packages=packages, relationships=relationships)
    errors = validate_full_spdx_document(document)
    if errors:
        sys.exit(f"python_sboms: the SPDX document does not validate: {errors!r}")
    write_file(document, out, validate=True)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    jar_dir, tsv, out_dir = sys.argv[1:]
    rows = jars(jar_dir, tsv)
    cyclonedx_14(rows, Path(out_dir) / "python-lib-1.4.cdx.json")
    spdx_23(rows, str(Path(out_dir) / "spdx-tools-2.3.spdx.json"))


if __name__ == "__main__":
    main()
