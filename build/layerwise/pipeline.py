"""The build, top-down: data -> train -> export -> record -> (figures, render).

The stages live in their own modules; this one decides whether they need to run at all.
Their whole result is cached, keyed by the data files (not their parsed tensors), the model
settings and the stages' code, so a build after editing only content/ needs neither torch
(1.2 s to import) nor the data.
"""

import time
from pathlib import Path

from . import sources
from .cache import Cache, cache_key, file_hash

# Settings that decide what the models are; the rest (content, out, ...) only affect rendering.
MODEL_SETTINGS = ("data", "train", "models", "record", "analysis")
STAGE_CODE = [
    "artifacts.py",
    "data.py",
    "export.py",
    "models.py",
    "record.py",
    "sources.py",
    "train.py",
    "analysis/baselines.py",
    "analysis/manifold.py",
]


def run_pipeline(config: dict, cache: Cache, timings: dict | None = None) -> dict:
    """Everything the pages need: plain data (metrics, ONNX bytes, lists), from the cache if it can."""
    timings = {} if timings is None else timings
    start = time.perf_counter()
    files = sources.data_files(config["data"], config["node_modules"])
    here = Path(__file__).parent
    key = cache_key(
        {k: config[k] for k in MODEL_SETTINGS}, file_hash(*files), file_hash(*(here / name for name in STAGE_CODE))
    )
    timings["hash inputs"] = time.perf_counter() - start

    def compute():
        from .artifacts import compute_artifacts  # imports torch: only when something changed

        return compute_artifacts(config, cache, timings)

    return cache.get_or_compute("pipeline", key, compute)
