"""A fake batch SMS gateway for the alerts tests: a real HTTP server on 127.0.0.1 (threads, keep-alive)
taking single messages ``{"to", "text"}`` and batches ``{"messages": [...]}`` as
:class:`civicgrid.alerts.channels.WebhookSmsGateway` sends them."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from civicgrid.alerts.channels import WebhookSmsGateway


class FakeGateway(BaseHTTPRequestHandler):
    """A batch SMS gateway: records every request (arrival time, messages), refuses the numbers in
    ``refuse`` once each, answers every request with ``status``."""

    protocol_version = "HTTP/1.1"  # keep-alive, as real gateways do
    requests: list[tuple[float, list[dict[str, str]]]] = []  # noqa: RUF012 - reset by the fixture
    refuse: set[str] = set()  # noqa: RUF012
    status = 200
    garble = False
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        data = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        batch = data.get("messages", [data])
        with FakeGateway.lock:
            FakeGateway.requests.append((time.monotonic(), batch))
            refused = {m["to"] for m in batch} & FakeGateway.refuse
            FakeGateway.refuse -= refused
            n = sum(len(b) for _, b in FakeGateway.requests)
        results = [{"error": "number suspended"} if m["to"] in refused else {"id": f"g{n}-{i}"}
                   for i, m in enumerate(batch)]
        body = json.dumps({"results": results[:-1] if FakeGateway.garble else results} if "messages" in data
                          else results[0]).encode()
        self.send_response(FakeGateway.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass

    @classmethod
    def numbers(cls) -> Counter[str]:
        return Counter(m["to"] for _, batch in cls.requests for m in batch)


@pytest.fixture(name="gateway")
def serve_gateway() -> Iterator[WebhookSmsGateway]:
    """The fake gateway serving on a free port, and the webhook gateway pointed at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGateway)
    server.daemon_threads = True
    FakeGateway.requests, FakeGateway.refuse, FakeGateway.status, FakeGateway.garble = [], set(), 200, False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield WebhookSmsGateway(f"http://127.0.0.1:{server.server_port}/sms", timeout=5)
    server.shutdown()
    server.server_close()
