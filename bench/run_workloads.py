#!/usr/bin/env python3
"""Measures the benchmark workloads of ../shared/bench against the hand-written baseline, in one run.

Usage: bench/run_workloads.py [--events N] [--runs R] [--only W1,W2,...] [--w6-events N] [--workers N]
                              [--reference PATH] [--against REV]

Builds `varpulis` (Release) and the baseline, generates the workloads with gen_events.py (W3c and W3d
with gen_pattern_workloads.py beside this script), runs
`varpulis simulate --immediate --preload --quiet` R times per workload and the baseline R times on W1,
checks every run's output count against expected.json, and prints a Markdown table with the median and
min-max of rate A (Event rate) and rate B (Engine rate), the ratios of the medians to the baseline's, and
the peak RSS (from /usr/bin/time -v). Exits with 1 if any of our output counts is wrong.

--reference PATH also runs the original (Rust) Varpulis at PATH the same way, interleaved with our runs
(`PATH simulate --program P --events E --immediate --preload --quiet --workers 1`), reads its
`Event rate` and `Output events emitted`, and adds its rate A and the ratio ours / original. A reference
whose output count differs from expected.json is marked in the table (it does not fail the script).
The load average before and after the measurement is printed with the table.

--workers 1,2 runs our simulate with each count, interleaved (rows "W w1", "W w2"), and prints the same-run ratio
of the rate A medians.

--against REV also builds git revision REV of this repository and runs it right after each run of the
working tree, so before/after figures come from the same machine state (rows "W @REV"; a workload whose
expected output REV does not produce is reported WRONG for REV only).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "bench")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def timed(cmd, must_succeed=True):
    """Runs cmd under /usr/bin/time -v; returns (stdout, peak RSS in MB). A failed run stops the script unless
    must_succeed is false (then its stdout is returned as empty)."""
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, text=True, capture_output=True)
    if p.returncode != 0:
        if not must_succeed:
            print(f"reference run failed: {' '.join(cmd)}\n{p.stderr[-2000:]}", file=sys.stderr)
            return "", float("nan")
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return p.stdout, (int(m.group(1)) / 1024 if m else float("nan"))


def field(text, label):
    """The number after `label:` at the start of a line (any spacing, decimals allowed: the original prints
    `Event rate:       123456.7 events/sec`)."""
    m = re.search(rf"^\s*{re.escape(label)}:\s+(\d+(?:\.\d+)?)", text, re.M)
    return float(m.group(1)) if m else None


def simulate_cmd(binary, wd, workers):
    return [binary, "simulate", "--program", os.path.join(wd, "program.vpl"), "--events", os.path.join(wd, "events.evt"),
            "--immediate", "--preload", "--quiet", "--workers", str(workers)]


def fmt_rate(values):
    med = statistics.median(values)
    return f"{med / 1e6:.2f}M ({min(values) / 1e6:.2f}–{max(values) / 1e6:.2f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--w6-events", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="W1,W2,W2k,W3a,W3b,W3c,W3d,W4,W5,W6q1,W6q10,W6q50,W7q100")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "varpulis-bench"))
    ap.add_argument("--workers", default="1",
                    help="--workers for our simulate (the reference always runs 1); a comma-separated list (1,2) runs each, "
                         "interleaved, as rows 'W wN'")
    ap.add_argument("--reference", help="path of the original Varpulis executable to compare with")
    ap.add_argument("--against", help="a git revision to measure alternately with the working tree")
    a = ap.parse_args()
    load_before = os.getloadavg()
    wanted = [w for w in a.only.split(",") if w]
    worker_counts = [int(x) for x in a.workers.split(",") if x]

    os.makedirs(a.work, exist_ok=True)
    print("building varpulis and the baseline (Release)...", file=sys.stderr)
    run(["dotnet", "build", os.path.join(ROOT, "src", "Host"), "-c", "Release", "-o", os.path.join(a.work, "varpulis")])
    base_src = os.path.join(a.work, "baseline-src")
    shutil.rmtree(base_src, ignore_errors=True)
    shutil.copytree(os.path.join(SHARED, "baseline"), base_src)
    run(["dotnet", "build", base_src, "-c", "Release", "-o", os.path.join(a.work, "baseline")])
    varpulis = os.path.join(a.work, "varpulis", "varpulis")
    baseline = [os.path.join(a.work, "baseline", "Baseline")]
    builds = [("", varpulis)]
    if a.against:
        rev_src = os.path.join(a.work, "against-src")
        shutil.rmtree(rev_src, ignore_errors=True)
        os.makedirs(rev_src)
        archive = subprocess.run(["git", "-C", ROOT, "archive", a.against], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", rev_src], input=archive, check=True)
        print(f"building {a.against}...", file=sys.stderr)
        run(["dotnet", "build", os.path.join(rev_src, "src", "Host"), "-c", "Release", "-o", os.path.join(a.work, "against")])
        builds.append((f" @{a.against}", os.path.join(a.work, "against", "varpulis")))
    # One row per build and --workers count (the first count's working-tree row is the one checked and compared).
    builds = [(label + (f" w{k}" if len(worker_counts) > 1 else ""), exe, k) for label, exe in builds for k in worker_counts]

    data = {}
    for n in sorted({a.events, a.w6_events}):
        d = os.path.join(a.work, f"data-{n}")
        if not os.path.isdir(d):
            print(f"generating workloads with {n} events...", file=sys.stderr)
            run([sys.executable, os.path.join(SHARED, "gen_events.py"), d, "--events", str(n)])
        if not os.path.isdir(os.path.join(d, "W3c")):
            run([sys.executable, os.path.join(ROOT, "bench", "gen_pattern_workloads.py"), d, "--events", str(n)])
        data[n] = d

    w1 = os.path.join(data[a.events], "W1", "events.evt")
    base_a, base_b = [], []
    rows = []
    ok = True
    for w in wanted:
        n = a.w6_events if w.startswith("W6") else a.events
        wd = os.path.join(data[n], w)
        expected = json.load(open(os.path.join(wd, "expected.json")))["output_events"]
        per_build = {label: ([], [], [], set()) for label, _, _ in builds}
        ref_a, ref_counts = [], set()
        for _ in range(a.runs):
            # Interleave baseline (and reference) runs with the workload's runs so all see the same machine.
            out, _ = timed(baseline + [w1])
            base_a.append(field(out, "Baseline rate A"))
            base_b.append(field(out, "Baseline rate B"))
            for label, exe, workers in builds:
                ra, rb, rss, counts = per_build[label]
                out, peak = timed(simulate_cmd(exe, wd, workers))
                ra.append(field(out, "Event rate"))
                rb.append(field(out, "Engine rate"))
                counts.add(int(field(out, "Output events emitted")))
                rss.append(peak)
            if a.reference:
                out, _ = timed(simulate_cmd(a.reference, wd, 1), must_succeed=False)
                ref_a.append(field(out, "Event rate"))
                ref_counts.add(int(field(out, "Output events emitted") or -1))
        for i, (label, _, _) in enumerate(builds):
            ra, rb, rss, counts = per_build[label]
            correct = counts == {expected}
            if "@" not in label:
                ok &= correct
            rows.append((w + label, n, expected, correct, ra, rb, max(rss), ref_a if i == 0 else [], ref_counts))

    bb = statistics.median(base_b)
    ba = statistics.median(base_a)
    load_after = os.getloadavg()
    print(f"\nLoad average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; our simulate ran with --workers {a.workers}")
    print(f"\nBaseline (W1, {a.events:,} events, {len(base_b)} runs): rate A {fmt_rate(base_a)} ev/s, rate B {fmt_rate(base_b)} ev/s\n")
    ref_head = " Original rate A, median (min–max) ev/s | Ours / original (A) |" if a.reference else ""
    print("| Workload | Events | Outputs (expected) | Rate A, median (min–max) ev/s | Rate B, median (min–max) ev/s | A / baseline A | B / baseline B | Peak RSS |" + ref_head)
    print("|---|---|---|---|---|---|---|---|" + ("---|---|" if a.reference else ""))
    for w, n, expected, correct, ra, rb, rss, ref_a, ref_counts in rows:
        mark = "ok" if correct else "WRONG"
        line = f"| {w} | {n:,} | {expected:,} {mark} | {fmt_rate(ra)} | {fmt_rate(rb)} | {statistics.median(ra) / ba:.2f}× | {statistics.median(rb) / bb:.2f}× | {rss:.0f} MB |"
        if a.reference and (" @" in w or " w" in w and not w.endswith(f" w{worker_counts[0]}")):
            line += " | |"  # the reference is compared with the working tree's row
        elif a.reference:
            ref_ok = "" if ref_counts == {expected} else f" (outputs {sorted(ref_counts)} ≠ expected)"
            valid = [x for x in ref_a if x]
            line += f" {fmt_rate(valid)}{ref_ok} | {statistics.median(ra) / statistics.median(valid):.2f}× |" if valid else " failed | |"
        print(line)
    if len(worker_counts) > 1:
        # Same-run ratios of each --workers count's median rate A to the first count's, per workload.
        medians = {w: statistics.median(ra) for w, _, _, _, ra, _, _, _, _ in rows}
        print()
        for w in wanted:
            first = medians.get(f"{w} w{worker_counts[0]}")
            for k in worker_counts[1:]:
                if first and f"{w} w{k}" in medians:
                    print(f"{w}: rate A with --workers {k} / --workers {worker_counts[0]} = {medians[f'{w} w{k}'] / first:.2f}×")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
