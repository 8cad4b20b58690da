"""Graphs that depend on code and a few numbers alone, exported once per code change: the
playground's training step, the live-training step for P pixels and K classes.

Such an export is a function and its arguments (plain numbers). A figure declares the ones it
loads (`exports=` in its @figure: a function, or (function, its arguments from the data's
description)). The build computes those its pages use beside the articles' pipelines
(workers.run_graph) and keeps them in the cache under a key computed from the function's code and
the arguments; the figures then `load` them from there.
"""

import contextlib

from ..cache import PACKAGE, Cache, cache_key, code_hash

_cache: Cache | None = None  # the build's, while it runs (`using`)


def calls(declared: tuple, source) -> list[tuple]:
    """(function, arguments) of each export a figure declares, for an article's data."""
    return [(export, ()) if callable(export) else (export[0], tuple(export[1](source))) for export in declared]


def key(export, args: tuple = ()) -> str:
    module = export.__module__.removeprefix(f"{PACKAGE.name}.")
    return cache_key(module, export.__qualname__, code_hash(module), list(args))


def store(export, args: tuple, cache: Cache, threads: int = 1) -> None:
    """Compute and cache `export(*args)` in a worker process (the build's process loads it later)."""
    from . import workers

    workers.become_worker(threads)
    cache.get_or_compute("exports", key(export, args), lambda: export(*args))


def missing(wanted: list[tuple], cache: Cache) -> list[tuple]:
    """The (function, arguments) of `wanted` not in the cache yet."""
    return [call for call in dict.fromkeys(wanted) if not cache.has("exports", key(*call))]


@contextlib.contextmanager
def using(cache: Cache):
    """`load` reads and fills `cache` while the build runs."""
    global _cache
    previous, _cache = _cache, cache
    try:
        yield
    finally:
        _cache = previous


def load(export, *args):
    """`export(*args)`, from the build's cache when it has it (computed and stored when not)."""
    if _cache is None:
        return export(*args)
    return _cache.get_or_compute("exports", key(export, args), lambda: export(*args))
