#!/usr/bin/env python3
"""Build the pack's requirement catalogs from the shared reference data.

Usage: build_catalogs.py REFERENCE_DIR [OUT_DIR]

REFERENCE_DIR holds `checks.tsv` and `catalogs/<catalog>.tsv` (id <TAB> title).
OUT_DIR defaults to the directory of this script. For every catalog node the
output adds an `assessability` column:

  automated  a check marked `full` in checks.tsv maps to the node
  partial    otherwise, a check marked `partial` maps to it
  manual     otherwise

Output is deterministic: rows in the reference order, LF line endings.
"""

import csv
import os
import sys

# catalog file name -> column of checks.tsv holding that standard's mapping
CATALOGS = {
    "iso27001-2022.tsv": "iso27001_2022",
    "iso20000-1-2018.tsv": "iso20000_1_2018",
}

RANK = {"manual": 0, "partial": 1, "automated": 2}
AUTOMATION = {"full": "automated", "partial": "partial"}


def read_tsv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def assessability(checks, column):
    """Map of node id -> best assessability over the checks that name it."""
    best = {}
    for check in checks:
        level = AUTOMATION.get(check["automation"].strip())
        if level is None:
            raise SystemExit(f"check {check['check_id']}: unknown automation {check['automation']!r}")
        for node in check[column].split(";"):
            node = node.strip()
            if not node or node in ("—", "-"):
                continue
            if RANK[level] > RANK[best.get(node, "manual")]:
                best[node] = level
    return best


def main(argv):
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    ref = argv[1]
    out = argv[2] if len(argv) == 3 else os.path.dirname(os.path.abspath(__file__))
    checks = read_tsv(os.path.join(ref, "checks.tsv"))
    for name, column in CATALOGS.items():
        nodes = read_tsv(os.path.join(ref, "catalogs", name))
        levels = assessability(checks, column)
        ids = {n["id"] for n in nodes}
        unknown = sorted(set(levels) - ids)
        if unknown:
            raise SystemExit(f"{name}: checks.tsv maps to unknown nodes: {', '.join(unknown)}")
        lines = ["id\ttitle\tassessability"]
        for n in nodes:
            lines.append(f"{n['id']}\t{n['title']}\t{levels.get(n['id'], 'manual')}")
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        counts = {k: sum(1 for n in nodes if levels.get(n["id"], "manual") == k) for k in RANK}
        print(f"{name}: {len(nodes)} nodes, {counts}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
