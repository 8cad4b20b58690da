"""The build's worker processes: one reusable pool (joblib's loky) for whole articles, training runs and the probes.

A build keeps both cores busy: the articles whose pipelines must run go to worker processes two
at a time, each single-threaded (small models barely use a second thread; two processes use two
cores). Inside such a worker everything runs in that one process (`in_worker()`): its seeds one
after another, its probes unparallelised, so the pool never nests.
"""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

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


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def become_worker(threads: int) -> None:
    """What a task does first in a worker: Ctrl-C is the build's to handle (it stops the pool),
    every thread pool gets `threads`, and `in_worker()` holds from now on."""
    import signal

    import torch
    from threadpoolctl import threadpool_limits

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_the_build()
    # Not torch's threads alone: BLAS and OpenMP (scikit-learn's probes, t-SNE) took two threads
    # each while the other worker trained, and the analysis ran 2-3x slower than on one thread.
    # The variables reach the libraries loaded later; threadpoolctl those loaded already.
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    threadpool_limits(threads)
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


@dataclass(frozen=True)
class Task:
    """One piece of a build for a worker: `function(*args)`, once the tasks named in `needs` are
    done; tasks of a lower rank are started first (within a rank, in the list's order)."""

    name: str
    function: Callable
    args: tuple = ()
    needs: tuple[str, ...] = ()
    rank: int = 0


def run_graph(tasks: list[Task]) -> dict:
    """{task's name: function(*args)} for every task, as many at once as there are cores (each
    task calls become_worker). A core that frees takes the first task whose needs are done, by
    rank, then in the list's order: the schedule's priority (longest chains first). Ctrl-C or a
    task's error stops the others, quietly, and is raised."""
    from joblib.externals.loky import FIRST_COMPLETED, wait

    executor = pool(min(len(tasks), cores()))
    waiting, running, results = sorted(tasks, key=lambda t: t.rank), {}, {}
    try:
        while waiting or running:
            # Submit only as many as there are cores: a queue in the pool would fix the order early.
            while len(running) < cores() and (ready := [t for t in waiting if set(t.needs) <= results.keys()]):
                waiting.remove(ready[0])
                running[executor.submit(ready[0].function, *ready[0].args)] = ready[0]
            if not running:
                raise ValueError(f"tasks that wait on no task: {', '.join(t.name for t in waiting)}")
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                results[task.name] = future.result()
    except BaseException:
        for future in running:
            future.cancel()
        executor.shutdown(wait=True, kill_workers=True)
        raise
    return results
