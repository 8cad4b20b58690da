"""A task for the workers' tests that imports nothing heavy: a worker process starts it at once."""

import time


def started_and_ended(seconds: float) -> tuple[float, float]:
    """Sleeps; (when it started, when it ended), by the machine's clock."""
    start = time.monotonic()
    time.sleep(seconds)
    return start, time.monotonic()
