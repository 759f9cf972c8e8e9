#!/usr/bin/python3
"""A client of the agent written from protos/ alone, in another language: Python's grpcio from
Debian's packages, stubs generated here with protoc and grpc_python_plugin. It applies a
configuration, reads status, follows events, and uses the standard health and reflection
services, against a real lb-agent and real backends on loopback.

Usage: api_client_test.py LB_AGENT LB_DEMO_BACKEND REPO_ROOT
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

AGENT, BACKEND, ROOT = sys.argv[1:4]
del sys.argv[1:4]

STUBS = tempfile.mkdtemp(prefix="lb_py_stubs_")
# The standard services' protos (Debian's grpc-proto) go under another directory name: a
# generated `grpc/` package would hide grpcio's own.
STANDARD = os.path.join(STUBS, "src", "standard")
os.makedirs(STANDARD)
for name, path in [("health.proto", "grpc/health/v1/health.proto"),
                   ("reflection.proto", "grpc/reflection/v1alpha/reflection.proto")]:
    with open(os.path.join("/usr/share/grpc-proto", path)) as src, \
            open(os.path.join(STANDARD, name), "w") as dst:
        dst.write(src.read())
subprocess.run(
    ["protoc", "-I", os.path.join(ROOT, "protos"), "-I", os.path.join(STUBS, "src"),
     "--python_out", STUBS, "--grpc_python_out", STUBS,
     "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
     "lb/v1/config.proto", "lb/v1/event.proto", "lb/v1/agent.proto",
     "standard/health.proto", "standard/reflection.proto"],
    check=True)
sys.path.insert(0, STUBS)

import grpc  # noqa: E402
from lb.v1 import agent_pb2, agent_pb2_grpc, event_pb2  # noqa: E402
from standard import health_pb2, health_pb2_grpc  # noqa: E402
from standard import reflection_pb2, reflection_pb2_grpc  # noqa: E402


class Proc:
    """A child process whose output is collected; killed by pid at the end."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.out = ""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            with self.lock:
                self.out += line

    def wait_for(self, pattern, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                m = re.search(pattern, self.out)
            if m:
                return m
            time.sleep(0.02)
        raise AssertionError(f"never saw {pattern!r} in:\n{self.out}")

    def kill(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait(10)
        self.reader.join(10)
        self.p.stdout.close()


def backend(name):
    b = Proc([BACKEND, "--name", name, "--listen", "127.0.0.1:0", "--mode", "hello"])
    port = int(b.wait_for(r"listening on .*:(\d+)\n").group(1))
    return b, port


def config(servers, bind="127.0.0.1:0"):
    lines = ["defaults", "    mode tcp", "    timeout connect 1s", "    timeout client 30s",
             "    timeout server 30s", "frontend fe", f"    bind {bind}", "    default_backend be",
             "backend be", "    default-server check inter 100ms fall 1"]
    lines += [f"    server {name} 127.0.0.1:{port}" for name, port in servers]
    return "\n".join(lines) + "\n"


class ApiClientTest(unittest.TestCase):
    def setUp(self):
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="lb_py_")
        self.web1, self.port1 = backend("web1")
        self.web2, self.port2 = backend("web2")
        self.procs += [self.web1, self.web2]
        path = os.path.join(self.dir, "lb.cfg")
        with open(path, "w") as f:
            f.write(config([("s1", self.port1)]))
        self.agent = Proc([AGENT, "-f", path, "--threads", "1", "--grpc", "127.0.0.1:0",
                           "--http", "127.0.0.1:0"])
        self.procs.append(self.agent)
        self.address = self.agent.wait_for(r"management API listening on (\S+)").group(1)
        self.bind = self.agent.wait_for(r"frontend 'fe' listening on (\S+)").group(1)
        self.channel = grpc.insecure_channel(self.address)
        self.stub = agent_pb2_grpc.AgentStub(self.channel)

    def tearDown(self):
        self.channel.close()
        for p in self.procs:
            p.kill()

    def test_health_and_reflection(self):
        health = health_pb2_grpc.HealthStub(self.channel)
        answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        self.assertEqual(answer.status, health_pb2.HealthCheckResponse.SERVING)
        reflection = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        responses = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        services = [s.name for r in responses for s in r.list_services_response.service]
        self.assertIn("lb.v1.Agent", services)
        self.assertIn("grpc.health.v1.Health", services)

    def test_apply_status_and_events(self):
        # Follow events from the start, on another thread.
        events = []
        stream = self.stub.WatchEvents(agent_pb2.WatchEventsRequest(since=0), timeout=30)

        def follow():
            try:
                for message in stream:
                    events.append(message)
            except grpc.RpcError:
                pass

        threading.Thread(target=follow, daemon=True).start()
        # Apply: a second server.
        request = agent_pb2.ApplyConfigRequest()
        request.sources.files.add(name="lb.cfg", content=config(
            [("s1", self.port1), ("s2", self.port2)], self.bind))
        response = self.stub.ApplyConfig(request, timeout=10)
        self.assertTrue(response.applied)
        self.assertEqual(response.version, 2)
        self.assertEqual(list(response.diff.servers_added), ["be/s2"])
        # Status: both servers, up.
        status = self.stub.GetStatus(agent_pb2.GetStatusRequest(), timeout=5)
        self.assertEqual(status.agent.config_version, 2)
        servers = {s.name: s for s in status.backends[0].servers}
        self.assertEqual(set(servers), {"s1", "s2"})
        self.assertEqual(servers["s2"].op_state, agent_pb2.ServerStatus.UP)
        # A backend dies: the stream says so, with the cause.
        self.web2.kill()
        deadline = time.monotonic() + 10
        down = None
        while down is None and time.monotonic() < deadline:
            for m in list(events):
                if (m.HasField("event") and m.event.type == event_pb2.Event.SERVER_STATE
                        and m.event.server == "s2"):
                    down = m.event
            time.sleep(0.05)
        self.assertIsNotNone(down, f"no DOWN event in {events}")
        self.assertEqual(down.new_state, "DOWN")
        self.assertEqual(down.cause.status, "L4CON")
        self.assertTrue(events[0].HasField("start"))
        self.assertEqual(events[1].event.type, event_pb2.Event.CONFIG_APPLIED)
        stream.cancel()

    def test_errors_come_with_their_line_and_details(self):
        request = agent_pb2.ApplyConfigRequest()
        text = config([("s1", self.port1)], self.bind).replace("default_backend be",
                                                              "default_backend bee")
        request.sources.files.add(name="haproxy.cfg", content=text)
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.ApplyConfig(request, timeout=10)
        error = caught.exception
        self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("haproxy.cfg:8: error: default_backend 'bee'", error.details())
        details = dict(error.trailing_metadata())["grpc-status-details-bin"]
        status = agent_pb2.ErrorStatus.FromString(details)
        errors = agent_pb2.ApplyErrors()
        self.assertTrue(status.details[0].Unpack(errors))
        self.assertEqual(errors.errors[0].line, 8)
        # SetServerState on a name that does not exist: NOT_FOUND.
        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.SetServerState(agent_pb2.SetServerStateRequest(
                backend="be", server="s9", admin_state=agent_pb2.ServerStatus.DRAIN), timeout=5)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main(verbosity=2)
