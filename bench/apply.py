"""Configuration changes, side by side: an lb ApplyConfig over gRPC against an HAProxy reload
(master-worker mode, SIGUSR2), for configurations of many servers, and the connections a
client loop loses while either changes its configuration again and again.

Used by run.py (scenario "apply"). Everything on 127.0.0.1; every loop is bounded.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def loadStubs(workdir):
    """Generates the Python stubs of protos/lb/v1 into workdir and imports them."""
    out = os.path.join(workdir, "stubs")
    if not os.path.isdir(out):
        os.makedirs(out)
        subprocess.run(["protoc", "-I", os.path.join(ROOT, "protos"), "--python_out", out,
                        "--grpc_python_out", out,
                        "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                        "lb/v1/config.proto", "lb/v1/event.proto", "lb/v1/agent.proto"],
                       check=True)
    if out not in sys.path:
        sys.path.insert(0, out)
    import grpc  # noqa: F401  (Debian's python3-grpcio)
    from lb.v1 import agent_pb2, agent_pb2_grpc
    return grpc, agent_pb2, agent_pb2_grpc


def serversConfig(n, backend_ports, extra_port, variant):
    """A configuration of `n` servers spread over the backend ports; `variant` changes one
    server's weight, and a probe frontend on `extra_port` tells when it is in force."""
    servers = "\n".join(
        f"    server s{i} 127.0.0.1:{backend_ports[i % len(backend_ports)]}"
        f"{' weight 2' if i == 0 and variant else ''}" for i in range(n))
    return f"""global
    maxconn 2000

defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend probe
    bind 127.0.0.1:{extra_port}
    default_backend be

backend be
    balance roundrobin
{servers}
"""


def waitAccepts(port, seconds=30.0):
    """Seconds until 127.0.0.1:port accepts a connection (None if it never did)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.monotonic() - start
        except OSError:
            time.sleep(0.001)
    return None


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Apply:
    def __init__(self, bench):
        self.bench = bench
        self.workdir = bench.workdir
        self.grpc, self.pb, self.pb_grpc = loadStubs(self.workdir)

    # --- one lb, driven over its API ---------------------------------------------------------
    def startLb(self, name, text):
        path = os.path.join(self.workdir, f"{name}.cfg")
        with open(path, "w") as f:
            f.write(text)
        api = freePort()
        proc = self.bench.children.start(name, [
            self.bench.args.lb, "-f", path, "--threads", "2", "--log-level", "warning",
            "--grpc", f"127.0.0.1:{api}", "--http", "127.0.0.1:0"])
        channel = self.grpc.insecure_channel(f"127.0.0.1:{api}")
        self.grpc.channel_ready_future(channel).result(timeout=30)
        return proc, self.pb_grpc.AgentStub(channel), channel

    def lbApply(self, stub, text):
        request = self.pb.ApplyConfigRequest()
        request.sources.files.add(name="lb.cfg", content=text)
        return stub.ApplyConfig(request, timeout=120)

    # --- one HAProxy in master-worker mode, reloaded with SIGUSR2 ---------------------------
    def startHaproxy(self, name, text):
        path = os.path.join(self.workdir, f"{name}.cfg")
        self.writeHaproxy(path, text)
        proc = self.bench.children.start(name, ["haproxy", "-W", "-db", "-f", path])
        return proc, path

    def writeHaproxy(self, path, text):
        # Seamless reloads: the new worker takes the listening sockets over from the old one.
        sock = os.path.join(self.workdir, os.path.basename(path) + ".sock")
        text = text.replace("global\n", f"global\n    stats socket {sock} mode 600 "
                                        "expose-fd listeners level admin\n", 1)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    # --- scenarios ---------------------------------------------------------------------------
    def latency(self, sizes, rounds):
        """Time from asking for a new configuration to it serving, for each size. Each round
        moves the probe frontend to a new port: accepting there means in force."""
        ports = self.bench.web_ports
        for n in sizes:
            key = f"apply{n // 1000}k_ms"
            lb_probe, hap_probe = freePort(), freePort()
            lb, stub, channel = self.startLb(f"apply-lb-{n}", serversConfig(n, ports, lb_probe, 0))
            hap, path = self.startHaproxy(f"apply-haproxy-{n}",
                                          serversConfig(n, ports, hap_probe, 0))
            try:
                # Both serving before the first change (a signal before HAProxy is up kills it).
                if waitAccepts(lb_probe) is None or waitAccepts(hap_probe) is None:
                    raise RuntimeError(f"the {n}-server configurations did not start")
                for r in range(rounds):
                    # lb: one RPC, which returns once every worker has the new snapshot.
                    new_probe = freePort()
                    text = serversConfig(n, ports, new_probe, (r + 1) % 2)
                    # Python's gRPC client waits ~80 ms to send its first call after the
                    # process forked (HAProxy's start): a cheap call first keeps that client
                    # delay out of the agent's figure.
                    stub.GetStatus(self.pb.GetStatusRequest(), timeout=30)
                    t0 = time.monotonic()
                    self.lbApply(stub, text)
                    if waitAccepts(new_probe) is None:
                        self.bench.errors.append(f"lb apply of {n} servers never served")
                        continue
                    self.bench.record(key, "lb", 1000 * (time.monotonic() - t0))
                    # HAProxy: rewrite the file, SIGUSR2 to the master, until the new worker
                    # serves.
                    new_probe = freePort()
                    text = serversConfig(n, ports, new_probe, r % 2)
                    self.writeHaproxy(path, text)
                    t0 = time.monotonic()
                    hap.send_signal(signal.SIGUSR2)
                    if waitAccepts(new_probe) is None:
                        self.bench.errors.append(f"HAProxy reload of {n} servers never served")
                        continue
                    self.bench.record(key, "haproxy", 1000 * (time.monotonic() - t0))
                    time.sleep(1.0)  # let the old worker go before the next reload
            finally:
                channel.close()
                self.bench.children.stop(lb)
                self.bench.children.stop(hap)

    def failures(self, applies):
        """Connections a client loop loses while the proxy changes its configuration `applies`
        times (servers added and removed), lb by API, HAProxy by reload."""
        ports = self.bench.web_ports
        for target in ("lb", "haproxy"):
            front = freePort()

            def config(i):
                servers = "\n".join(f"    server s{k} 127.0.0.1:{ports[k % len(ports)]}"
                                    for k in range(2 + i % 3))
                return (f"global\n    maxconn 2000\n\ndefaults\n    mode tcp\n"
                        f"    timeout connect 2s\n    timeout client 30s\n"
                        f"    timeout server 30s\n\nfrontend fe\n    bind 127.0.0.1:{front}\n"
                        f"    default_backend be\n\nbackend be\n    balance roundrobin\n"
                        f"{servers}\n")

            if target == "lb":
                proc, stub, channel = self.startLb("failures-lb", config(0))

                def change(i, stub=stub):
                    self.lbApply(stub, config(i))
                    time.sleep(0.05)  # a pace like an operator's script, not a tight loop
            else:
                proc, path = self.startHaproxy("failures-haproxy", config(0))
                channel = None

                def change(i, path=path, proc=proc):
                    self.writeHaproxy(path, config(i))
                    proc.send_signal(signal.SIGUSR2)
                    time.sleep(0.2)  # HAProxy has no "reloaded" answer: give each one time
            try:
                if waitAccepts(front) is None:
                    raise RuntimeError(f"{target} did not start for the failures scenario")
                stop = threading.Event()
                counts = {"ok": 0, "failed": 0}

                def loop():
                    deadline = time.monotonic() + 120
                    while not stop.is_set() and time.monotonic() < deadline:
                        try:
                            with socket.create_connection(("127.0.0.1", front), timeout=2) as s:
                                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                                s.settimeout(2)
                                answer = s.recv(64)
                            counts["ok" if answer.startswith(b"HTTP/1.1 200") else "failed"] += 1
                        except OSError:
                            counts["failed"] += 1

                client = threading.Thread(target=loop)
                client.start()
                for i in range(1, applies + 1):
                    change(i)
                stop.set()
                client.join()
                self.bench.record("apply_failed", target, counts["failed"])
                self.bench.record("apply_requests", target, counts["ok"] + counts["failed"])
            finally:
                if channel:
                    channel.close()
                self.bench.children.stop(proc)

