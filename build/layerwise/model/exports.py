"""Graphs that depend on code alone (the playground's training step), exported once per code change.

Such an export is a function without arguments. The build computes the ones its pages use beside
the articles' pipelines (workers.run_all) and keeps them in the cache under a key computed from
the function's code; the figures then `load` them from there.
"""

import contextlib

from ..cache import PACKAGE, Cache, cache_key, code_hash

_cache: Cache | None = None  # the build's, while it runs (`using`)


def key(export) -> str:
    module = export.__module__.removeprefix(f"{PACKAGE.name}.")
    return cache_key(module, export.__qualname__, code_hash(module))


def store(export, cache: Cache, threads: int = 1) -> None:
    """Compute and cache `export` in a worker process (the build's process loads it later)."""
    from . import workers

    workers.become_worker(threads)
    cache.get_or_compute("exports", key(export), export)


def missing(exports, cache: Cache) -> list:
    return [e for e in dict.fromkeys(exports) if not cache.has("exports", key(e))]


@contextlib.contextmanager
def using(cache: Cache):
    """`load` reads and fills `cache` while the build runs."""
    global _cache
    previous, _cache = _cache, cache
    try:
        yield
    finally:
        _cache = previous


def load(export):
    """`export()`, from the build's cache when it has it (computed and stored when not)."""
    return _cache.get_or_compute("exports", key(export), export) if _cache is not None else export()
