#!/usr/bin/env python3
"""Validates quell detection packs (TOML) against the pack JSON Schema.

Usage:
    check-pack-schema.py SCHEMA PACK.toml...   validate each pack; exit 1 if any is invalid
    check-pack-schema.py --check-deps          exit 0 when the Python packages are importable, else 3

SCHEMA is crates/quell-packs/packs/schema.json (JSON Schema draft 2020-12). Each pack is read with
tomllib (Python 3.11+) and checked as the equivalent JSON document. Prints `PACK: ok`, or one line
per error: `PACK: $.json.path: message`. Exit codes: 0 all packs valid, 1 a pack is invalid (or is
not TOML), 2 usage error (wrong arguments, unreadable file, invalid schema), 3 missing packages.

The schema catches what a schema can (unknown keys, missing fields, types, patterns);
`quell rules check` also checks the cross-references and is the authority.
"""

import json
import sys
from pathlib import Path

USAGE_ERROR = 2
MISSING_DEPS = 3


def check_deps():
    try:
        import tomllib  # noqa: F401  (Python 3.11+)

        import jsonschema  # noqa: F401
        from jsonschema import Draft202012Validator  # noqa: F401
    except Exception as e:  # noqa: BLE001 — any failure means "not installed"
        print(f"check-pack-schema: missing Python packages: {e}", file=sys.stderr)
        return False
    return True


def json_path(error):
    """`$.component[0].class[2].path` for an error's location in the document."""
    out = "$"
    for part in error.absolute_path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def load_schema(path):
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"check-pack-schema: {path}: {e}", file=sys.stderr)
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        print(f"check-pack-schema: {path}: not a valid draft 2020-12 schema: {e.message}", file=sys.stderr)
        return None
    return Draft202012Validator(schema)


def check_pack(validator, path):
    """Prints the result for one pack; returns True when valid, None when unreadable."""
    import tomllib

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"check-pack-schema: {path}: {e}", file=sys.stderr)
        return None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        print(f"{path}: not TOML: {e}")
        return False
    errors = sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        print(f"{path}: ok")
        return True
    for error in errors:
        print(f"{path}: {json_path(error)}: {message(error)}")
    return False


def message(error):
    """The validator's message; for a pattern, what the value should be instead of the regex."""
    if error.validator == "pattern" and isinstance(error.schema, dict) and error.schema.get("description"):
        return f"{error.instance!r} is not valid here: {error.schema['description']}"
    return error.message


def main(argv):
    if argv[1:] == ["--check-deps"]:
        return 0 if check_deps() else MISSING_DEPS
    if len(argv) < 3 or any(a.startswith("--") for a in argv[1:]):
        print(__doc__, file=sys.stderr)
        return USAGE_ERROR
    if not check_deps():
        return MISSING_DEPS
    validator = load_schema(argv[1])
    if validator is None:
        return USAGE_ERROR
    invalid = unreadable = False
    for pack in argv[2:]:
        result = check_pack(validator, pack)
        if result is None:
            unreadable = True
        elif not result:
            invalid = True
    if unreadable:
        return USAGE_ERROR
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
