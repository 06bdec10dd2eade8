#!/usr/bin/env python3
"""A STAND-IN for the original Rust Varpulis 0.3.0, used only to test `bench/run_workloads.py --reference`.

The original could not be built here (its crates are not reachable from this machine), so this script accepts the
same command line (`simulate --program P --events E [--immediate] [--preload] [--quiet] [--workers N]`) and prints
the summary in the original's format (crates/varpulis-cli/src/main.rs of v0.3.0):

    Duration:         812.345ms
    Events processed: 1000000
    Workers used:     1
    Output events emitted: 890000
    Event rate:       1231527.3 events/sec

It does no event processing: it counts the event lines of the file (timed, as "parsing"), and takes the output count
from the workload's expected.json next to the events file. Its rates measure nothing but this script.
"""
import json
import os
import sys
import time


def main(argv):
    if len(argv) < 2 or argv[1] != "simulate":
        print("usage: reference_standin.py simulate --program P --events E [--immediate] [--preload] [--quiet] [--workers N]", file=sys.stderr)
        return 2
    args = argv[2:]
    opts = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--program", "-p", "--events", "-e", "--workers", "-w", "--partition-by"):
            opts[a.lstrip("-")[0] if len(a) == 2 else a.lstrip("-")] = args[i + 1]
            i += 2
        else:
            i += 1
    events = opts.get("events") or opts.get("e")
    workers = int(opts.get("workers") or opts.get("w") or os.cpu_count() or 1)
    print("Varpulis Event Simulation (stand-in)")
    print("============================")
    start = time.perf_counter()
    count = 0
    with open(events, "rb") as f:
        for line in f:
            s = line.strip()
            if s and not s.startswith(b"#") and not s.startswith(b"//") and not s.startswith(b"BATCH"):
                count += 1
    elapsed = time.perf_counter() - start
    with open(os.path.join(os.path.dirname(os.path.abspath(events)), "expected.json")) as f:
        outputs = json.load(f)["output_events"]
    print("\nSimulation Complete")
    print("======================")
    print(f"Duration:         {elapsed * 1000:.6f}ms")
    print(f"Events processed: {count}")
    print(f"Workers used:     {workers}")
    print(f"Output events emitted: {outputs}")
    print(f"Event rate:       {count / elapsed:.1f} events/sec")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
