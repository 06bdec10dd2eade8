#!/usr/bin/env python3
"""Pattern workloads of this repository, beside ../shared/bench's: written like gen_events.py's
(program.vpl, events.evt, expected.json with the exact output count, a BATCH line every 10 events).

Usage: gen_pattern_workloads.py OUT_DIR [--events N] [--only W3c,W3d]

W3c  the runbook's fraud example over 50 interleaved users, unpartitioned: the .where after the last
     step correlates the steps (vpl.md 5.1). Each round, the 50 users log in in a shuffled order, then
     buy in another; every Purchase completes its own user's run (up to 50 runs wait).
W3d  W3b without .partition_by: `A as a -> B where id == a.id as b .within(60s)`, B lagging A by 1,000
     pairs, so 1,000 runs wait in one partition (indexed by a.id).
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared", "bench"))
import gen_events  # noqa: E402  (../shared/bench/gen_events.py: batch_lines, w3_sequence)


def w3c_runbook_fraud(n, users=50, seed=8):
    prog = "stream Alert = Login as a -> Purchase as b .within(5m) .where(a.user == b.user) .emit(user: a.user)\n"
    r = random.Random(seed)
    lines, i, out = [], 0, 0
    while i + 2 * users <= n:
        for kind in ("Login", "Purchase"):
            order = list(range(users))
            r.shuffle(order)
            for u in order:
                lines += gen_events.batch_lines(i)
                lines.append(f'{kind} {{ user: "u{u}", amount: {u % 7 + 1} }}')
                i += 1
        out += users
    return prog, lines, out


def w3d_unpartitioned_lag(n):
    prog, lines, out = gen_events.w3_sequence(n, 1000)
    return prog.replace("    .partition_by(id)\n", ""), lines, out


WORKLOADS = {"W3c": w3c_runbook_fraud, "W3d": w3d_unpartitioned_lag}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--only", default=",".join(WORKLOADS))
    a = ap.parse_args()
    for w in a.only.split(","):
        prog, lines, out = WORKLOADS[w](a.events)
        d = os.path.join(a.out, w)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "program.vpl"), "w") as f:
            f.write(prog)
        with open(os.path.join(d, "events.evt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"workload": w, "events": a.events, "output_events": out}, f)
        print(f"{w} events: {a.events} expected outputs: {out}")


if __name__ == "__main__":
    main()
