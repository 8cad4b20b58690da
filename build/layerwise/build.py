"""One build: check the config, run the pipeline (cached), render the site. cli, serve and bench
all call `build`; it imports none of them."""

import time
from pathlib import Path

from .cache import Cache
from .config import validated


def check_before_training(config: dict, specs, source) -> None:
    """The content's mistakes that need no trained model, found before any model trains."""
    from .content import check_content
    from .figures import Preview

    preview = Preview({name: None for name in specs}, {"model": config["record"]["model"]}, source.classes)
    check_content(Path(config["content"]), Path(config["node_modules"]), preview)


def build(config: dict, live_reload: bool = False):
    """Check everything, run the pipeline into config['out']; returns (BuildResult, stage timings).
    Mistakes raise BuildError (one line each) before any data is read or model trained."""
    from .pipeline import pipeline_key, run_pipeline
    from .render import render_site
    from .sources import describe_source

    timings: dict = {}
    start = time.perf_counter()
    specs = validated(config)
    source = describe_source(config["data"], config["node_modules"])  # once: a folder's images are opened
    cache = Cache(config["cache"])
    with cache.locked():
        key = pipeline_key(config, specs, source)
        if not cache.has("pipeline", key):  # models would train: check the content first
            check_before_training(config, specs, source)
        result = run_pipeline(config, specs, cache, timings, source, key)
        render_start = time.perf_counter()
        pages = render_site(config, result, Path(config["out"]), live_reload)
    timings["render"] = time.perf_counter() - render_start
    timings["total"] = time.perf_counter() - start
    for name, described in result.models.items():
        print(f"{name:>12}: held-out accuracy {described.metrics['test_accuracy']:.2%} ({described.origin})")
    print(f"wrote {len(pages)} page(s) to {config['out']}/ in {timings['total']:.1f} s")
    return result, timings
