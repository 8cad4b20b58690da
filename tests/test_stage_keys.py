"""Stage keys are computed from what each stage runs and reads: no stale result, no needless retraining."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from layerwise.cache import PACKAGE, Cache, code_closure
from layerwise.config import load_config
from layerwise.model import pipeline
from layerwise.model.pipeline import ORCHESTRATOR, STAGES, applies, stage_keys
from layerwise.page.articles import plan_site

ROOT = Path(__file__).resolve().parent.parent

# Imports every stage's modules afresh, one stage at a time, and lists the package modules each
# really loaded: the truth a key's computed closure must cover.
RUNTIME_IMPORTS = """
import importlib, json, sys
import numpy, torch, onnx  # third-party modules stay loaded between stages
stages = json.loads(sys.argv[1])
found = {}
for name, modules in stages.items():
    for loaded in [m for m in sys.modules if m == "layerwise" or m.startswith("layerwise.")]:
        del sys.modules[loaded]
    for module in modules:
        importlib.import_module("layerwise." + module)
    found[name] = sorted(m for m in sys.modules if m.startswith("layerwise."))
print(json.dumps(found))
"""


def module_name(path: Path, package: Path = PACKAGE) -> str:
    relative = path.relative_to(package).with_suffix("")
    return ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)


@pytest.fixture(scope="module")
def default_articles():
    config = load_config(
        content=str(ROOT / "content"), templates=str(ROOT / "templates"), node_modules=str(ROOT / "node_modules")
    )
    return plan_site(config)[1]


def test_each_stage_key_covers_every_module_it_imports():
    """A stage's computed code is a superset of what importing its modules loads (tour.py in the
    record's key: an edit to record_tour used to reuse a stale tour)."""
    code = {name: stage.code for name, stage in STAGES.items()} | {"pipeline": (ORCHESTRATOR,)}
    run = subprocess.run([sys.executable, "-c", RUNTIME_IMPORTS, json.dumps(code)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for stage, loaded in json.loads(run.stdout).items():
        covered = {f"layerwise.{module_name(p)}".rstrip(".") for p in code_closure(*code[stage])}
        missing = {m for m in loaded if m not in covered and m != "layerwise"}
        assert not missing, f"{stage}: imports {sorted(missing)}, which its key does not cover"
    assert PACKAGE / "model" / "tour.py" in code_closure(*STAGES["record"].code)


def keys_of(articles, package: Path) -> dict[str, dict[str, str]]:
    return {a.slug: stage_keys(a.config, a.specs, a.source, package=package) for a in articles}


def test_an_edit_recomputes_exactly_the_stages_that_run_it(tmp_path, default_articles):
    """In a copy of the package, each module edited in turn changes the keys of exactly the stages
    whose code imports it (and the pipeline's, when the orchestrator does); page-side modules and
    content change none. The same tree in another folder has the same keys."""
    copy = tmp_path / "a" / "layerwise"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    moved = tmp_path / "elsewhere" / "deeper" / "layerwise"
    shutil.copytree(copy, moved)
    before = keys_of(default_articles, copy)
    assert keys_of(default_articles, moved) == before  # a re-clone or a moved checkout retrains nothing
    assert before == keys_of(default_articles, PACKAGE)

    runs_code = {name: set(code_closure(*stage.code, package=copy)) for name, stage in STAGES.items()}
    orchestrated = set(code_closure(ORCHESTRATOR, package=copy))
    sources = {a.slug: a.source for a in default_articles}
    for module in sorted(copy.rglob("*.py")):
        original = module.read_bytes()
        module.write_bytes(original + b"\n# an edit\n")
        try:
            after = keys_of(default_articles, copy)
        finally:
            module.write_bytes(original)
        for slug, keys in after.items():
            changed = {k.split("/")[0] for k, v in keys.items() if before[slug][k] != v}
            expected = {name for name, files in runs_code.items() if module in files}
            for _ in STAGES:  # a stage that needs another's result recomputes when that one does
                expected |= {n for n, s in STAGES.items() if any(need in expected for need in s.needs)}
            expected = {n for n in expected if applies(n, sources[slug])}  # the stages its kind of data runs
            expected |= {"pipeline"} if expected or module in orchestrated else set()
            assert changed == expected, (
                f"{module.relative_to(copy)} edited: {slug} recomputes {changed}, not {expected}"
            )
    for page_side in ("page/content.py", "page/render.py", "page/figures/ladder.py", "tools/serve.py", "tools/cli.py"):
        assert all(copy / page_side not in files for files in [*runs_code.values(), orchestrated]), page_side


def test_a_content_edit_recomputes_nothing(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    config = load_config(
        content=str(content), templates=str(ROOT / "templates"), node_modules=str(ROOT / "node_modules")
    )
    before = keys_of(plan_site(config)[1], PACKAGE)
    article = content / "mnist.md"
    article.write_text(article.read_text().replace("The Grand Tour", "The Grand Tour, edited", 1))
    assert keys_of(plan_site(config)[1], PACKAGE) == before


def test_the_datas_hash_is_kept_in_the_cache_until_a_file_changes(tmp_path, monkeypatch):
    """A new process's build reads the data's hash from the cache instead of hashing the files
    again; a file written since is hashed again."""
    monkeypatch.setattr(pipeline, "SETTLED_NS", 0)  # files written just now count as settled
    hashed, hash_files = [], pipeline.file_hash

    def counted(*files, root):
        hashed.append(files)
        return hash_files(*files, root=root)

    monkeypatch.setattr(pipeline, "file_hash", counted)
    data, cache = tmp_path / "points.csv", Cache(tmp_path / "cache")
    data.write_text("x1,x2,label\n0.5,1.0,1\n")
    source = SimpleNamespace(files=[data])
    first = pipeline.data_hash(source, cache)
    monkeypatch.setattr(pipeline, "REMEMBERED_HASHES", {})  # what a new process remembers
    assert pipeline.data_hash(source, cache) == first and len(hashed) == 1
    data.write_text("x1,x2,label\n0.5,1.0,-1\n")
    monkeypatch.setattr(pipeline, "REMEMBERED_HASHES", {})
    assert pipeline.data_hash(source, cache) != first and len(hashed) == 2
