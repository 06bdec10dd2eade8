#!/usr/bin/env python3
"""A/B of `varpulis server` REST ingestion: two builds, interleaved rounds, same machine, same run.

Each round starts each build in turn on a fresh state directory (SQLite journal), runs the load generator against it
(batched ingestion, then single-event latency at a fixed rate) and stops it, reading the server's CPU time
(user + system, /proc) around each measurement, so both builds see the same machine load
within a round. Prints every figure, then per build the median and range, and the ratio of medians.

  python3 bench/server_ab.py --build before=/tmp/base/src/Host/bin/Release/net10.0 \
      --build after=src/Host/bin/Release/net10.0 --workload /tmp/wl/W1 --rounds 3

The machine is shared: read the ratios, not the absolute figures (the 1-minute load average is printed per run).
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready")


def load():
    return os.getloadavg()[0]


def run_loadgen(loadgen, port, pid, workload, args):
    cmd = [loadgen, "--server", f"http://127.0.0.1:{port}", "--workload", workload, "--server-pid", str(pid)] + args
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed: {out.stdout}\n{out.stderr}")
    return out.stdout


def cpu_seconds(pid):
    """User + system CPU time of a process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def number(text, label):
    m = re.search(rf"^{re.escape(label)}\s+([0-9,.]+)", text, re.M)
    return float(m.group(1).replace(",", "")) if m else None


def one_run(name, build, workload, loadgen, opts):
    state = tempfile.mkdtemp(prefix=f"varpulis-ab-{name}-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VARPULIS_")}
    proc = subprocess.Popen([os.path.join(build, "varpulis"), "server", "--port", str(port), "--state-dir", state],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    result = {"load": load()}
    try:
        wait_ready(port, proc)
        if opts.batch_passes > 0:
            # A short warm-up pass (JIT, SQLite caches), then the measured passes on a new pipeline.
            run_loadgen(loadgen, port, proc.pid, workload, ["--mode", "batch", "--passes", "1", "--connections", str(opts.connections)])
            cpu = cpu_seconds(proc.pid)
            out = run_loadgen(loadgen, port, proc.pid, workload,
                              ["--mode", "batch", "--passes", str(opts.batch_passes), "--connections", str(opts.connections)])
            cpu = cpu_seconds(proc.pid) - cpu
            if "output check        ok" not in out:
                raise RuntimeError("output check failed:\n" + out)
            result["batch_evs"] = number(out, "throughput")
            # Server CPU per event: far steadier than wall-clock throughput on a loaded machine.
            result["batch_cpu_us_per_event"] = cpu * 1e6 / number(out, "events accepted")
        if opts.single_secs > 0:
            cpu = cpu_seconds(proc.pid)
            out = run_loadgen(loadgen, port, proc.pid, workload,
                              ["--mode", "single", "--rate", str(opts.rate), "--duration-secs", str(opts.single_secs)])
            cpu = cpu_seconds(proc.pid) - cpu
            # Includes the generator's 1 s warm-up: CPU per request of everything the server did in the run.
            result["single_cpu_us_per_request"] = cpu * 1e6 / ((opts.single_secs + 1) * opts.rate)
            result["p50"] = number(out, "latency p50")
            result["p99"] = number(out, "latency p99")
            result["p999"] = number(out, "latency p99.9")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(state, ignore_errors=True)
    result["load_end"] = load()
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", action="append", required=True, help="NAME=DIR of a built src/Host (holds the varpulis executable)")
    p.add_argument("--workload", required=True, help="a gen_events.py workload directory")
    p.add_argument("--loadgen", default="bench/Varpulis.LoadGen/bin/Release/net10.0/varpulis-loadgen")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-passes", type=int, default=5)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--single-secs", type=int, default=20)
    p.add_argument("--rate", type=int, default=1000)
    opts = p.parse_args()
    builds = [b.split("=", 1) for b in opts.build]
    results = {name: [] for name, _ in builds}
    for r in range(opts.rounds):
        order = builds if r % 2 == 0 else list(reversed(builds))
        for name, build in order:
            res = one_run(name, build, opts.workload, opts.loadgen, opts)
            results[name].append(res)
            print(f"round {r + 1} {name:8} " + "  ".join(f"{k} {v:,.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in res.items()), flush=True)

    def summary(name, key):
        xs = [x[key] for x in results[name] if x.get(key) is not None]
        return (statistics.median(xs), min(xs), max(xs)) if xs else None

    print()
    for key, label in [("batch_evs", "batched events/s"), ("batch_cpu_us_per_event", "server CPU us/event"),
                       ("single_cpu_us_per_request", "server CPU us/single"), ("p50", "single p50 ms"), ("p99", "single p99 ms"), ("p999", "single p99.9 ms")]:
        rows = {name: summary(name, key) for name, _ in builds}
        if any(v is None for v in rows.values()):
            continue
        text = "  ".join(f"{name} {m:,.2f} ({lo:,.2f}-{hi:,.2f})" for name, (m, lo, hi) in rows.items())
        first, last = builds[0][0], builds[-1][0]
        print(f"{label:22} {text}  {last}/{first} {rows[last][0] / rows[first][0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
