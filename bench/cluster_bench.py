#!/usr/bin/env python3
"""The cluster figures of issue 9, measured on real processes on loopback, in one run.

Usage: bench/cluster_bench.py [--runs R] [--events N] [--only ingest,drain,failover,route] [--pg CONNECTION | --pg-temp]
                              [--heartbeat-interval S] [--heartbeat-timeout S] [--work DIR]

Builds `varpulis` and the load generator (Release), starts a coordinator and three workers (the runbook's §1.2
commands on free loopback ports; the embedded journal, or PostgreSQL with --pg / --pg-temp given to the
coordinator only), then:

ingest    Batched durable ingestion of workload W1 (gen_events.py, N events, 1,000 per request, 4 connections)
          into a fresh pipeline, sent to the worker that runs it (local) and to another worker (remote: one more
          hop over Akka.NET remoting). R runs each, alternating; median (min-max) and the ratio of the medians.
drain     A pipeline holding 100,000 events of count-window state is drained while a probe sends one event every
          20 ms through the coordinator (each with an Idempotency-Key, retried until acknowledged). Reports the
          drain call's duration, the pipeline's longest pause (the gap between consecutive acknowledged probes:
          the last event processed on the old worker to the first on the new one) and checks that every
          acknowledged event was counted once.
failover  A client sends batches of 100 events (Idempotency-Key, 2 s client timeout, retried until acknowledged)
          through the coordinator; the worker running the pipeline is killed with SIGKILL. Reports the time from
          the kill to the first acknowledged batch sent after it, and the events lost (acknowledged but not
          counted) and doubled.
route     Routed throughput of a pipeline group (issue 10): pipeline A (workload W1's program, on worker-0) routes
          every output to pipeline B (on worker-1, counting them); N events go into A in batches of 1,000 over 4
          connections. Routed: N / (the load generator's time + the time B needs after it to apply every routed
          event), i.e. events/s entering A and leaving B through the route. Alone: the same events into a pipeline
          running A's program with no route, in the same run. R runs each, alternating; the ratio of the medians.

The machine is shared: wall-clock figures are noisy; compare the figures of one run, and read the load average
printed at the end.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "bench")
COORD_KEY = "bench-coordinator"
WORKER_KEY = "bench-worker"
BIG = "stream Big = Reading .window(200000) .aggregate(n: count(), total: sum(v)) .emit(n: n, total: total)"
SUMS = "stream Sums = Reading .partition_by(k) .window(10) .aggregate(n: count(), total: sum(v)) .emit(k: k, n: n, total: total)"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, key, body=None, timeout=60, headers=None):
    """(status, parsed JSON or text); connection errors and timeouts are status 0."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("x-api-key", key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text
    except (urllib.error.URLError, TimeoutError, ConnectionError, socket.timeout):
        return 0, None


def wait_for(what, cond, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if cond():
                return
        except (urllib.error.URLError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.25)
    raise SystemExit(f"timed out waiting for {what}")


class Cluster:
    def __init__(self, work, varpulis, coord_env, interval, timeout):
        self.dir = tempfile.mkdtemp(prefix="cluster-bench-", dir=work)
        self.varpulis = varpulis
        self.coord_port = free_port()
        self.coord = None
        self.coord_env = coord_env
        self.interval, self.timeout = interval, timeout
        self.workers = {}
        self.ports = {}

    def url(self, port):
        return f"http://127.0.0.1:{port}"

    def start_coordinator(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VARPULIS_")}
        env.update(self.coord_env)
        log = open(os.path.join(self.dir, "coordinator.log"), "w")
        self.coord = subprocess.Popen(
            [self.varpulis, "coordinator", "--bind", "127.0.0.1", "--port", str(self.coord_port), "--api-key", COORD_KEY,
             "--heartbeat-interval", str(self.interval), "--heartbeat-timeout", str(self.timeout)],
            cwd=self.dir, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for("the coordinator", lambda: http("GET", self.url(self.coord_port) + "/ready", COORD_KEY, timeout=3)[0] == 200)

    def start_worker(self, wid):
        if wid not in self.ports:
            self.ports[wid] = (free_port(), free_port())
        api, metrics = self.ports[wid]
        env = {k: v for k, v in os.environ.items() if not k.startswith("VARPULIS_")}
        log = open(os.path.join(self.dir, f"{wid}.log"), "a")
        self.workers[wid] = subprocess.Popen(
            [self.varpulis, "server", "--bind", "127.0.0.1", "--port", str(api), "--api-key", WORKER_KEY, "--metrics",
             "--metrics-port", str(metrics), "--coordinator", self.url(self.coord_port), "--worker-id", wid,
             "--advertise-address", self.url(api)],
            cwd=self.dir, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(f"{wid} ready", lambda: any(w["id"] == wid and w["status"] == "ready" and w["last_heartbeat"]
                                             for w in self.workers_info()))

    def stop_worker(self, wid, kill=False):
        p = self.workers.pop(wid)
        p.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        p.wait(timeout=90)

    def workers_info(self):
        status, body = http("GET", self.url(self.coord_port) + "/api/v1/cluster/workers", COORD_KEY, timeout=10)
        return body if status == 200 else []

    def host_of(self, name):
        found = []

        def placed():
            found[:] = [w["id"] for w in self.workers_info() if name in w["assigned_pipelines"]]
            return bool(found)
        wait_for(f"{name} placed", placed)
        return found[0]

    def deploy(self, name, source):
        status, body = http("POST", self.url(self.coord_port) + "/api/v1/pipelines", COORD_KEY, {"name": name, "source": source})
        if status != 201:
            raise SystemExit(f"deploy failed: {status} {body}")
        return body["id"], self.host_of(name)

    def delete(self, pid):
        http("DELETE", self.url(self.coord_port) + f"/api/v1/pipelines/{pid}", COORD_KEY)

    def processed(self, pid):
        status, body = http("GET", self.url(self.coord_port) + f"/api/v1/pipelines/{pid}/metrics", COORD_KEY)
        return body["events_processed"] if status == 200 else None

    def close(self):
        for p in list(self.workers.values()) + ([self.coord] if self.coord else []):
            if p.poll() is None:
                p.kill()
                p.wait()


class PostgresTemp:
    """A throwaway PostgreSQL (initdb + pg_ctl on a free port, as the tests' fixture does)."""

    def __init__(self, work):
        bins = sorted(d for d in os.listdir("/usr/lib/postgresql")) if os.path.isdir("/usr/lib/postgresql") else []
        if not bins:
            raise SystemExit("--pg-temp needs Debian's postgresql package")
        self.bin = os.path.join("/usr/lib/postgresql", bins[-1], "bin")
        self.dir = tempfile.mkdtemp(prefix="bench-pg-", dir=work)
        self.root = os.geteuid() == 0
        if self.root:
            subprocess.run(["chown", "-R", "postgres:postgres", self.dir], check=True)
        self.port = free_port()
        self.sh(f"{self.bin}/initdb -D {self.dir}/data -A trust -U postgres --no-sync -E UTF8")
        self.sh(f"{self.bin}/pg_ctl -D {self.dir}/data -l {self.dir}/log.txt -w -t 60 "
                f"-o \"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1\" start")
        self.connection = f"Host=127.0.0.1;Port={self.port};Username=postgres;Database=postgres"

    def sh(self, cmd):
        args = ["su", "postgres", "-s", "/bin/sh", "-c", cmd] if self.root else ["/bin/sh", "-c", cmd]
        subprocess.run(args, check=True, capture_output=True, cwd="/tmp")

    def close(self):
        self.sh(f"{self.bin}/pg_ctl -D {self.dir}/data -m immediate -w stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def fmt(values, unit=""):
    return f"{statistics.median(values):,.1f}{unit} ({min(values):,.1f}–{max(values):,.1f})"


def loadgen_rate(loadgen, c, target, workload, pid):
    out = subprocess.run(
        ["dotnet", loadgen, "--server", c.url(c.ports[target][0]), "--api-key", WORKER_KEY, "--workload", workload,
         "--mode", "batch", "--batch-size", "1000", "--connections", "4", "--passes", "1", "--pipeline", pid],
        capture_output=True, text=True)
    m = re.search(r"throughput\s+([\d,]+) events/s", out.stdout)
    if out.returncode != 0 or not m:
        raise SystemExit(f"loadgen failed: {out.stdout}\n{out.stderr}")
    return float(m.group(1).replace(",", ""))


def metrics(c, pid):
    status, body = http("GET", c.url(c.coord_port) + f"/api/v1/pipelines/{pid}/metrics", COORD_KEY)
    if status != 200:
        raise SystemExit(f"metrics of {pid}: {status} {body}")
    return body


def bench_route(c, a, workload, loadgen):
    program = open(os.path.join(workload, "program.vpl")).read()
    counter = "stream Seen = Filtered .emit(symbol: symbol)"
    rates = {"alone": [], "routed": []}
    for r in range(a.runs):
        for mode in (("alone", "routed") if r % 2 == 0 else ("routed", "alone")):
            if mode == "alone":
                pid, host = c.deploy(f"route-alone-{r}", program)
                rates[mode].append(loadgen_rate(loadgen, c, host, workload, pid))
                c.delete(pid)
            else:
                status, g = http("POST", c.url(c.coord_port) + "/api/v1/cluster/pipeline-groups", COORD_KEY, {
                    "name": f"route-{r}",
                    "pipelines": [{"name": "a", "source": program, "worker_affinity": "worker-0"},
                                  {"name": "b", "source": counter, "worker_affinity": "worker-1"}],
                    "routes": [{"from_pipeline": "a", "to_pipeline": "b", "event_types": ["*"]}]})
                if status != 201:
                    raise SystemExit(f"group deploy failed: {status} {g}")
                a_id, b_id = (d["pipeline_id"] for d in g["deployments"])
                rate_in = loadgen_rate(loadgen, c, g["deployments"][0]["worker_id"], workload, a_id)
                done = time.time()
                routed = metrics(c, a_id)["output_events_emitted"]
                wait_for("B applied every routed event", lambda: metrics(c, b_id)["events_processed"] >= routed, timeout=600)
                lag = time.time() - done
                if metrics(c, b_id)["events_processed"] != routed:
                    raise SystemExit(f"route lost or doubled events: B has {metrics(c, b_id)['events_processed']}, A emitted {routed}")
                rates[mode].append(a.events / (a.events / rate_in + lag))
                print(f"  route run {r + 1}: A took {rate_in:,.0f} events/s, B caught up {lag:.2f} s after the last "
                      f"acknowledged batch ({routed:,} routed events)", file=sys.stderr)
                http("DELETE", c.url(c.coord_port) + f"/api/v1/cluster/pipeline-groups/{g['id']}", COORD_KEY, timeout=120)
            print(f"  route run {r + 1} {mode:6}: {rates[mode][-1]:,.0f} events/s", file=sys.stderr)
    ratio = statistics.median(rates["routed"]) / statistics.median(rates["alone"])
    return rates, ratio


def bench_ingest(c, a, workload, loadgen):
    program = open(os.path.join(workload, "program.vpl")).read()
    rates = {"local": [], "remote": []}
    for r in range(a.runs):
        for mode in (("local", "remote") if r % 2 == 0 else ("remote", "local")):
            pid, host = c.deploy(f"ingest-{r}-{mode}", program)
            target = host if mode == "local" else next(w for w in sorted(c.workers) if w != host)
            out = subprocess.run(
                ["dotnet", loadgen, "--server", c.url(c.ports[target][0]), "--api-key", WORKER_KEY, "--workload", workload,
                 "--mode", "batch", "--batch-size", "1000", "--connections", "4", "--passes", "1", "--pipeline", pid],
                capture_output=True, text=True)
            m = re.search(r"throughput\s+([\d,]+) events/s", out.stdout)
            if out.returncode != 0 or not m:
                raise SystemExit(f"loadgen failed ({mode}): {out.stdout}\n{out.stderr}")
            rates[mode].append(float(m.group(1).replace(",", "")))
            print(f"  ingest run {r + 1} {mode:6} ({target}, pipeline on {host}): {rates[mode][-1]:,.0f} events/s", file=sys.stderr)
            c.delete(pid)
    ratio = statistics.median(rates["remote"]) / statistics.median(rates["local"])
    return rates, ratio


class Probe(threading.Thread):
    """Sends numbered requests until stopped, each retried with its Idempotency-Key until acknowledged."""

    def __init__(self, c, pid, body_of, key_prefix, period, client_timeout):
        super().__init__(daemon=True)
        self.c, self.pid, self.body_of, self.prefix = c, pid, body_of, key_prefix
        self.period, self.client_timeout = period, client_timeout
        self.acks = []  # (sent_at of the successful attempt, acknowledged_at, events)
        self.stop = threading.Event()

    def run(self):
        i = 0
        url = self.c.url(self.c.coord_port) + f"/api/v1/pipelines/{self.pid}/events-batch"
        while not self.stop.is_set():
            body = self.body_of(i).encode()
            while True:
                sent = time.time()
                status, reply = http("POST", url, COORD_KEY, body, timeout=self.client_timeout,
                                     headers={"Idempotency-Key": f"{self.prefix}-{i}"})
                if status == 200:
                    self.acks.append((sent, time.time(), reply["accepted"]))
                    break
                if status not in (0, 503, 502, 504):
                    raise SystemExit(f"probe: {status} {reply}")
                time.sleep(0.05)
            i += 1
            time.sleep(self.period)


def reading(i, v):
    return {"event_type": "Reading", "fields": {"k": f"k{i % 3}", "v": v}, "timestamp": 1_735_689_600_000 + i}


def bench_drain(c, a):
    pauses, durations = [], []
    for r in range(a.runs):
        pid, host = c.deploy(f"big-{r}", BIG)
        url = c.url(c.ports[host][0]) + f"/api/v1/pipelines/{pid}/events-batch"
        for b in range(100):
            body = {"events": [reading(b * 1000 + i, 1) for i in range(1000)]}
            status, _ = http("POST", url, WORKER_KEY, body)
            if status != 200:
                raise SystemExit(f"state ingestion failed: {status}")
        probe = Probe(c, pid, lambda i: json.dumps({"events": [reading(200_000 + i, 1)]}), f"drain-{r}", 0.02, 10)
        probe.start()
        time.sleep(2)
        t0 = time.time()
        status, body = http("POST", c.url(c.coord_port) + f"/api/v1/cluster/workers/{host}/drain", COORD_KEY, timeout=600)
        t1 = time.time()
        if status != 200:
            raise SystemExit(f"drain failed: {status} {body}")
        time.sleep(2)
        probe.stop.set()
        probe.join()
        acks = [t for (_, t, _) in probe.acks]
        gaps = [b - x for x, b in zip(acks, acks[1:]) if b >= t0]
        pause = max(gaps) if gaps else float("nan")
        counted = c.processed(pid)
        expected = 100_000 + sum(n for (_, _, n) in probe.acks)
        new_host = c.host_of(f"big-{r}")
        print(f"  drain run {r + 1}: {host} -> {new_host}, drain call {t1 - t0:.2f} s, longest pause {pause:.2f} s, "
              f"events counted {counted:,} (acknowledged {expected:,})", file=sys.stderr)
        if counted != expected:
            raise SystemExit(f"drain lost or doubled events: counted {counted}, acknowledged {expected}")
        pauses.append(pause)
        durations.append(t1 - t0)
        c.delete(pid)
        c.stop_worker(host)
        c.start_worker(host)
    return pauses, durations


def bench_failover(c, a):
    times, lost_total = [], 0
    for r in range(a.runs):
        pid, host = c.deploy(f"failover-{r}", SUMS)

        def batch(i):
            return json.dumps({"events": [reading(i * 100 + j, i * 100 + j) for j in range(100)]})
        probe = Probe(c, pid, batch, f"failover-{r}", 0.02, 2)
        probe.start()
        time.sleep(3)
        t_kill = time.time()
        c.stop_worker(host, kill=True)
        wait_for("a batch acknowledged after the kill", lambda: any(s > t_kill for (s, _, _) in probe.acks), timeout=300)
        first = min(t for (s, t, _) in probe.acks if s > t_kill)
        time.sleep(3)
        probe.stop.set()
        probe.join()
        acknowledged = sum(n for (_, _, n) in probe.acks)
        counted = c.processed(pid)
        lost = acknowledged - counted
        print(f"  failover run {r + 1}: killed {host}, first acknowledged batch {first - t_kill:.2f} s after the kill; "
              f"acknowledged {acknowledged:,}, counted {counted:,}", file=sys.stderr)
        times.append(first - t_kill)
        lost_total += abs(lost)
        c.delete(pid)
        c.start_worker(host)
    return times, lost_total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--events", type=int, default=200_000, help="events of workload W1 for the ingestion runs")
    ap.add_argument("--only", default="ingest,drain,failover,route")
    ap.add_argument("--pg", help="a PostgreSQL connection string given to the coordinator")
    ap.add_argument("--pg-temp", action="store_true", help="start a throwaway PostgreSQL for the run")
    ap.add_argument("--heartbeat-interval", type=float, default=5)
    ap.add_argument("--heartbeat-timeout", type=float, default=15)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "varpulis-cluster-bench"))
    a = ap.parse_args()
    wanted = set(a.only.split(","))
    os.makedirs(a.work, exist_ok=True)
    load_before = os.getloadavg()

    print("building varpulis and the load generator (Release)...", file=sys.stderr)
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "src", "Host"), "-c", "Release", "-o", os.path.join(a.work, "varpulis")],
                   check=True, capture_output=True)
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "bench", "Varpulis.LoadGen"), "-c", "Release", "-o", os.path.join(a.work, "loadgen")],
                   check=True, capture_output=True)
    varpulis = os.path.join(a.work, "varpulis", "varpulis")
    loadgen = os.path.join(a.work, "loadgen", "varpulis-loadgen.dll")
    data = os.path.join(a.work, f"data-{a.events}")
    if not os.path.isdir(data):
        subprocess.run([sys.executable, os.path.join(SHARED, "gen_events.py"), data, "--events", str(a.events), "--only", "W1"],
                       check=True, capture_output=True)

    pg = PostgresTemp(a.work) if a.pg_temp else None
    connection = a.pg or (pg.connection if pg else None)
    coord_env = {"VARPULIS_PERSISTENCE_PROVIDER": "postgresql", "VARPULIS_PERSISTENCE_CONNECTION": connection} if connection else {}
    c = Cluster(a.work, varpulis, coord_env, a.heartbeat_interval, a.heartbeat_timeout)
    results = {}
    try:
        c.start_coordinator()
        for wid in ("worker-0", "worker-1", "worker-2"):
            c.start_worker(wid)
        if "ingest" in wanted:
            results["ingest"] = bench_ingest(c, a, os.path.join(data, "W1"), loadgen)
        if "drain" in wanted:
            results["drain"] = bench_drain(c, a)
        if "failover" in wanted:
            results["failover"] = bench_failover(c, a)
        if "route" in wanted:
            results["route"] = bench_route(c, a, os.path.join(data, "W1"), loadgen)
    finally:
        c.close()
        if pg:
            pg.close()

    load_after = os.getloadavg()
    journal = "PostgreSQL" if connection else "embedded SQLite"
    print(f"\nCluster figures ({journal} journal, coordinator + 3 workers on one host, {a.runs} runs each; "
          f"heartbeat {a.heartbeat_interval:g} s / timeout {a.heartbeat_timeout:g} s)")
    print(f"Load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}\n")
    print("| figure | median (min–max) | goal |\n|---|---|---|")
    if "ingest" in results:
        rates, ratio = results["ingest"]
        print(f"| batched durable ingestion, local worker (events/s) | {fmt(rates['local'])} | |")
        print(f"| batched durable ingestion, through another worker (events/s) | {fmt(rates['remote'])} | |")
        print(f"| remote / local (ratio of the medians) | {ratio:.2f} | ≥ 0.5 |")
    if "drain" in results:
        pauses, durations = results["drain"]
        print(f"| drain of 100,000 events of window state: longest pause of the pipeline (s) | {fmt(pauses)} | ≤ 5 |")
        print(f"| drain call, request to reply (s) | {fmt(durations)} | |")
    if "failover" in results:
        times, lost = results["failover"]
        print(f"| failover after kill -9: first acknowledged batch (s) | {fmt(times)} | ≤ {a.heartbeat_timeout + 10:g} |")
        print(f"| events lost or doubled over all failover runs | {lost} | 0 |")
    if "route" in results:
        rates, ratio = results["route"]
        print(f"| batched ingestion into A alone (events/s) | {fmt(rates['alone'])} | |")
        print(f"| routed: entering A and leaving B through a route (events/s) | {fmt(rates['routed'])} | |")
        print(f"| routed / alone (ratio of the medians) | {ratio:.2f} | |")


if __name__ == "__main__":
    main()
