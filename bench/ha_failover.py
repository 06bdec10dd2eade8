#!/usr/bin/env python3
"""Leader failover time of raft coordinators (issue 10), and the scaling webhook's delay.

Starts three coordinators with the runbook's section 1.3 command on loopback (free ports, --heartbeat-interval 1
--heartbeat-timeout 5 unless given), waits until all agree on a leader, then N times: kill -9 the leader, measure
until both survivors report the same new leader with a higher term (polling GET /api/v1/cluster/raft/status every
100 ms), restart the killed one and wait until it follows and every coordinator is ready (a member again). Prints each failover and the median and range.

Then starts a coordinator with --scaling-min-workers 2 and a webhook on a local listener, and measures the delay
from each recommendation's timestamp to its arrival at the listener (N deliveries, --scaling-webhook-interval 1).

    python3 bench/ha_failover.py --varpulis src/Host/bin/Release/net10.0/varpulis.dll --kills 5
"""
import argparse, http.server, json, os, shutil, signal, socket, statistics, subprocess, tempfile, threading, time, urllib.request
from datetime import datetime, timezone

KEY = "bench-key"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def get(port, path, timeout=2):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"x-api-key": KEY})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def is_ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
            return r.status == 200
    except Exception:
        return False


def view(port):
    try:
        s = get(port, "/api/v1/cluster/raft/status")
        return (s["leader_id"], s["term"])
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--varpulis", required=True)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--heartbeat-interval", default="1")
    ap.add_argument("--heartbeat-timeout", default="5")
    ap.add_argument("--only-webhook", action="store_true", help="skip the failover part")
    a = ap.parse_args()
    a.varpulis = os.path.abspath(a.varpulis)
    work = tempfile.mkdtemp(prefix="varpulis-ha-bench-")
    ports = [free_port() for _ in range(3)]
    peers = ",".join(f"http://127.0.0.1:{p}" for p in ports)
    procs = {}

    def start(i):
        log = open(os.path.join(work, f"coord-{i}.log"), "a")
        procs[i] = subprocess.Popen(["dotnet", a.varpulis, "coordinator", "--bind", "127.0.0.1", "--port", str(ports[i - 1]),
                                     "--api-key", KEY, "--heartbeat-interval", a.heartbeat_interval, "--heartbeat-timeout", a.heartbeat_timeout,
                                     "--raft", "--raft-node-id", str(i), "--raft-peers", peers, "--raft-data-dir", os.path.join(work, f"raft-{i}")],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=work)

    def agreed(ids, pred=lambda l, t: True, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            vs = [view(ports[i - 1]) for i in ids]
            if all(v is not None and v[0] is not None for v in vs) and len(set(vs)) == 1 and pred(*vs[0]):
                return vs[0]
            time.sleep(0.1)
        raise SystemExit(f"no agreement among {ids} within {timeout} s (logs in {work})")

    def ready(ids, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(is_ready(ports[i - 1]) for i in ids):
                return
            time.sleep(0.1)
        raise SystemExit(f"coordinators {ids} not all ready within {timeout} s (logs in {work})")

    try:
        for i in (1, 2, 3) if not a.only_webhook else ():
            start(i)
        times = []
        leader, term = agreed([1, 2, 3]) if not a.only_webhook else (0, 0)
        for k in range(a.kills if not a.only_webhook else 0):
            procs[leader].send_signal(signal.SIGKILL); procs[leader].wait()
            t0 = time.monotonic()
            survivors = [i for i in (1, 2, 3) if i != leader]
            new, new_term = agreed(survivors, lambda l, t: l != leader and t > term)
            dt = time.monotonic() - t0
            times.append(dt)
            print(f"kill {k + 1}: leader {leader} (term {term}) -> {new} (term {new_term}) in {dt:.1f} s", flush=True)
            start(leader)
            leader, term = agreed([1, 2, 3], lambda l, t: t == new_term)
            # As runbook §1.5 does before the next restart: the restarted coordinator is a member again (/ready 200).
            # Killing the leader while it is still joining leaves two Up members, and losing one of two is no majority.
            ready([1, 2, 3])
        if times:
            print(f"failover over {len(times)} kills: median {statistics.median(times):.1f} s, range {min(times):.1f}-{max(times):.1f} s "
                  f"(heartbeat interval {a.heartbeat_interval} s, timeout {a.heartbeat_timeout} s)")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGKILL); p.wait()

    # Scaling webhook delay.
    arrivals = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            now = datetime.now(timezone.utc)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            arrivals.append((now - datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))).total_seconds() * 1000)
            self.send_response(200); self.end_headers()

        def log_message(self, *args):
            pass

    hook_port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", hook_port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = free_port()
    log = open(os.path.join(work, "scaling.log"), "a")
    p = subprocess.Popen(["dotnet", a.varpulis, "coordinator", "--bind", "127.0.0.1", "--port", str(port), "--scaling-min-workers", "2",
                          "--scaling-webhook-url", f"http://127.0.0.1:{hook_port}/scale", "--scaling-webhook-interval", "1"],
                         stdout=log, stderr=subprocess.STDOUT, cwd=work)
    try:
        deadline = time.monotonic() + 180
        while len(arrivals) < 10 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        p.send_signal(signal.SIGKILL); p.wait(); server.shutdown()
    if arrivals:
        print(f"recommendation-to-webhook delay over {len(arrivals)} deliveries: median {statistics.median(arrivals):.1f} ms, "
              f"range {min(arrivals):.1f}-{max(arrivals):.1f} ms")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
