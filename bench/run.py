#!/usr/bin/python3
"""Side-by-side benchmark of lb-agent and HAProxy on the same backends and load generators.

Starts one nginx (backends), one iperf3 server, lb-agent and HAProxy with the same
configuration (only the listening ports differ), then runs every scenario interleaved
(lb, HAProxy, direct; the order alternates each round) so that machine noise hits all alike.
Prints one table of medians and min-max with lb/HAProxy and lb/direct ratios, and writes it as
Markdown under bench/results/. Everything listens and connects on 127.0.0.1 only; every load
has a duration; only processes this script started are stopped, by their pid.

Usage: bench/run.py --lb build-bench/bin/lb-agent [--rounds 5] [--seconds 4] [--quick]
                    [--baseline OLD/lb-agent]   (an earlier lb build in the same rounds)
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idle_conns  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORES = os.cpu_count() or 1
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waitPort(port, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Children:
    """Processes this script started; stopped by pid, and only those."""

    def __init__(self, workdir):
        self.procs = []
        self.workdir = workdir

    def start(self, name, argv):
        out = open(os.path.join(self.workdir, f"{name}.log"), "ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        proc.bench_name = name
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc in self.procs:
            self.procs.remove(proc)

    def stopAll(self):
        for proc in list(reversed(self.procs)):
            self.stop(proc)


def rssBytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpuSeconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


# ---------------------------------------------------------------------------------------------
# Configuration: one text for both proxies; only bind ports differ.

def proxyConfig(ports, backends, iperf_port, sink_port, maxconn):
    servers = "\n".join(f"    server web{i + 1} 127.0.0.1:{p}" for i, p in enumerate(backends))
    return f"""global
    maxconn {maxconn}
    nbthread {CORES}
    tune.bufsize 16384

defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend fe_http
    bind 127.0.0.1:{ports['http']}
    default_backend be_http

backend be_http
    balance roundrobin
{servers}

# The same backend behind 20 layer-4 rules that do not match until the last one (scenario
# "acl": what routing through them costs per new connection).
frontend fe_acl
    bind 127.0.0.1:{ports['acl']}
{aclRules()}

frontend fe_bulk
    bind 127.0.0.1:{ports['bulk']}
    default_backend be_bulk

backend be_bulk
    server iperf 127.0.0.1:{iperf_port}

frontend fe_idle
    bind 127.0.0.1:{ports['idle']}
    default_backend be_idle

backend be_idle
    server sink 127.0.0.1:{sink_port}
"""


def aclRules():
    """20 rules a new connection goes through: 10 source deny lists, 9 port switches, then the
    rule that routes it. All layer 4 (no inspect-delay), as a firewall-like frontend has."""
    lines = [f"    acl net{i} src 10.{i}.0.0/16 192.168.{i}.0/24" for i in range(10)]
    lines += [f"    tcp-request connection reject if net{i}" for i in range(10)]
    lines += [f"    use_backend be_bulk if {{ dst_port {20000 + i} }}" for i in range(9)]
    lines += ["    use_backend be_http if { src 127.0.0.0/8 }", "    default_backend be_idle"]
    return "\n".join(lines)


def healthConfig(port, check_ports, servers):
    lines = [f"    server c{i} 127.0.0.1:{check_ports[i % len(check_ports)]} check inter 1s"
             for i in range(servers)]
    return f"""global
    maxconn 1000
    nbthread {CORES}

defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s

frontend fe_checked
    bind 127.0.0.1:{port}
    default_backend be_checked

backend be_checked
    balance roundrobin
    option httpchk GET /
""" + "\n".join(lines) + "\n"


def nginxConfig(workdir, web_ports, check_ports, status_port, sink_port):
    listens = "\n".join(f"        listen 127.0.0.1:{p};" for p in web_ports)
    check_listens = "\n".join(f"        listen 127.0.0.1:{p};" for p in check_ports + [sink_port])
    return f"""daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 16384; multi_accept on; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/nginx-body;
    proxy_temp_path {workdir}/nginx-proxy;
    fastcgi_temp_path {workdir}/nginx-fastcgi;
    uwsgi_temp_path {workdir}/nginx-uwsgi;
    scgi_temp_path {workdir}/nginx-scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_header_timeout 120s;  # the idle connections of the memory scenario
    server {{
{listens}
        root {workdir}/www;
        location / {{ index index.html; }}
    }}
    server {{
{check_listens}
        return 204;
    }}
    server {{
        listen 127.0.0.1:{status_port};
        location / {{ stub_status; }}
    }}
}}
"""


def nginxStatus(status_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/", timeout=5) as r:
        return r.read().decode().splitlines()


def nginxAccepts(status_port):
    return int(nginxStatus(status_port)[2].split()[0])


def nginxActive(status_port):
    # "Active connections: N", less the status request itself.
    return int(nginxStatus(status_port)[0].split(":")[1]) - 1


# ---------------------------------------------------------------------------------------------
# Load generators.

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def runWrk(port, seconds, connections, close):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{port}/")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        lat[pct] = float(value) * UNITS[unit]
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "errors": errors}


def runIperf(port, seconds, streams):
    argv = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-P", str(streams),
            "-J", "--connect-timeout", "3000"]
    for attempt in range(3):
        res = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
        try:
            data = json.loads(res.stdout)
            return data["end"]["sum_received"]["bits_per_second"] / 1e9
        except (ValueError, KeyError):
            time.sleep(0.5)  # the iperf3 server is still finishing the previous test
    raise RuntimeError(f"iperf3 failed: {res.stdout[-500:]} {res.stderr[-500:]}")


# ---------------------------------------------------------------------------------------------

def describeMachine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])

    def version(argv, pattern):
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            m = re.search(pattern, res.stdout + res.stderr)
            return m.group(1) if m else "?"
        except OSError:
            return "?"

    osname = "?"
    try:
        with open("/etc/os-release") as f:
            osname = dict(l.rstrip().split("=", 1) for l in f if "=" in l).get(
                "PRETTY_NAME", "?").strip('"')
    except OSError:
        pass
    return {
        "cpu": f"{model} ({CORES} cores visible)",
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{osname}, kernel {platform.release()}",
        "haproxy": version(["haproxy", "-v"], r"version (\S+)"),
        "nginx": version(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": version(["wrk", "-v"], r"wrk (\S+)"),
        "iperf3": version(["iperf3", "-v"], r"iperf (\S+)"),
        "load": open("/proc/loadavg").read().split()[0],
    }


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="lb-bench-")
        os.chmod(self.workdir, 0o755)  # nginx's workers (www-data) serve files from it
        self.children = Children(self.workdir)
        self.results = {}  # scenario -> target -> [values]
        self.errors = []

    def record(self, scenario, target, value):
        self.results.setdefault(scenario, {}).setdefault(target, []).append(value)

    # --- setup ---------------------------------------------------------------------------
    def setUp(self):
        a = self.args
        os.makedirs(os.path.join(self.workdir, "www"))
        with open(os.path.join(self.workdir, "www", "index.html"), "w") as f:
            f.write("x" * 100 + "\n")  # a small static file
        self.web_ports = [freePort(), freePort()]
        self.check_ports = [freePort() for _ in range(4)]
        self.status_port = freePort()
        self.sink_port = freePort()
        with open(os.path.join(self.workdir, "nginx.conf"), "w") as f:
            f.write(nginxConfig(self.workdir, self.web_ports, self.check_ports, self.status_port,
                                self.sink_port))
        self.nginx = self.children.start(
            "nginx", ["nginx", "-p", self.workdir, "-c", os.path.join(self.workdir, "nginx.conf")])
        self.iperf_port = freePort()
        self.iperf = self.children.start(
            "iperf3", ["iperf3", "-s", "-B", "127.0.0.1", "-p", str(self.iperf_port)])
        self.ports = {}
        self.procs = {}
        maxconn = a.idle + 50
        for target in self.proxies():
            ports = {"http": freePort(), "bulk": freePort(), "idle": freePort(),
                     "acl": freePort()}
            self.ports[target] = ports
            cfg = os.path.join(self.workdir, f"{target}.cfg")
            with open(cfg, "w") as f:
                f.write(proxyConfig(ports, self.web_ports, self.iperf_port, self.sink_port,
                                    maxconn))
        self.procs["lb"] = self.startLb(os.path.join(self.workdir, "lb.cfg"))
        self.procs["haproxy"] = self.startHaproxy(os.path.join(self.workdir, "haproxy.cfg"))
        if a.baseline:
            self.procs["base"] = self.startLb(os.path.join(self.workdir, "base.cfg"),
                                              name="lb-baseline", binary=a.baseline)
        self.ports["direct"] = {"http": self.web_ports[0], "bulk": self.iperf_port}
        for port in self.web_ports + [self.iperf_port] + [self.ports[t]["http"]
                                                          for t in self.proxies()]:
            if not waitPort(port):
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}; logs in {self.workdir}")
        time.sleep(0.5)

    def proxies(self):
        """The proxies under test: lb, HAProxy and, with --baseline, an earlier lb build."""
        return ["lb", "haproxy"] + (["base"] if self.args.baseline else [])

    def startLb(self, cfg, name="lb-agent", log_level="warning", binary=None):
        # Each agent's management API on a port of its own (several run at once).
        return self.children.start(name, [
            binary or self.args.lb, "-f", cfg, "--threads", str(CORES), "--log-level", log_level,
            "--name", "bench", "--state-dir", os.path.join(self.workdir, f"{name}-state"),
            "--grpc", f"127.0.0.1:{freePort()}", "--http", "127.0.0.1:0"])

    def startHaproxy(self, cfg, name="haproxy"):
        return self.children.start(name, ["haproxy", "-f", cfg, "-db"])

    # --- scenarios -----------------------------------------------------------------------
    def order(self, round_index, targets):
        """lb and HAProxy swap places every round; with a baseline, all proxies rotate."""
        if self.args.baseline:
            proxies = [t for t in targets if t != "direct"]
            k = round_index % len(proxies)
            rotated = proxies[k:] + proxies[:k]
            return rotated + [t for t in targets if t == "direct"]
        return targets if round_index % 2 == 0 else [targets[1], targets[0]] + targets[2:]

    def http(self, close):
        a = self.args
        name = "close" if close else "keepalive"
        log(f"HTTP {'new connection per request' if close else 'keep-alive'}: "
            f"{a.rounds} rounds x {a.seconds}s")
        for r in range(a.rounds):
            for target in self.order(r, self.proxies() + ["direct"]):
                pid = self.procs[target].pid if target in self.procs else None
                cpu0 = cpuSeconds(pid) if pid else 0.0
                res = runWrk(self.ports[target]["http"], a.seconds, a.connections, close)
                if pid and res["rps"] > 0:
                    # The proxy's own CPU per request: what decides when wrk and nginx, the
                    # same for both proxies, set the rate on a shared box.
                    cpu_us = 1e6 * (cpuSeconds(pid) - cpu0) / (res["rps"] * a.seconds)
                    self.record(f"{name}_cpu_us", target, cpu_us)
                if res["errors"]:
                    self.errors.append(f"{name} {target} round {r + 1}: {res['errors']} errors")
                self.record(f"{name}_rps", target, res["rps"])
                if not close:
                    self.record("p50", target, res["p50"])
                    self.record("p99", target, res["p99"])
                time.sleep(0.3)

    def acl(self):
        """New connection per request, through the 20-rule frontend and the plain one, in the
        same rounds: the ratio of CPU per request is what the rules cost."""
        a = self.args
        log(f"20 ACL rules, new connection per request: {a.rounds} rounds x {a.seconds}s")
        for r in range(a.rounds):
            for target in self.order(r, self.proxies()):
                pid = self.procs[target].pid
                for key, frontend in (("plain", "http"), ("acl", "acl")):
                    cpu0 = cpuSeconds(pid)
                    res = runWrk(self.ports[target][frontend], a.seconds, a.connections, True)
                    if res["rps"] > 0:
                        cpu_us = 1e6 * (cpuSeconds(pid) - cpu0) / (res["rps"] * a.seconds)
                        self.record(f"{key}_close_cpu_us", target, cpu_us)
                    if res["errors"]:
                        self.errors.append(f"acl {frontend} {target} round {r + 1}: "
                                           f"{res['errors']} errors")
                    self.record(f"{key}_close_rps", target, res["rps"])
                    time.sleep(0.3)

    def bulk(self, streams):
        a = self.args
        log(f"bulk, {streams} stream(s): {a.rounds} rounds x {a.iperf_seconds}s")
        for r in range(a.rounds):
            for target in self.order(r, self.proxies() + ["direct"]):
                gbps = runIperf(self.ports[target]["bulk"], a.iperf_seconds, streams)
                self.record(f"bulk{streams}", target, gbps)
                time.sleep(0.3)

    def idle(self):
        a = self.args
        log(f"idle connections: {a.idle} per proxy, {a.idle_rounds} rounds")
        for r in range(a.idle_rounds):
            for target in self.order(r, self.proxies()):
                # A fresh process each time: memory freed by an earlier round stays in the
                # allocator and would hide the cost of the next.
                ports = {"http": freePort(), "bulk": freePort(), "idle": freePort()}
                cfg = os.path.join(self.workdir, f"idle-{target}.cfg")
                with open(cfg, "w") as f:
                    f.write(proxyConfig(ports, self.web_ports, self.iperf_port, self.sink_port,
                                        a.idle + 50))
                if target == "haproxy":
                    proc = self.startHaproxy(cfg, name=f"idle-{target}")
                else:
                    proc = self.startLb(cfg, name=f"idle-{target}",
                                        binary=self.args.baseline if target == "base" else None)
                try:
                    if not waitPort(ports["idle"]):
                        raise RuntimeError(f"{target} did not start; logs in {self.workdir}")
                    time.sleep(0.5)
                    self.idleRound(r, target, proc.pid, ports["idle"])
                finally:
                    self.children.stop(proc)

    def idleRound(self, r, target, pid, port):
        """RSS of the proxy `pid` before and with the idle connections to `port` open."""
        a = self.args
        before = rssBytes(pid)
        clients, established = idle_conns.openIdle(
            port, a.idle, lambda: nginxActive(self.status_port))
        time.sleep(1.0)
        after = rssBytes(pid)
        if established < a.idle:
            self.errors.append(f"idle {target} round {r + 1}: only {established} of "
                               f"{a.idle} connections established")
        per_conn = (after - before) / max(1, established)
        self.record("idle_bytes", target, per_conn)
        self.record("idle_rss_mib", target, after / 2**20)
        for s in clients:
            s.close()
        # Let the proxy and nginx tear the sessions down before the next measure.
        deadline = time.monotonic() + 10
        while nginxActive(self.status_port) > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)

    def health(self):
        a = self.args
        log(f"health checks: {a.check_servers} servers at inter 1s, {a.health_rounds} rounds "
            f"x {a.health_seconds}s per proxy")
        for r in range(a.health_rounds):
            for target in self.order(r, ["lb", "haproxy"]):
                cfg = os.path.join(self.workdir, f"health-{target}.cfg")
                with open(cfg, "w") as f:
                    f.write(healthConfig(freePort(), self.check_ports, a.check_servers))
                if target == "lb":
                    # info level: lb logs its check-start lateness percentiles when it stops.
                    proc = self.startLb(cfg, name=f"health-{target}", log_level="info")
                else:
                    proc = self.startHaproxy(cfg, name=f"health-{target}")
                try:
                    time.sleep(3.0)  # start-up and the first, spread-out round of checks
                    if proc.poll() is not None:
                        raise RuntimeError(f"{target} exited during the health scenario; logs "
                                           f"in {self.workdir}")
                    cpu0, acc0, t0 = cpuSeconds(proc.pid), nginxAccepts(self.status_port), \
                        time.monotonic()
                    time.sleep(a.health_seconds)
                    cpu1, acc1, t1 = cpuSeconds(proc.pid), nginxAccepts(self.status_port), \
                        time.monotonic()
                finally:
                    self.children.stop(proc)
                elapsed = t1 - t0
                rate = (acc1 - acc0) / elapsed
                self.record("health_cpu", target, 100.0 * (cpu1 - cpu0) / elapsed)
                self.record("health_rate", target, rate)
                # Mean period between two checks of one server: servers / checks per second.
                # Everything above inter (1000 ms) is the mean lateness.
                self.record("health_late_ms", target,
                            max(0.0, 1000.0 * a.check_servers / max(rate, 1e-9) - 1000.0))
                if target == "lb":
                    # Per-check lateness (start time against schedule), which only lb reports.
                    with open(os.path.join(self.workdir, f"health-{target}.log")) as f:
                        found = re.findall(r"start lateness p50 (\d+) ms, p90 (\d+) ms, "
                                           r"p99 (\d+) ms, max (\d+) ms", f.read())
                    if found:
                        p50, _, p99, worst = (float(x) for x in found[-1])
                        self.record("health_late_p50", target, p50)
                        self.record("health_late_p99", target, p99)
                        self.record("health_late_max", target, worst)
                time.sleep(0.5)

    # --- report --------------------------------------------------------------------------
    SCENARIOS = [
        # key, label, unit, higher_is_better, formatter
        ("keepalive_rps", "keep-alive HTTP, 50 conns", "req/s", True, "{:,.0f}"),
        ("p50", "keep-alive latency p50", "ms, lower better", False, "{:.3f}"),
        ("p99", "keep-alive latency p99", "ms, lower better", False, "{:.3f}"),
        ("close_rps", "new connection per request", "req/s", True, "{:,.0f}"),
        ("keepalive_cpu_us", "CPU per request, keep-alive", "µs, lower better", False,
         "{:.1f}"),
        ("close_cpu_us", "CPU per request, new connection", "µs, lower better", False, "{:.1f}"),
        ("plain_close_cpu_us", "CPU per new connection, no rules", "µs, lower better", False,
         "{:.1f}"),
        ("acl_close_cpu_us", "CPU per new connection, 20 ACL rules", "µs, lower better", False,
         "{:.1f}"),
        ("acl_close_rps", "new connection per request, 20 ACL rules", "req/s", True,
         "{:,.0f}"),
        ("bulk1", "bulk, iperf3 1 stream", "Gbit/s", True, "{:.2f}"),
        ("bulk4", "bulk, iperf3 4 streams", "Gbit/s", True, "{:.2f}"),
        ("idle_bytes", "memory per idle connection", "bytes, lower better", False, "{:,.0f}"),
        ("idle_rss_mib", "RSS with idle connections", "MiB, lower better", False, "{:.1f}"),
        ("health_cpu", "health checks: CPU", "% of one core, lower better", False, "{:.1f}"),
        ("health_rate", "health checks: checks/s", "checks/s (ideal = servers/s)", True,
         "{:,.0f}"),
        ("health_late_ms", "health checks: mean lateness", "ms, lower better", False, "{:.0f}"),
        ("health_late_p50", "health checks: start lateness p50 (lb only)", "ms", False, "{:.0f}"),
        ("health_late_p99", "health checks: start lateness p99 (lb only)", "ms", False, "{:.0f}"),
        ("health_late_max", "health checks: start lateness max (lb only)", "ms", False, "{:.0f}"),
        ("apply1k_ms", "config change, 1,000 servers: until served", "ms, lower better", False,
         "{:.1f}"),
        ("apply10k_ms", "config change, 10,000 servers: until served", "ms, lower better", False,
         "{:.1f}"),
        ("apply_failed", "failed connections during 100 config changes", "count, lower better",
         False, "{:.0f}"),
        ("apply_requests", "connections tried during them", "count", True, "{:,.0f}"),
    ]

    def table(self):
        base = bool(self.args.baseline)
        targets = ["lb", "haproxy", "direct"] + (["base"] if base else [])
        rows = ["| scenario | unit | lb median (min–max) | HAProxy median (min–max) | "
                "direct median (min–max) | " + ("lb before median (min–max) | " if base else "") +
                "lb/HAProxy | lb/direct |" + (" before/HAProxy | lb/before |" if base else ""),
                "|---|---|---|---|---|---|---|" + ("---|---|---|" if base else "")]
        medians = {}
        for key, label, unit, _, fmt in self.SCENARIOS:
            by = self.results.get(key)
            if not by:
                continue
            cells = []
            for target in targets:
                values = by.get(target)
                if not values:
                    cells.append("—")
                    continue
                med = statistics.median(values)
                medians[(key, target)] = med
                cells.append(f"{fmt.format(med)} ({fmt.format(min(values))}–"
                             f"{fmt.format(max(values))})")

            def ratio(other, of="lb"):
                a, b = medians.get((key, of)), medians.get((key, other))
                if a is None or b is None or b == 0:
                    return "—"
                return f"{a / b:.2f}"

            row = (f"| {label} | {unit} | {cells[0]} | {cells[1]} | {cells[2]} | " +
                   (f"{cells[3]} | " if base else "") + f"{ratio('haproxy')} | {ratio('direct')} |")
            if base:
                row += f" {ratio('haproxy', of='base')} | {ratio('base')} |"
            rows.append(row)
        self.medians = medians
        return "\n".join(rows)

    def goals(self):
        m = self.medians
        checks = [
            ("keep-alive req/s ≥ 1.1× HAProxy", "keepalive_rps", lambda a, b: a >= 1.1 * b),
            ("new-connection req/s ≥ 1.1× HAProxy", "close_rps", lambda a, b: a >= 1.1 * b),
            ("bulk 1 stream ≥ 1.0× HAProxy", "bulk1", lambda a, b: a >= b),
            ("bulk 4 streams ≥ 1.0× HAProxy", "bulk4", lambda a, b: a >= b),
            ("p99 ≤ HAProxy's", "p99", lambda a, b: a <= b),
            ("idle-connection memory ≤ HAProxy's", "idle_bytes", lambda a, b: a <= b),
        ]
        lines = []
        for label, key, limit in [("apply of 1,000 servers < 50 ms and ≤ 1/10 of HAProxy's "
                                   "reload", "apply1k_ms", 50),
                                  ("apply of 10,000 servers < 500 ms and ≤ 1/10 of HAProxy's "
                                   "reload", "apply10k_ms", 500)]:
            a, b = m.get((key, "lb")), m.get((key, "haproxy"))
            if a is None or b is None:
                continue
            worst = max(self.results[key]["lb"])
            met = a < limit and a <= b / 10
            lines.append(f"- {label}: {'**met**' if met else '**not met**'} (median {a:.1f} ms, "
                         f"max {worst:.1f} ms; HAProxy {b:.0f} ms; lb/HAProxy = {a / b:.3f})")
        for target, name in (("lb", "lb"), ("haproxy", "HAProxy")):
            plain, rules = m.get(("plain_close_cpu_us", target)), m.get(("acl_close_cpu_us", target))
            if plain is None or rules is None:
                continue
            cost = rules / plain - 1
            if target == "lb":
                lines.append(f"- 20 ACL rules cost < 5 % of new-connection CPU: "
                             f"{'**met**' if cost < 0.05 else '**not met**'} (lb {plain:.1f} → "
                             f"{rules:.1f} µs per connection, {100 * cost:+.1f} %)")
            else:
                lines.append(f"- the same rules in HAProxy: {plain:.1f} → {rules:.1f} µs per "
                             f"connection, {100 * cost:+.1f} %")
        if ("apply_failed", "lb") in m:
            failed = int(sum(self.results["apply_failed"]["lb"]))
            lines.append(f"- 0 failed connections during 100 applies: "
                         f"{'**met**' if failed == 0 else '**not met**'} (lb {failed}, HAProxy "
                         f"{int(sum(self.results['apply_failed'].get('haproxy', [0])))})")
        for label, key, ok in checks:
            a, b = m.get((key, "lb")), m.get((key, "haproxy"))
            if a is None or b is None:
                lines.append(f"- {label}: not measured")
                continue
            lines.append(f"- {label}: {'**met**' if ok(a, b) else '**not met**'} "
                         f"(lb/HAProxy = {a / b:.2f})")
        return "\n".join(lines)

    def report(self, machine, started, wall):
        a = self.args
        table = self.table()
        goals = self.goals()
        notes = [
            f"- {a.rounds} rounds per scenario (idle memory: {a.idle_rounds}, health checks: "
            f"{a.health_rounds}), interleaved: lb, HAProxy, direct, with lb and HAProxy swapping "
            "places every round.",
            f"- wrk: 1 thread, {a.connections} connections, {a.seconds} s per run, 100-byte "
            "static file from nginx (1 worker, access log off); new-connection runs add "
            "`Connection: close`. iperf3: "
            f"{a.iperf_seconds} s per run.",
            f"- lb-agent `--threads {CORES}`, HAProxy `nbthread {CORES}`, same config "
            "(mode tcp, roundrobin over 2 nginx ports, tune.bufsize 16384, no logging).",
            f"- memory: a freshly started proxy's RSS with {a.idle} connections established end "
            "to end (one byte relayed on each, then idle; nginx holds the backend side) minus "
            "its RSS before, divided by the connections. 9,800 rather than 10,000 when the "
            "descriptor hard limit is 20,000 and cannot be raised (no CAP_SYS_RESOURCE).",
            f"- health checks: one backend of {a.check_servers} servers, `check inter 1s`, "
            f"`option httpchk GET /` (an HTTP check, so that both proxies complete the handshake "
            "and nginx counts every check: a plain TCP check, HAProxy's and lb's, resets before the final ACK "
            f"and never reaches accept()), pointing at {len(self.check_ports)} nginx ports; each proxy alone for "
            f"{a.health_seconds} s after 3 s of warm-up. CPU from /proc utime+stime; checks/s "
            "from nginx's accept counter; mean lateness = servers / (checks/s) − inter, so it "
            "is an average; lb also logs, when it stops, how late each check started against "
            "its schedule (the p50/p99/max rows; HAProxy does not report it).",
            "- CPU per request: the proxy's utime+stime (/proc) during each wrk run divided by the "
            "requests it served; on this shared box wrk and nginx often set the rate, and then "
            "this is the figure that tells the proxies apart.",
            "- config change: one backend of N servers (no checks) and a probe frontend; each "
            "round moves the probe to a new port. lb: one ApplyConfig RPC with the text (parse, "
            "validate, build, every worker switched) until the new port accepts; HAProxy 2.6 in "
            "master-worker mode with `expose-fd listeners`: the file rewritten, SIGUSR2 to the "
            "master, until the new worker accepts on the new port. Median and max of "
            f"{a.apply_rounds} rounds.",
            "- failed connections: a client loop (new connection, one HTTP request, each) runs "
            "while the proxy's servers change 100 times (2, 3 or 4 servers): lb by ApplyConfig, "
            "HAProxy by SIGUSR2 reloads 0.2 s apart (it does not say when a reload is done).",
            "- direct = wrk/iperf3 straight to the backend: the ceiling. The proxies share the "
            f"{CORES} cores with nginx, wrk and iperf3, so absolute numbers are loopback numbers "
            "of a shared box; the ratios are what the run is for.",
        ]
        if a.baseline:
            notes.append(f"- lb before = `{a.baseline}`, an earlier lb build run in the same "
                         "rounds (the three proxies rotate places every round); before/HAProxy "
                         "and lb/before say what the change in between bought.")
        if self.errors:
            notes.append("- errors seen: " + "; ".join(self.errors))
        md = [
            f"# lb vs HAProxy — {started:%Y-%m-%d %H:%M:%S} ({wall:.0f} s)",
            "",
            "## Machine",
            "",
            *[f"- {k}: {v}" for k, v in machine.items()],
            "",
            "## Results (medians of the rounds)",
            "",
            table,
            "",
            "## Goals",
            "",
            goals,
            "",
            "## Method",
            "",
            *notes,
            "",
        ]
        return "\n".join(md)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--lb", default=os.path.join(HERE, "..", "build-bench", "bin", "lb-agent"))
    p.add_argument("--baseline", default="",
                   help="an earlier lb-agent build, measured in the same rounds (keep-alive, "
                        "new connection, bulk, idle memory): what a change bought")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=4, help="wrk duration per run")
    p.add_argument("--iperf-seconds", type=int, default=3)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--idle", type=int, default=10000, help="idle connections per proxy")
    p.add_argument("--idle-rounds", type=int, default=3)
    p.add_argument("--check-servers", type=int, default=10000)
    p.add_argument("--health-rounds", type=int, default=2)
    p.add_argument("--health-seconds", type=int, default=10)
    p.add_argument("--apply-rounds", type=int, default=5)
    p.add_argument("--only", default="",
                   help="comma list: keepalive,close,acl,bulk,idle,health,apply")
    p.add_argument("--quick", action="store_true", help="2 rounds, 2 s runs (smoke test)")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.iperf_seconds = 2, 2, 2
        args.idle_rounds, args.health_rounds, args.health_seconds = 1, 1, 5
        args.apply_rounds = 2
    args.lb = os.path.abspath(args.lb)
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
        if not os.access(args.baseline, os.X_OK):
            sys.exit(f"bench: {args.baseline} not found")
    for tool in ("haproxy", "nginx", "wrk", "iperf3"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} not found; run scripts/install-deps --bench")
    if not os.access(args.lb, os.X_OK):
        sys.exit(f"bench: {args.lb} not found; build it first (make bench does)")
    # Room for the idle scenario: a proxy needs two descriptors per connection, nginx and this
    # script one; children inherit the limit. Without CAP_SYS_RESOURCE the hard limit caps it,
    # and the scenario uses as many connections as fit.
    want = 2 * args.idle + 400
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if args.idle > (hard - 400) // 2:
            log(f"the descriptor limit is {hard} and cannot be raised here: "
                f"{(hard - 400) // 2} idle connections instead of {args.idle}")
            args.idle = (hard - 400) // 2

    only = set(filter(None, args.only.split(",")))
    run = lambda name: not only or name in only  # noqa: E731
    machine = describeMachine()
    started = datetime.datetime.now()
    t0 = time.monotonic()
    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        bench.setUp()
        log(f"lb pid {bench.procs['lb'].pid}, haproxy pid {bench.procs['haproxy'].pid}, "
            f"workdir {bench.workdir}")
        if run("keepalive"):
            bench.http(close=False)
        if run("close"):
            bench.http(close=True)
        if run("acl"):
            bench.acl()
        if run("bulk"):
            bench.bulk(1)
            bench.bulk(4)
        if run("idle"):
            bench.idle()
        if run("health"):
            bench.health()
        if run("apply"):
            import apply as apply_bench  # noqa: E402  (needs python3-grpcio)
            changes = apply_bench.Apply(bench)
            log(f"config changes: 1,000 and 10,000 servers, {args.apply_rounds} rounds; "
                "100 changes under a client loop")
            changes.latency([1000, 10000], args.apply_rounds)
            changes.failures(100)
        for target in bench.proxies():
            if bench.procs[target].poll() is not None:
                bench.errors.append(f"{target} exited during the run")
    finally:
        bench.children.stopAll()
    md = bench.report(machine, started, time.monotonic() - t0)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{started:%Y%m%d-%H%M%S}.md")
    with open(path, "w") as f:
        f.write(md)
    print(md)
    log(f"written to {os.path.relpath(path)}")
    if bench.errors:
        log(f"logs kept in {bench.workdir}")
    else:
        shutil.rmtree(bench.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
