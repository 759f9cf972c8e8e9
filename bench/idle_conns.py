"""Opens N idle connections through a proxy, for the memory scenario of bench/run.py.

Each connection sends one byte, so that it is relayed end to end: the sink (an nginx port)
then holds it open waiting for the rest of a request line. run.py reads the proxy's RSS before
and while the N connections are established; the difference divided by N is the cost of one
idle proxied connection. Bounded: every wait has a deadline; everything is on 127.0.0.1.
"""

import errno
import selectors
import socket
import time


def openIdle(port, count, established, deadline_seconds=40.0, batch=500):
    """Opens `count` connections to 127.0.0.1:port; returns (clients, established count).

    `established()` says how many connections the sink holds. Stops at the deadline with
    however many got through; the caller closes the clients.
    """
    clients = []
    deadline = time.monotonic() + deadline_seconds
    while len(clients) < count and time.monotonic() < deadline:
        for _ in range(min(batch, count - len(clients))):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex(("127.0.0.1", port))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                continue
            clients.append(s)
        # Let the accept queues drain before the next batch, so that no SYN is dropped.
        wait_until = min(deadline, time.monotonic() + 5.0)
        while established() < len(clients) and time.monotonic() < wait_until:
            time.sleep(0.05)
    sel = selectors.DefaultSelector()
    pending = set()
    for s in clients:
        sel.register(s, selectors.EVENT_WRITE, s)
        pending.add(s)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            try:
                key.data.send(b"x")
            except (BlockingIOError, ConnectionError):
                continue
            sel.unregister(key.data)
            pending.discard(key.data)
    sel.close()
    return clients, established()
