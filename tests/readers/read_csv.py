#!/usr/bin/env python3
"""Reads a findings CSV with Python's csv module and prints the header, the rows and every cell
a spreadsheet would take as a formula (it must be none) as JSON."""
import csv
import json
import sys

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def main(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    widths = sorted({len(r) for r in body})
    formulas = [c for r in body for c in r if c.startswith(FORMULA_START)]
    out = {
        "header": header,
        "rows": len(body),
        "widths": widths,
        "ids": [r[0] for r in body],
        "formula_cells": formulas,
        "neutralised_cells": [c for r in body for c in r if c.startswith("'")],
        "records": [dict(zip(header, r)) for r in body],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
