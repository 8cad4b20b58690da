"""The model half, top-down: plan -> data -> train -> export, gradients -> record -> analysis, each stage declared once.

A cached stage names the config sections it reads, the stages whose results it reads and the
modules that run it. Its key is computed from those: the settings, the keys of the stages it
needs, and the code of its modules with every package module they import (read from source,
never a hand-kept list). The pipeline's key is derived from every stage's key and the
orchestrator's code (orchestrator.py), so all keys are known before torch is imported or any data
is read: a build after editing only content/ needs neither.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..cache import PACKAGE, Cache, cache_key, code_hash, file_hash
from ..config import ModelSpec
from . import sources

# Settings that decide what the models are; the rest (content, out, ...) only affect rendering.
MODEL_SETTINGS = ("data", "train", "models", "record", "adversarial", "analysis")
# Settings that are places, not contents: the files found there are hashed instead.
PLACES = ("root",)


@dataclass(frozen=True)
class Stage:
    """One cached step of the pipeline."""

    name: str
    code: tuple[str, ...]  # the modules that run it ("train", "analysis.manifold"); their imports follow
    settings: tuple[str, ...] = ()  # the config sections it reads
    needs: tuple[str, ...] = ()  # the stages whose results it reads
    # The kinds of data it applies to (sources.Source.kind), or a kind with one task ("text:classify").
    kinds: tuple[str, ...] = ("image", "text")
    why_not: str = ""  # for the other kinds: what the page cannot show, and why (the result says it)


def applies(stage: str, source: sources.Source) -> bool:
    """Whether `stage` runs for this data: each stage declares the kinds of data it applies to."""
    kinds = STAGES[stage].kinds
    return source.kind in kinds or f"{source.kind}:{source.task}" in kinds


STAGES = {
    stage.name: stage
    for stage in (
        Stage("data", code=("model.data",), settings=("data",)),
        # Per model and seed: the model's own table and brought-in files are in its key too.
        Stage("train", code=("model.train", "model.onnx_network"), needs=("data",)),
        # Per model, from the run the page shows (the configured seed's).
        Stage("export", code=("model.export",), needs=("train",)),
        # Per model, from its shown run: its exact input gradient (attribution, attacks), or why it has none.
        Stage(
            "gradients",
            code=("model.gradients",),
            needs=("train",),
            kinds=("image",),
            why_not="saliency and attacks move pixels; a token is a choice, not a quantity a gradient can nudge",
        ),
        # Per model: the held-out examples each conv channel and dense unit responds to most and
        # least (which layers are units, and their receptive fields, come from the anatomy).
        Stage(
            "units",
            code=("model.units", "model.anatomy"),
            needs=("train", "data"),
            kinds=("image",),
            why_not="units are shown by image crops of their receptive fields",
        ),
        # The recorded model's shown run, through every layer at every snapshot (and the attacks).
        Stage(
            "record",
            code=("model.tour",),
            settings=("record", "adversarial"),
            needs=("train",),
            kinds=("image", "text:classify"),
            why_not="the Grand Tour's points are held-out examples with a class; a next-token window has none",
        ),
        # The recorded next-token model at every snapshot: held-out bits, one text's attention and lens.
        Stage(
            "history",
            code=("model.history",),
            settings=("record",),  # which model
            needs=("train",),
            kinds=("text:next-token",),
            why_not="the Grand Tour shows how this model changed over training",
        ),
        Stage(
            "analysis",
            code=("model.analysis.manifold",),
            settings=("record", "analysis"),
            needs=("train",),
            kinds=("image", "text:classify"),
            why_not="the manifold views sample the Grand Tour's held-out examples, by class",
        ),
    )
}
ORCHESTRATOR = "model.orchestrator"  # runs the stages and describes the models (uncached): in the pipeline's key


REMEMBERED_HASHES: dict = {}  # the data files' stamps -> their hash, within one process
SETTLED_NS = 2_000_000_000  # a file changed this recently may change again within its stamp's tick


def data_hash(source: sources.Source, cache: Cache | None = None) -> str:
    """file_hash of the data's files, relative to their common folder, hashed again only when one
    changed on disk (serve's rebuilds; and, kept in `cache`, a new process's build: hashing the
    default site's 100 MB of data was a tenth of a content-only rebuild). A file's stamp is what
    git's index checks: its place, size, inode and change times (an edit moves ctime, which no
    tool sets back). An unpacked copy of a gzipped file is hashed as its .gz: the key is the same
    before and after unpacking."""
    gzipped = {f.name.removesuffix(".gz") for f in source.files if f.name.endswith(".gz") and f.exists()}
    files = sorted(f for f in source.files if f.name not in gzipped and f.exists())
    if not files:
        return ""
    status = [f.stat() for f in files]
    stamp = tuple((str(f.resolve()), s.st_size, s.st_ino, s.st_mtime_ns, s.st_ctime_ns) for f, s in zip(files, status))
    if stamp not in REMEMBERED_HASHES:
        root = Path(os.path.commonpath([f.parent for f in files]))
        settled = time.time_ns() - max(max(s.st_mtime_ns, s.st_ctime_ns) for s in status) > SETTLED_NS
        if cache is not None and settled:
            found = cache.get_or_compute("hashes", cache_key("data", stamp), lambda: file_hash(*files, root=root))
        else:
            found = file_hash(*files, root=root)
        REMEMBERED_HASHES[stamp] = found
    return REMEMBERED_HASHES[stamp]


def section(config: dict, name: str):
    """A config section as a key sees it: without the settings that are places."""
    value = config[name]
    return {k: v for k, v in value.items() if k not in PLACES} if isinstance(value, dict) else value


def model_definition(spec: ModelSpec) -> tuple:
    """What decides a model before training, but its seed: its table and the files it is brought in from."""
    settings = {k: v for k, v in spec.train.items() if k not in ("seed", "seeds")}
    return (spec.layers, spec.factory, spec.args, spec.show, spec.outputs, settings, file_hash(*spec.input_files()))


def runs(spec: ModelSpec) -> list[int]:
    """The seeds a model is trained with; the first is the run the page shows. A brought-in model is measured once."""
    first = spec.train["seed"]
    return list(range(first, first + spec.train["seeds"])) if spec.trained_here else [first]


def stage_keys(
    config: dict,
    specs: dict[str, ModelSpec],
    source: sources.Source,
    package: Path = PACKAGE,
    cache: Cache | None = None,
) -> dict[str, str]:
    """Every stage's key, by "stage" or "stage/model" or "stage/model/seed", and the pipeline's.
    `package` is the code they cover (a copy of it, in the tests); `cache` keeps the data's hash."""
    code = {name: code_hash(*stage.code, package=package) for name, stage in STAGES.items()}

    def key(stage: str, needs: list[str], *parts) -> str:
        settings = [section(config, s) for s in STAGES[stage].settings]
        return cache_key(stage, code[stage], settings, [keys[n] for n in needs], *parts)

    keys: dict[str, str] = {}
    keys["data"] = key("data", [], data_hash(source, cache))
    for name, spec in specs.items():
        for seed in runs(spec):
            keys[f"train/{name}/{seed}"] = key("train", ["data"], model_definition(spec), seed)
        keys[f"export/{name}"] = key("export", [f"train/{name}/{runs(spec)[0]}"])
        for stage in ("gradients", "units"):
            if applies(stage, source):
                keys[f"{stage}/{name}"] = key(stage, [f"train/{name}/{runs(spec)[0]}", *STAGES[stage].needs[1:]])
    recorded = config["record"]["model"]
    shown = recorded in specs and f"train/{recorded}/{runs(specs[recorded])[0]}"
    if shown and applies("record", source):
        keys["record"] = key("record", [shown])
        keys["analysis"] = key("analysis", [shown])
    if shown and applies("history", source):
        keys["history"] = key("history", [shown])
    keys["pipeline"] = cache_key(sorted(keys.items()), code_hash(ORCHESTRATOR, package=package))
    return keys


class Runner:
    """Runs one article's stages by their keys: from the cache when stored, else computed and
    stored, timed, and said in one line as it ends (a log shows the build moving)."""

    def __init__(self, cache: Cache, keys: dict[str, str], timings: dict, article: str = ""):
        self.cache, self.keys, self.timings, self.article = cache, keys, timings, article

    def __call__(self, scoped: str, compute, label: str | None = None):
        start, computed = time.perf_counter(), len(self.cache.misses)
        result = self.cache.get_or_compute(scoped.split("/")[0], self.keys[scoped], compute)
        if len(self.cache.misses) > computed:  # read back (a worker computed it ahead): not a stage run here
            self.note(label or scoped, time.perf_counter() - start)
        return result

    def note(self, label: str, seconds: float) -> None:
        """Time spent on `label` (added up over its calls); a line when it took any."""
        self.timings[label] = self.timings.get(label, 0.0) + seconds
        if seconds >= 0.05:
            print(stage_line(self.article, label, seconds), flush=True)


def stage_line(article: str, stage: str, seconds: float) -> str:
    """The line a build prints as a stage ends; the bench reads it (bench.STAGE_LINE)."""
    return f"{article:>10} stage {stage}: {seconds:.1f} s"


def run_pipeline(
    config: dict,
    specs: dict[str, ModelSpec],
    cache: Cache,
    timings: dict | None = None,
    source=None,
    article="",
    keys: dict[str, str] | None = None,
):
    """The BuildResult the pages need, from the cache if nothing it depends on changed. `source`
    (the data's description) and `keys` (stage_keys') are reused when the caller has them."""
    timings = {} if timings is None else timings
    start = time.perf_counter()
    source = source or sources.describe_configured(config)
    keys = keys or stage_keys(config, specs, source)
    timings["hash inputs"] = time.perf_counter() - start

    def compute():
        from .orchestrator import compute_artifacts  # imports torch: only when something changed

        return compute_artifacts(config, specs, source, Runner(cache, keys, timings, article))

    result = cache.get_or_compute("pipeline", keys["pipeline"], compute)
    result.key = keys["pipeline"]
    return result
