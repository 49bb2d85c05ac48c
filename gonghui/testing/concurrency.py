"""Running the same call from several threads at once, for the tests of double submits and races."""

from __future__ import annotations

import threading

from django.db import connections


def run_together(target, count: int) -> list:
    """Start `count` threads that call target(i) at the same moment (a barrier); returns each call's
    result, or the exception it raised, in order. Each thread closes its own database connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
