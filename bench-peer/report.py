#!/usr/bin/env python3
"""Prints the side-by-side table from criterion's saved estimates (run after
`cargo bench --bench side_by_side` in this directory): per step, each contender's median
and median absolute deviation, and its ratio to the floor and to Jigap."""
import glob
import json
import os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "target", "criterion")
steps = {}
for path in glob.glob(os.path.join(root, "*", "*", "new", "estimates.json")):
    here = os.path.dirname(path)
    with open(os.path.join(here, "benchmark.json")) as f:
        meta = json.load(f)
    with open(path) as f:
        est = json.load(f)
    steps.setdefault(meta["group_id"], {})[meta["function_id"]] = (
        est["median"]["point_estimate"] / 1000.0,
        est["median_abs_dev"]["point_estimate"] / 1000.0,
    )

order = [
    "holder response",
    "holder first request",
    "reader verification, 1 KB portrait",
    "reader verification, 16 KB portrait",
]
print("| step | Jigap | isomdl 0.2.0 | ring floor | Jigap / floor | isomdl / floor | isomdl / Jigap |")
print("|---|---:|---:|---:|---:|---:|---:|")
for step in order + sorted(set(steps) - set(order)):
    row = steps.get(step)
    if not row:
        continue
    cell = lambda k: "%.1f µs ± %.1f" % row[k] if k in row else "–"
    ratio = lambda a, b: "%.2f×" % (row[a][0] / row[b][0]) if a in row and b in row else "–"
    print(
        "| %s | %s | %s | %s | %s | %s | %s |"
        % (
            step,
            cell("jigap"),
            cell("isomdl"),
            cell("floor"),
            ratio("jigap", "floor"),
            ratio("isomdl", "floor"),
            ratio("isomdl", "jigap"),
        )
    )
