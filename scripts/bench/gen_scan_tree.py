#!/usr/bin/env python3
"""Generates the tree `scripts/bench/scan` measures: a realistic application-server file system.

usage: gen_scan_tree.py TREE CORPUS_DIR SCALE

At scale 1: 24,000 files, 3,200 of them top-level archives, about 2.4 GB:
  500 wars (STORED, WEB-INF/lib holding a real log4j-core from the corpus and library jars),
  500 Spring Boot fat jars (deflated BOOT-INF/classes, STORED BOOT-INF/lib jars, one in five
      with a real log4j-core), 300 tgz distributions (lib/*.jar), 1,700 library jars,
  200 plain copies of the corpus jars, and 20,800 other files (configuration, logs, HTML, class
  files, binaries) of 1 KiB to 64 KiB.
Deterministic (fixed seed), so two runs measure the same bytes.
"""
import io
import os
import random
import sys
import tarfile
import zipfile

tree, corpus, scale = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(42)
jars = [os.path.join(corpus, f) for f in sorted(os.listdir(corpus)) if f.endswith('.jar')]
corpus_bytes = {path: open(path, 'rb').read() for path in jars}
core_jars = [p for p in jars if 'log4j-core' in p]


def class_bytes(n):
    # class-like content: the magic, then semi-compressible bytes
    return b'\xca\xfe\xba\xbe' + bytes(b & 63 for b in rng.randbytes(n))


def zip_bytes(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', method) as z:
        for name, data, entry_method in entries:
            z.writestr(zipfile.ZipInfo(name, (2021, 12, 10, 12, 0, 0)), data,
                       compress_type=entry_method if entry_method is not None else method)
    return buf.getvalue()


def library_jar(n_classes, package):
    entries = [('META-INF/MANIFEST.MF', b'Manifest-Version: 1.0\n', None)]
    entries += [(f'com/{package}/p{i % 13}/C{i}.class', class_bytes(rng.randint(500, 4000)), None)
                for i in range(n_classes)]
    return zip_bytes(entries)


pool = [library_jar(rng.randint(20, 200), f'vendor{k}') for k in range(48)]
classes = [class_bytes(rng.randint(300, 3000)) for _ in range(64)]
text_kinds = [
    ('conf', lambda n: b'server.port=8080\nlogging.level.root=INFO\n' * (n // 40)),
    ('log', lambda n: b'2021-12-10 12:00:00 INFO  [main] o.a.c.Http11Processor - request served\n' * (n // 70)),
    ('html', lambda n: b'<html><body><p>status page</p></body></html>\n' * (n // 45)),
    ('bin', lambda n: rng.randbytes(n)),
    ('class', lambda n: classes[n % len(classes)]),
]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def place(i):
    return os.path.join(tree, f'srv{i % 40}', f'app{i % 400}')


archives = 0
for i in range(500 * scale):  # wars
    core = core_jars[i % len(core_jars)]
    entries = [('WEB-INF/web.xml', b'<web-app/>', zipfile.ZIP_DEFLATED),
               (f'WEB-INF/lib/{os.path.basename(core)}', corpus_bytes[core], None)]
    entries += [(f'WEB-INF/lib/lib{j}.jar', pool[(i + j) % len(pool)], None) for j in range(3)]
    write(os.path.join(place(i), f'shop{i}.war'), zip_bytes(entries, zipfile.ZIP_STORED))
    archives += 1
for i in range(500 * scale):  # Spring Boot fat jars
    entries = [('META-INF/MANIFEST.MF', b'Main-Class: org.springframework.boot.loader.JarLauncher\n', None)]
    entries += [(f'BOOT-INF/classes/com/shop/C{k}.class', classes[(i + k) % len(classes)], None) for k in range(50)]
    libs = [(f'BOOT-INF/lib/dep{j}.jar', pool[(i * 3 + j) % len(pool)]) for j in range(4)]
    if i % 5 == 0:
        core = core_jars[(i // 5) % len(core_jars)]
        libs.append((f'BOOT-INF/lib/{os.path.basename(core)}', corpus_bytes[core]))
    entries += [(name, data, zipfile.ZIP_STORED) for name, data in libs]
    write(os.path.join(place(i + 1), f'service{i}.jar'), zip_bytes(entries))
    archives += 1
for i in range(300 * scale):  # tgz distributions
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as t:
        for j in range(3):
            data = pool[(i + j * 7) % len(pool)]
            info = tarfile.TarInfo(f'product-{i}/lib/lib{j}.jar')
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        readme = b'Installation: unpack and run bin/start.sh\n'
        info = tarfile.TarInfo(f'product-{i}/README')
        info.size = len(readme)
        t.addfile(info, io.BytesIO(readme))
    write(os.path.join(place(i + 2), f'product-{i}.tgz'), buf.getvalue())
    archives += 1
for i in range(1700 * scale):  # library jars
    write(os.path.join(place(i + 3), 'lib', f'lib{i}.jar'), pool[i % len(pool)])
    archives += 1
for i in range(200 * scale):  # plain copies of the corpus jars
    path = jars[i % len(jars)]
    write(os.path.join(place(i + 4), 'lib', f'{i}-{os.path.basename(path)}'), corpus_bytes[path])
    archives += 1
others = 24000 * scale - archives
for i in range(others):
    ext, make = text_kinds[i % len(text_kinds)]
    write(os.path.join(place(i + 5), 'files', f'f{i}.{ext}'), make(rng.randint(1024, 64 * 1024)))
print(f'{archives} archives, {others} other files', file=sys.stderr)
