#!/usr/bin/env python3
"""Lays the pinned jars out as a Gradle module cache (run by scripts/make-sboms):

  OUT/<group>/<artifact>/<version>/<sha1 of the jar>/<artifact>-<version>.jar

the layout of ~/.gradle/caches/modules-2/files-2.1 on a build machine. cdxgen (`-t jar`) looks
each jar's identity up there (GRADLE_CACHE_DIR) and writes the MD5/SHA-1/SHA-256/SHA-512 of the
cached file, which it does not do for a bare folder of jars. Versions without `.RELEASE`, as
cdxgen names them. Jars of one identity from two sources are both laid out (two sha1 folders).

Usage: gradle_cache.py JAR_DIR TSV OUT_DIR
"""

import hashlib
import shutil
import sys
from pathlib import Path

from python_sboms import GROUPS


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    jar_dir, tsv, out = (Path(a) for a in sys.argv[1:])
    if out.exists():
        shutil.rmtree(out)
    for line in tsv.read_text().splitlines()[1:]:
        file, artifact, version, _source, _sha256 = line.split("\t")
        version = version.removesuffix(".RELEASE")
        data = (jar_dir / file).read_bytes()
        dest = out / GROUPS[artifact] / artifact / version / hashlib.sha1(data).hexdigest()
        dest.mkdir(parents=True, exist_ok=True)
        (dest / f"{artifact}-{version}.jar").write_bytes(data)


if __name__ == "__main__":
    main()
