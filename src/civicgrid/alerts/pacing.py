"""Keeping to a gateway's limit across every sender (issue 15: several workers drain one alert at once).

A gateway allows ``rate`` messages per second. Each request of a batch is given a slot: requests start
``1 / n`` seconds apart (so at most ``n`` in any second), each carrying at most ``per_request =
min(batch_size, floor(rate / n))`` messages, so ``n * per_request <= rate`` (``n`` chosen to carry the most:
full batches, or more requests with smaller ones), and no one-second window holds
more than ``rate`` messages, as the sender starts them. At the gateway, requests arrive with some jitter (a
thread scheduled late on a busy machine, the network): a request that leaves late bunches up with the next
one. A 10 % margin on the spacing absorbs jitter up to a tenth of the spacing; beyond that a one-second window
at the gateway can hold one request more than the limit allows (measured: see bench/bench_alert_fanout.py).

The slots are shared through the database: one row per gateway (:class:`~civicgrid.alerts.models.SendBudget`)
holds the next free slot, and a sender takes ``k`` consecutive slots by moving it forward in one ``UPDATE
... RETURNING`` (atomic on PostgreSQL and on SQLite; no lock is held while waiting or sending). Senders in
several processes, or on several machines, therefore never share a slot; their clocks must agree (NTP),
since the slots are wall-clock times.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property

from django.db import connection

from civicgrid.alerts.models import SendBudget
from civicgrid.core.bulk import table_columns

MARGIN = 1.10


@dataclass(frozen=True)
class Pacer:
    """Slots for one gateway. ``rate`` 0: no limit (every slot is now)."""

    gateway: str
    rate: float
    batch_size: int

    @property
    def per_request(self) -> int:
        """Messages one request may carry."""
        if self.rate <= 0:
            return self.batch_size
        return max(1, min(self.batch_size, math.floor(self.rate / self._requests_per_second())))

    @property
    def interval(self) -> float:
        """Seconds between the starts of two requests (under one message a second: one every 1 / rate s)."""
        if self.rate <= 0:
            return 0.0
        return (1.0 / self._requests_per_second() if self.rate >= 1 else 1.0 / self.rate) * MARGIN

    @cached_property
    def _requests(self) -> int:
        """Requests per second, chosen to carry the most messages: from as many as full batches need upwards
        (smaller batches, more requests), never more requests than the limit's whole messages."""
        fewest = max(1, math.floor(self.rate / self.batch_size))
        most = max(fewest, min(math.floor(self.rate), fewest + 2 * self.batch_size + 2))
        return max(range(fewest, most + 1), key=lambda n: n * min(self.batch_size, math.floor(self.rate / n)))

    def _requests_per_second(self) -> int:
        return self._requests

    def reserve(self, requests: int) -> list[float]:
        """Take ``requests`` consecutive slots (wall-clock times, ``time.time()``) in one statement."""
        if self.rate <= 0 or requests <= 0:
            return [0.0] * requests
        table, (key, slot) = table_columns(SendBudget, ["gateway", "next_slot"])
        span, now = requests * self.interval, time.time()
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({key}, {slot}) VALUES (%s, %s) ON CONFLICT ({key}) DO NOTHING",  # noqa: S608
                           [self.gateway, 0.0])
            cursor.execute(f"UPDATE {table} SET {slot} = {greatest}({slot}, %s) + %s WHERE {key} = %s "  # noqa: S608
                           f"RETURNING {slot}", [now, span, self.gateway])
            end = float(cursor.fetchone()[0])
        start = end - span
        return [start + i * self.interval for i in range(requests)]


def wait_until(slot: float) -> None:
    delay = slot - time.time()
    if delay > 0:
        time.sleep(delay)
