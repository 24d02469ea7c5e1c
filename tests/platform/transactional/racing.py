"""The transactional tests' one way to make calls meet: each in its own thread (and so its own database
connection), released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.utils import translation


def race(calls: list[Callable[[], Any]], *, language: str | None = None) -> list[Any]:
    """Run each of ``calls`` in its own thread, all released at once by a barrier; each thread closes its
    connections when done. Returns, in order, what each call returned or the exception it raised (the test
    asserts on them). ``language``: active in each thread, which otherwise starts in the site's default."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            if language is None:
                results[i] = calls[i]()
            else:
                with translation.override(language):
                    results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - recorded: the test asserts on what each call got
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a call was still running after 120 s"
    return results
