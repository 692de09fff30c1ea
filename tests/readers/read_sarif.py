#!/usr/bin/env python3
"""Validates a SARIF file against the official SARIF 2.1.0 JSON schema (sarif-schema-2.1.0.json
beside this script, see README.md) with the `jsonschema` package, and prints what it read as JSON.
Exit 1 when the file is not valid SARIF 2.1.0."""
import collections
import json
import pathlib
import sys

from jsonschema import Draft4Validator  # a missing package must fail the test, not skip it


def main(path):
    schema = json.loads((pathlib.Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())
    Draft4Validator.check_schema(schema)
    doc = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    errors = sorted(Draft4Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        for e in errors[:20]:
            print(f"invalid SARIF at {'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
        return 1
    run = doc["runs"][0]
    rules = run["tool"]["driver"].get("rules", [])
    results = run.get("results", [])
    for r in results:
        # ruleIndex, when present, must point at the rule with the same id
        if "ruleIndex" in r and rules[r["ruleIndex"]]["id"] != r["ruleId"]:
            print(f"ruleIndex {r['ruleIndex']} does not point at {r['ruleId']}", file=sys.stderr)
            return 1
    out = {
        "version": doc["version"],
        "tool": run["tool"]["driver"]["name"],
        "rules": len(rules),
        "results": len(results),
        "levels": dict(sorted(collections.Counter(r.get("level", "warning") for r in results).items())),
        "kinds": dict(sorted(collections.Counter(r.get("kind", "fail") for r in results).items())),
        "fingerprints": sorted(r["partialFingerprints"]["conformFindingId/v1"] for r in results),
        "uris": sorted({loc["physicalLocation"]["artifactLocation"]["uri"]
                        for r in results for loc in r.get("locations", [])}),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
