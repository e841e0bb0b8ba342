#!/usr/bin/env python3
"""Prints criterion's results for `cargo bench --bench workloads` as markdown tables: median time per run,
elements/s, and the ratios BENCHMARKS.md reports (dofn / baseline, 2 workers / 1 worker, and the baseline on
two threads / one).

    python3 benches/summarize.py [target-dir]   # default: $CARGO_TARGET_DIR or ./target
"""

import json
import os
import sys

target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")
root = os.path.join(target, "criterion")
GROUPS = [
    "w1_counter_1k_keys",
    "w1_counter_1m_keys",
    "w2_bag_timer",
    "w3_batched_rpc",
    "w4_fixed_windows",
    "state_table_1k_keys",
    "state_table_1m_keys",
]


def load(group, function):
    base = os.path.join(root, group, function, "new")
    try:
        with open(os.path.join(base, "estimates.json")) as f:
            estimates = json.load(f)
        with open(os.path.join(base, "benchmark.json")) as f:
            bench = json.load(f)
    except FileNotFoundError:
        return None
    median = estimates["median"]["point_estimate"]  # ns per run
    low = estimates["median"]["confidence_interval"]["lower_bound"]
    high = estimates["median"]["confidence_interval"]["upper_bound"]
    elements = (bench.get("throughput") or {}).get("Elements")
    return {"ns": median, "low": low, "high": high, "elements": elements}


for group in GROUPS:
    path = os.path.join(root, group)
    if not os.path.isdir(path):
        continue
    functions = sorted(f for f in os.listdir(path) if os.path.isdir(os.path.join(path, f)) and f != "report")
    results = {f: load(group, f) for f in functions}
    results = {f: r for f, r in results.items() if r}
    if not results:
        continue
    n = next(iter(results.values()))["elements"]
    print(f"### {group} ({n:,} elements per run)\n")
    print("| variant | median time per run | M elements/s | vs baseline |")
    print("|---|---:|---:|---:|")
    order = sorted(results, key=lambda f: (not f.startswith(("baseline", "hashmap")), "streaming" in f, f))
    for f in order:
        r = results[f]
        rate = r["elements"] / r["ns"] * 1e3
        base = "baseline_streaming" if "streaming" in f else "baseline" if "baseline" in results else "hashmap"
        ratio = ""
        if (not f.startswith(("baseline", "hashmap")) or f.endswith("_2_threads")) and base in results:
            ratio = f"{results[base]['ns'] / r['ns']:.3f}"
        print(f"| {f} | {r['ns'] / 1e6:,.1f} ms [{r['low'] / 1e6:,.1f}, {r['high'] / 1e6:,.1f}] | {rate:,.2f} | {ratio} |")
    for suffix in ("", "_timer", "_streaming"):
        one, two = results.get(f"dofn_1_worker{suffix}"), results.get(f"dofn_2_workers{suffix}")
        if one and two:
            print(f"\n2 workers / 1 worker{suffix.replace('_', ' ')}: {one['ns'] / two['ns']:.2f}x")
    one, two = results.get("baseline"), results.get("baseline_2_threads")
    if one and two:
        print(f"baseline, 2 threads / 1 thread: {one['ns'] / two['ns']:.2f}x")
    presplit = results.get("reference_2_threads_presplit")
    if one and presplit:
        print(f"reference, 2 threads on presplit input / baseline: {one['ns'] / presplit['ns']:.2f}x")
    print()
