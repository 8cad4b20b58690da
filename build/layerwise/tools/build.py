"""One build of the whole site: plan the articles, check, run each article's pipeline (cached),
render every page. cli, serve and bench all call `build`; it imports none of them."""

import sys
import time
from pathlib import Path

from ..cache import Cache
from ..model import exports
from ..page.articles import Article, plan_site


def check_before_training(config: dict, articles: list[Article]) -> list:
    """The content's mistakes that need no trained model, found before any model trains: every
    page, with the links and references between them. Returns the code-only graphs its figures
    will load, as (function, arguments) (model/exports.py)."""
    from ..page.content import ArticleInputs, load_glossary, render_pages
    from ..page.figures import FIGURES, Preview

    content, node_modules = Path(config["content"]), Path(config["node_modules"])
    glossary = load_glossary(content / "glossary.yml")

    def site(article: Article) -> ArticleInputs:  # what is known before training: model names, classes
        models = {name: None for name in article.specs}
        preview = Preview(
            models, {"model": article.config["record"]["model"]}, article.source.classes, article.source.kind
        )
        return ArticleInputs(None, preview, glossary, content, node_modules)

    pages = render_pages([(a.path, a.slug, a.url, site(a)) for a in articles])
    return [
        call
        for article, page in zip(articles, pages)
        for figure in FIGURES.values()
        if set(page.widgets) & set(figure.widgets)
        for call in exports.calls(figure.exports, article.source)
    ]


def dry_run_models(articles: list[Article]) -> None:
    """Every model of every article that will train, built and run once on a dummy example: a
    model that does not fit its data is one line before the first article trains, not after."""
    from ..errors import BuildError
    from ..model.orchestrator import plan

    errors = []
    for article in articles:
        try:
            plan(article.config, article.specs, article.source)
        except BuildError as e:
            errors.append(str(e))
    if errors:
        raise BuildError("\n".join(errors))


def build(config: dict, live_reload: bool = False, memory: dict | None = None):
    """Check everything, run every article's pipeline, render into config['out']; returns
    ({article: BuildResult}, stage timings). Mistakes raise BuildError (one line each) before any
    data is read or model trained. `memory` (serve's) keeps results between rebuilds by key."""
    from ..model.pipeline import stage_keys
    from ..page.render import render_site

    timings: dict = {}
    start = time.perf_counter()
    memory = {} if memory is None else memory
    settings, articles = plan_site(config)
    cache = Cache(config["cache"])
    with cache.locked(), exports.using(cache):
        stages_keys = {a.slug: stage_keys(a.config, a.specs, a.source, cache=cache) for a in articles}
        keys = {slug: found["pipeline"] for slug, found in stages_keys.items()}
        training = [a for a in articles if keys[a.slug] not in memory and not cache.has("pipeline", keys[a.slug])]
        graphs = []  # the code-only graphs to export beside training (made at render otherwise)
        if training:  # models would train: check the content and every model first
            graphs = exports.missing(check_before_training(config, articles), cache)
            dry_run_models(training)
        pending = {}  # two articles with the same data, models and settings: one pipeline
        for article in articles:
            if keys[article.slug] not in memory:
                pending.setdefault(keys[article.slug], article)
        computed = run_pipelines(list(pending.values()), stages_keys, cache, graphs)
        for article, (result, spent) in zip(pending.values(), computed):
            memory[keys[article.slug]], timings[article.slug] = result, spent
        results = {article.slug: memory[keys[article.slug]] for article in articles}
        render_start = time.perf_counter()
        pages = render_site(config, settings, articles, results, Path(config["out"]), live_reload)
    timings["render"] = time.perf_counter() - render_start
    timings["total"] = time.perf_counter() - start
    report(articles, results, pages, config, timings)
    return results, timings


def article_pipeline(article: Article, cache: Cache, keys: dict, threads: int = 0) -> tuple:
    """(BuildResult, its stage timings) of one article's pipeline; in a worker process when
    `threads` is given."""
    from ..model import workers
    from ..model.pipeline import run_pipeline

    if threads:
        workers.become_worker(threads)
    spent: dict = {}
    return run_pipeline(article.config, article.specs, cache, spent, article.source, article.slug, keys), spent


# Below this many examples seen by the runs to train, everything runs in this process: starting
# the workers (each imports torch) costs more than a few small runs save.
PARALLEL_WORK = 200_000


def run_pipelines(articles: list[Article], stages_keys: dict, cache: Cache, graphs: list = ()) -> list[tuple]:
    """Each article's (BuildResult, timings), and `graphs` (code-only exports) into the cache.
    What must compute runs in worker processes (schedule); on CUDA, with one core or little to
    train, here."""
    from ..model import workers

    computing = [a for a in articles if not cache.has("pipeline", stages_keys[a.slug]["pipeline"])]
    if not computing and not graphs:  # every result in the cache: read here (no torch to import)
        return [article_pipeline(a, cache, stages_keys[a.slug]) for a in articles]
    from ..model.orchestrator import prefetch_tasks

    ahead = {a.slug: prefetch_tasks(inputs(a), stages_keys[a.slug], cache) for a in computing}
    alone = len(computing) + len(graphs) < 2 and little_to_train(computing, ahead)
    if alone or workers.cores() < 2 or on_gpu(computing):
        return [article_pipeline(a, cache, stages_keys[a.slug]) for a in articles]
    tasks = schedule(computing, ahead, stages_keys, cache, graphs)
    # Said before the first stage ends (minutes on a large site): the workers draw no progress bars.
    runs = sum(":train/" in task.name for task in tasks)
    print(
        f"training {runs} run(s) for {', '.join(a.slug for a in computing)}, and analysing them, on {workers.cores()} "
        "worker processes; a line as each stage ends",
        flush=True,
    )
    try:
        done = workers.run_graph(tasks)
    except BaseException:  # Ctrl-C or an error: the workers were stopped, maybe mid-write
        cache.sweep()
        raise
    return [done.get(a.slug) or article_pipeline(a, cache, stages_keys[a.slug]) for a in articles]


def schedule(computing: list[Article], ahead: dict, stages_keys: dict, cache: Cache, graphs: list) -> list:
    """The build's tasks for the workers, one per core at a time, each on one thread (small models
    barely use a second), across articles: every recorded model's shown run first, then the
    stages that read it alone (the analysis is an article's longest), then the other runs and
    the graphs, and each article's remaining stages once its own tasks are done."""
    from ..model.workers import Task

    tasks = [task for a in computing for task in ahead[a.slug]]
    tasks += [Task(f"export:{f.__qualname__}{args}", exports.store, (f, args, cache), rank=2) for f, args in graphs]
    for a in computing:
        needs = tuple(task.name for task in ahead[a.slug])
        tasks.append(Task(a.slug, article_pipeline, (a, cache, stages_keys[a.slug], 1), needs, rank=3))
    return tasks


def little_to_train(articles: list[Article], ahead: dict) -> bool:
    """Whether the runs to train see fewer than PARALLEL_WORK examples in all (from the data's
    description: data.limit, or a folder's images; thousands of them is not little)."""
    from ..model.sources import held_out_counts

    work = 0
    for article in articles:
        data = article.config["data"]
        counts = None if data["limit"] else held_out_counts(data, article.source)[0]
        if not data["limit"] and counts is None:
            return False
        examples = data["limit"] or counts.sum() * (1 - data["test_fraction"]) / data["test_fraction"]
        for task in ahead[article.slug]:
            if task.name.split(":")[1].startswith("train/"):
                work += examples * article.specs[task.name.split("/")[1]].train["epochs"]
    return work < PARALLEL_WORK


def inputs(article: Article):
    from ..model.orchestrator import Inputs

    return Inputs(article.slug, article.config, article.specs, article.source)


def on_gpu(articles: list[Article]) -> bool:
    from ..model.train import pick_device

    return any(pick_device(spec.train["device"]).type != "cpu" for a in articles for spec in a.specs.values())


def release_workers() -> None:
    """The manifold probe's worker processes (joblib's loky), if a build started them: idle, they
    hold 600 MB each, and a process stopped while they live warns of their leftovers. The command
    line and serve call it after their builds (tests keep the workers for the next build)."""
    loky = sys.modules.get("joblib.externals.loky")
    if loky is not None:
        loky.get_reusable_executor().shutdown(wait=True)


def wrote_line(articles: int, one_is_the_index: bool, out: str, seconds: float) -> str:
    """The build's last line; 'and the index' only where the index is a page of its own (a new
    project's one article is its index: there was no other)."""
    index = "" if one_is_the_index else " and the index"
    return f"wrote {articles} article(s){index} to {out}/ in {seconds:.1f} s"


def report(articles: list[Article], results: dict, pages: list, config: dict, timings: dict) -> None:
    width = max([10, *(len(article.slug) for article in articles)])
    first = {}  # a pipeline's key -> the first article that said its models
    for article in articles:
        key = getattr(results[article.slug], "key", None)
        if key is not None and key in first:  # one pipeline for both: its models were not trained twice
            print(f"{article.slug:>{width}} {'':>12}  the same models as {first[key]} (one pipeline)")
            continue
        first.setdefault(key, article.slug)
        for name, described in results[article.slug].models.items():
            print(
                f"{article.slug:>{width}} {name:>12}: held-out accuracy "
                f"{described.metrics['test_accuracy']:.2%} ({described.origin})"
            )
    from ..model.pipeline import stage_line

    print(stage_line("site", "render", timings["render"]))  # each article's stages said theirs as they ended
    external = sorted({href for page in pages for _, href in page.external_links})
    if external:
        print(f"external links (left alone, not checked): {', '.join(external)}")
    print(wrote_line(len(pages), any(a.is_index for a in articles), config["out"], timings["total"]))
