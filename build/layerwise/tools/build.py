"""One build of the whole site: plan the articles, check, run each article's pipeline (cached),
render every page. cli, serve and bench all call `build`; it imports none of them."""

import sys
import time
from pathlib import Path

from ..cache import Cache
from ..page.articles import Article, plan_site


def check_before_training(config: dict, articles: list[Article]) -> None:
    """The content's mistakes that need no trained model, found before any model trains: every
    page, with the links and references between them."""
    from ..page.content import ArticleInputs, load_glossary, render_pages
    from ..page.figures import Preview

    content, node_modules = Path(config["content"]), Path(config["node_modules"])
    glossary = load_glossary(content / "glossary.yml")

    def site(article: Article) -> ArticleInputs:  # what is known before training: model names, classes
        models = {name: None for name in article.specs}
        preview = Preview(
            models, {"model": article.config["record"]["model"]}, article.source.classes, article.source.kind
        )
        return ArticleInputs(None, preview, glossary, content, node_modules)

    render_pages([(a.path, a.slug, a.url, site(a)) for a in articles])


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
    from ..model.pipeline import run_pipeline, stage_keys
    from ..page.render import render_site

    timings: dict = {}
    start = time.perf_counter()
    memory = {} if memory is None else memory
    settings, articles = plan_site(config)
    cache = Cache(config["cache"])
    with cache.locked():
        stages_keys = {a.slug: stage_keys(a.config, a.specs, a.source) for a in articles}
        keys = {slug: found["pipeline"] for slug, found in stages_keys.items()}
        training = [a for a in articles if keys[a.slug] not in memory and not cache.has("pipeline", keys[a.slug])]
        if training:  # models would train: check the content and every model first
            check_before_training(config, articles)
            dry_run_models(training)
        results = {}
        for article in articles:
            key = keys[article.slug]
            if key not in memory:  # two articles with the same data, models and settings: once
                spent = timings.setdefault(article.slug, {})
                given = (article.source, article.slug, stages_keys[article.slug])
                memory[key] = run_pipeline(article.config, article.specs, cache, spent, *given)
            results[article.slug] = memory[key]
        render_start = time.perf_counter()
        pages = render_site(config, settings, articles, results, Path(config["out"]), live_reload)
    timings["render"] = time.perf_counter() - render_start
    timings["total"] = time.perf_counter() - start
    report(articles, results, pages, config, timings)
    return results, timings


def release_workers() -> None:
    """The manifold probe's worker processes (joblib's loky), if a build started them: idle, they
    hold 600 MB each, and a process stopped while they live warns of their leftovers. The command
    line and serve call it after their builds (tests keep the workers for the next build)."""
    loky = sys.modules.get("joblib.externals.loky")
    if loky is not None:
        loky.get_reusable_executor().shutdown(wait=True)


def report(articles: list[Article], results: dict, pages: list, config: dict, timings: dict) -> None:
    for article in articles:
        for name, described in results[article.slug].models.items():
            print(
                f"{article.slug:>10} {name:>12}: held-out accuracy "
                f"{described.metrics['test_accuracy']:.2%} ({described.origin})"
            )
    from ..model.pipeline import stage_line

    print(stage_line("site", "render", timings["render"]))  # each article's stages said theirs as they ended
    external = sorted({href for page in pages for _, href in page.external_links})
    if external:
        print(f"external links (left alone, not checked): {', '.join(external)}")
    print(f"wrote {len(pages)} article(s) and the index to {config['out']}/ in {timings['total']:.1f} s")
