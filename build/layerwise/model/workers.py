"""The build's worker processes: one reusable pool (joblib's loky) for whole articles, training runs and the probes.

A build keeps both cores busy: the articles whose pipelines must run go to worker processes two
at a time, each single-threaded (small models barely use a second thread; two processes use two
cores). Inside such a worker everything runs in that one process (`in_worker()`): its seeds one
after another, its probes unparallelised, so the pool never nests.
"""

import os
import sys

WORKER = "LAYERWISE_WORKER"  # set in a worker process: run everything here, on one thread


def in_worker() -> bool:
    return os.environ.get(WORKER) == "1"


def cores() -> int:
    """The cores this process may spread work over: 1 inside a worker."""
    return 1 if in_worker() else os.cpu_count() or 1


def pool(workers: int):
    """joblib's reusable process pool of `workers` (the analysis's probes share it)."""
    from joblib.executor import get_memmapping_executor

    # Work stopped by Ctrl-C leaves a semaphore of the pool's queue to multiprocessing's resource
    # tracker, which cleans it up and warns that it did: noise after the build's one line. The
    # tracker takes its warning filters from this process's -W options when it starts.
    quiet = "ignore:resource_tracker:UserWarning"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)
    return get_memmapping_executor(workers)


def become_worker(threads: int) -> None:
    """What a task does first in a worker: Ctrl-C is the build's to handle (it stops the pool),
    torch gets `threads`, and `in_worker()` holds from now on."""
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_the_build()
    torch.set_num_threads(threads)
    os.environ[WORKER] = "1"


def die_with_the_build() -> None:
    """Linux: this worker is killed when the build's process ends, however it ends (kill -9 too):
    an orphaned worker would go on training for nobody."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: a stopped build's workers end when their queue closes
        pass


def run_all(tasks: list, on_done=lambda task, result: None) -> list:
    """[function(*args), ...] for tasks [(function, args), ...], as many at once as there are
    cores (each task calls become_worker), results in the tasks' order; `on_done(task, result)`
    as each finishes. Ctrl-C or a task's error stops the others, quietly, and is raised."""
    from joblib.externals.loky import as_completed

    executor = pool(min(len(tasks), cores()))
    futures = {executor.submit(function, *args): i for i, (function, args) in enumerate(tasks)}
    results = [None] * len(tasks)
    try:
        for done in as_completed(futures):
            results[futures[done]] = done.result()
            on_done(tasks[futures[done]], results[futures[done]])
    except BaseException:
        for future in futures:
            future.cancel()
        executor.shutdown(wait=True, kill_workers=True)
        raise
    return results
