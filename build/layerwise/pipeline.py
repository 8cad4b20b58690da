"""The build, top-down: plan -> data -> train -> export -> record -> analysis (then figures, render).

The stages live in their own modules; this one decides whether they need to run at all.
Their whole result is cached, keyed by the data files (not their parsed tensors), the model
settings, the files a model is brought in from and the stages' code, so a build after editing
only content/ needs neither torch (1.2 s to import) nor the data.
"""

import time
from pathlib import Path

from . import sources
from .cache import Cache, cache_key, file_hash
from .config import ModelSpec

# Settings that decide what the models are; the rest (content, out, ...) only affect rendering.
MODEL_SETTINGS = ("data", "train", "models", "record", "adversarial", "analysis")
STAGE_CODE = [
    "adversarial.py",
    "anatomy.py",
    "artifacts.py",
    "config.py",
    "contract.py",
    "data.py",
    "export.py",
    "models.py",
    "onnx_network.py",
    "record.py",
    "result.py",
    "sources.py",
    "stats.py",
    "train.py",
    "analysis/baselines.py",
    "analysis/manifold.py",
]


REMEMBERED_HASHES: dict = {}  # (path, size, mtime) of data files -> their hash, within one process


def data_hash(files: list[Path]) -> str:
    """file_hash of the data files, hashed again only when one changed on disk (serve's rebuilds)."""
    stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    if stamp not in REMEMBERED_HASHES:
        REMEMBERED_HASHES[stamp] = file_hash(*files)
    return REMEMBERED_HASHES[stamp]


def pipeline_key(config: dict, specs: dict[str, ModelSpec], source: sources.Source) -> str:
    """The hash of everything the pipeline's result depends on."""
    # An unpacked copy of a gzipped file is hashed as its .gz: the key is the same before and after.
    gzipped = {f.name.removesuffix(".gz") for f in source.files if f.name.endswith(".gz") and f.exists()}
    files = [f for f in source.files if f.name not in gzipped]
    files += [f for spec in specs.values() for f in spec.input_files()]
    here = Path(__file__).parent
    return cache_key(
        {k: config[k] for k in MODEL_SETTINGS},
        data_hash([f for f in files if f.exists()]),
        file_hash(*(here / name for name in STAGE_CODE)),
    )


def run_pipeline(
    config: dict, specs: dict[str, ModelSpec], cache: Cache, timings: dict | None = None, source=None, key=None
):
    """The BuildResult the pages need, from the cache if nothing it depends on changed. `source`
    (the data's description) and `key` (pipeline_key's answer) are reused when the caller has them."""
    timings = {} if timings is None else timings
    start = time.perf_counter()
    source = source or sources.describe_source(config["data"], config["node_modules"])
    key = key or pipeline_key(config, specs, source)
    timings["hash inputs"] = time.perf_counter() - start

    def compute():
        from .artifacts import compute_artifacts  # imports torch: only when something changed

        return compute_artifacts(config, specs, source, cache, timings)

    result = cache.get_or_compute("pipeline", key, compute)
    result.key = key
    return result
