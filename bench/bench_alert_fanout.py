"""Benchmark: a district-wide alert handed to a (local, fake) SMS gateway over HTTP.

Loads the demo (``civicgrid demo --no-serve``, SQLite, into a temporary var directory), starts a fake
SMS gateway on 127.0.0.1 (a threading HTTP server answering each POST after ``--latency`` ms, as a
gateway in the same region would) and publishes one alert to the whole district. Then, on the same
queued deliveries:

* before: the outbox as it was, one batch of 500 sent one message at a time, once a minute (the
  periodic job's schedule): messages per minute = min(500, what one sequential batch sends in 60 s);
* after: one run of the job (``alerts_outbox_drain``) sending batch after batch with
  ``--concurrency`` connections, optionally limited to ``--rate`` messages per second.

Prints messages per second, the time a 300,000-household district would take at that rate (the
issue's goal: within 5 minutes), and the ratio after/before.

    .venv/bin/python bench/bench_alert_fanout.py [--households 10000] [--latency 20] [--concurrency 16] [--rate 0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DISTRICT = 300_000


class _Gateway(BaseHTTPRequestHandler):
    latency = 0.02
    count = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(self.latency)
        with _Gateway.lock:
            _Gateway.count += 1
            n = _Gateway.count
        body = json.dumps({"id": f"m{n}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=20.0, help="the fake gateway's answer time, ms")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.0, help="the gateway's limit, messages/s (0: none)")
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="civicgrid-bench-alerts-"))
    gateway_process = subprocess.Popen([sys.executable, __file__, "--serve-gateway", str(args.latency)],
                                       stdout=subprocess.PIPE, text=True)
    assert gateway_process.stdout is not None
    port = int(gateway_process.stdout.readline())
    try:
        env = {**os.environ, "CIVICGRID_VAR_DIR": str(var)}
        env.pop("CIVICGRID_DATABASE_URL", None)
        subprocess.run([sys.executable, "-m", "civicgrid.cli", "demo", "--households", str(args.households),
                        "--no-serve"], env=env, check=True, capture_output=True)
        os.environ.update({"CIVICGRID_VAR_DIR": str(var), "CIVICGRID_SMS_CONCURRENCY": str(args.concurrency),
                           "CIVICGRID_SMS_RATE": str(args.rate),
                           "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings"})
        os.environ.pop("CIVICGRID_DATABASE_URL", None)
        import django

        django.setup()
        from django.contrib.auth import get_user_model

        from civicgrid.accounts.roles import scope_for
        from civicgrid.alerts.channels import WebhookSmsGateway
        from civicgrid.alerts.models import Delivery
        from civicgrid.alerts.outbox import alerts_outbox_drain, alerts_outbox_process
        from civicgrid.alerts.services import alert_publish
        from civicgrid.registry.models import Place

        official = get_user_model().objects.get(username="district")
        district = Place.objects.get(level="district")
        started = time.perf_counter()
        alert = alert_publish(user=official, scope=scope_for(official), area=district, headline_zh="全区紧急通知",
                              instruction_zh="请留意社区安排。", channels=["sms"])
        queued = alert.deliveries.count()
        print(f"{args.households:,} households; alert queued {queued:,} SMS in {time.perf_counter() - started:.1f} s;"
              f" gateway latency {args.latency:.0f} ms")
        gateway = WebhookSmsGateway(f"http://127.0.0.1:{port}/send", timeout=10)

        started = time.perf_counter()
        before = alerts_outbox_process(limit=500, gateway=gateway, concurrency=1)
        batch_seconds = time.perf_counter() - started
        per_minute_before = min(500.0, before.sent / batch_seconds * 60) if batch_seconds < 60 else before.sent
        print(f"before: one sequential batch of {before.sent} in {batch_seconds:.1f} s, once a minute ->"
              f" {per_minute_before:,.0f} messages/min; {DISTRICT:,} households would take"
              f" {DISTRICT / per_minute_before / 60:.1f} h")

        Delivery.objects.filter(alert=alert).update(state=Delivery.State.QUEUED, attempts=0, sent_at=None)
        started = time.perf_counter()
        after = alerts_outbox_drain(limit=500, gateway=gateway, budget_seconds=3600)
        seconds = time.perf_counter() - started
        rate = after.sent / seconds
        print(f"after:  {after.sent:,} sent ({after.retrying} retrying, {after.failed} failed) in {seconds:.1f} s"
              f" with {args.concurrency} connections -> {rate * 60:,.0f} messages/min; {DISTRICT:,} households"
              f" would take {DISTRICT / rate / 60:.1f} min (goal: 5)")
        print(f"ratio after/before: {rate * 60 / per_minute_before:.1f}x")
        return 0
    finally:
        gateway_process.terminate()
        shutil.rmtree(var, ignore_errors=True)


def serve_gateway(latency_ms: float) -> None:
    """The fake gateway, in its own process (so it does not share the sender's interpreter lock)."""

    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    _Gateway.latency = latency_ms / 1000
    _Gateway.protocol_version = "HTTP/1.1"  # keep-alive, as real gateways do
    server = Server(("127.0.0.1", 0), _Gateway)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-gateway":
        serve_gateway(float(sys.argv[2]))
        sys.exit(0)
    sys.exit(main())
