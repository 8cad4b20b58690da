"""Shared fixtures: one small real build for the whole session, and a real Chromium."""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from layerwise.config import load_config, merge
from layerwise.page.articles import plan_site
from layerwise.page.render import render_site
from layerwise.tools.bench import launch
from layerwise.tools.build import build
from layerwise.tools.serve import static_server

# The suite's parallelism is its workers (pyproject.toml): torch's second thread in each of them
# only spins waiting for a core another worker holds (10 s of CPU in the session's build alone).
# Nothing above imports torch: it reads the variable when a test first imports it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Four workers share two cores with Chromium's own processes: a page's lazy figure can take
# longer than Playwright's 5 s to appear while a build trains beside it. A real failure still fails.
expect.set_options(timeout=15_000)

serving = static_server  # the project's one static server, as `layerwise serve` runs it

ROOT = Path(__file__).resolve().parent.parent


QUICK = {
    "train": {"epochs": 2, "seeds": 1},
    "models": {"cnn": {"train": {"seeds": 1}}},
    "record": {"sample_size": 500},  # the Grand Tour and the manifold analysis: half the default
    # The layers the article quotes, under PCA only: t-SNE and UMAP cost the suite 8 s and 10 s
    # (numba's compilation) and are tested on their own (the benchmark's build runs all three).
    "analysis": {"layers": ["input", "relu3"], "methods": ["pca"]},
}
# Laid over every article's own settings: QUICK but the analysed layers, which name the image
# models' layers (an article of other models, content/languages.toml, names its own).
EVERY_ARTICLE = {**QUICK, "analysis": {"methods": ["pca"]}}


def files_held_whole() -> set[str]:
    """The test files that hold module fixtures: each goes to one worker whole (built once, not
    once per worker)."""
    return {p.name for p in Path(__file__).parent.glob("test_*.py") if 'scope="module"' in p.read_text()}


def pytest_xdist_make_scheduler(config, log):
    """Whole files to one worker where they hold module fixtures; every other test on its own to
    whichever worker is free. (xdist's loadgroup would say this with marks, but its marks are
    lost under pytest 9.)"""
    from xdist.scheduler import LoadScopeScheduling

    whole = files_held_whole()

    class ByModuleFixtures(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::")[0]
            return file if Path(file).name in whole else nodeid

    return ByModuleFixtures(config, log)


def pytest_collection_modifyitems(items):
    """One test that needs the session's build first (its worker starts the build at once), then
    every test that needs no such build, then the rest: the other workers run tests of their
    own while the build trains, rather than wait for its lock. A file that goes to a worker whole
    waits with the rest if any of its tests needs the build (else its worker would sit on the
    lock with the file's other tests undone)."""
    whole = files_held_whole()

    def needs_build(item) -> bool:
        return "site_build" in getattr(item, "fixturenames", ())

    waiting = {item.path.name for item in items if needs_build(item) and item.path.name in whole}
    first = next((item for item in items if needs_build(item) and item.path.name not in whole), None)
    items.sort(key=lambda item: 0 if item is first else 2 if needs_build(item) or item.path.name in waiting else 1)


def small_config(tmp: Path, **overrides) -> dict:
    """The default models on 1,000 digits for 2 epochs: real, but quick. Articles with settings
    of their own (content/fashion.md) get the same epochs, seeds and analysis."""
    config = load_config(
        content=str(ROOT / "content"),
        templates=str(ROOT / "templates"),
        node_modules=str(ROOT / "node_modules"),
        cache=str(tmp / "cache"),
        out=str(tmp / "site"),
        **overrides,
    )
    config["data"]["limit"] = 1000
    config["every_article"] = EVERY_ARTICLE
    return merge(config, QUICK)


@pytest.fixture(scope="session")
def site_build(tmp_path_factory, worker_id):
    """A real build of the real site (both articles) into a temporary site/: (config, {article:
    BuildResult}). Every training digit for 2 epochs: good enough to read a drawn 0 and 1, and
    the articles' claims hold (each is checked when its article renders)."""
    tmp = tmp_path_factory.mktemp("build")
    config = small_config(tmp)
    config["data"]["limit"] = 0
    # One cache for every worker of the run: the first trains, the others wait for its lock
    # (cache.locked) and find its work; each renders its own site/.
    base = tmp_path_factory.getbasetemp()
    config["cache"] = str((base.parent if worker_id != "master" else base) / "session-cache")
    results, _ = build(config)
    return config, results


@pytest.fixture(scope="session")
def built(site_build):
    """The MNIST article's part of the session's build: (config, BuildResult)."""
    config, results = site_build
    return config, results["mnist"]


def build_into(config: dict):
    """`layerwise build` for a site of one article; returns its BuildResult."""
    results, _ = build(config)
    (result,) = results.values()
    return result


def toml_text(tables: dict, prefix: str = "") -> str:
    """Simple settings as TOML: scalars and lists as JSON (valid TOML for these), tables as headers."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in tables.items() if not isinstance(v, dict)]
    for name, table in tables.items():
        if isinstance(table, dict):
            lines += [f"[{prefix}{name}]", toml_text(table, f"{prefix}{name}.")]
    return "\n".join(lines)


def render_with(config: dict, result) -> None:
    """Render config's content with every article reading `result` (or its own, given a dict of
    them by article) without running a pipeline."""
    settings, articles = plan_site(config)
    results = result if isinstance(result, dict) else {a.slug: result for a in articles}
    render_site(config, settings, articles, results, Path(config["out"]))


@pytest.fixture(scope="session")
def server(built):
    with serving(built[0]["out"]) as url:
        yield url


# Debian's chromium-headless-shell: the same Chromium (version, V8, Blink, onnxruntime-web's wasm,
# SwiftShader's WebGL) without the full browser's UI processes; a page load costs about half the
# CPU, and the suite's ~150 of them were half its CPU. The bench measures in the full browser.
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver a worker, for both browsers (a second in one thread is refused)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's Chromium, headless (its headless shell, which `make test` installs), launched as the bench does."""
    browser = launch(playwright, HEADLESS_SHELL)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def full_browser(playwright):
    """Debian's full Chromium, for what its headless shell does otherwise: the shell fetches a
    `loading="lazy"` image at once, the browser readers use waits until it is near."""
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and every request that leaves this machine."""
    yield from watched_page(browser)


@pytest.fixture
def full_page(full_browser):
    """`page`, in the full Chromium."""
    yield from watched_page(full_browser)


def watched_page(browser):
    page = browser.new_page()
    page.console_errors, page.foreign_requests, page.requested = [], [], []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))

    def on_request(request):
        page.requested.append(request.url)
        if not request.url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            page.foreign_requests.append(request.url)

    page.on("request", on_request)
    yield page
    page.close()


def detail_arithmetic(page, model: str, pixels) -> dict:
    """{layer: [(flat index, the detail view's arithmetic, onnxruntime-web's value), ...]} at five
    places of every shown layer of `model`, on one example, in the page (its explorer runs it)."""
    return page.evaluate(
        """async ([model, pixels]) => {
        const { arithmetic, stepWeights } = await import('./assets/detail-arithmetic.js');
        const explorers = await Promise.all(window.layerwise.explorers);
        const explorer = explorers.find((e) => e.root.dataset.model === model);
        const image = Float32Array.from(pixels), tensors = { image, ...(await explorer.run(image)) };
        const contract = JSON.parse(document.getElementById('layerwise-contract').textContent);
        const found = {};
        for (const layer of contract.models[model].layers) {
            const size = tensors[layer.name].length, weights = await stepWeights(model, layer.step);
            const inputs = layer.step.reads.map((r) => tensors[r]);
            found[layer.name] = [0, size - 1, size >> 1, (size * 7) >> 3, Math.floor(size / 3)].map((at) =>
                [at, arithmetic(layer.step, inputs, weights, at)?.value ?? null, tensors[layer.name][at]]);
        }
        return found;
    }""",
        [model, list(map(float, pixels))],
    )


def assert_detail_matches(found: dict, torch_outputs: dict | None = None) -> None:
    """Each layer's detail arithmetic equals onnxruntime-web's value and PyTorch's (<= 1e-5)."""
    for name, places in found.items():
        for at, arithmetic, in_page in places:
            assert arithmetic is not None, f"{name}: no arithmetic for its step"
            assert abs(arithmetic - in_page) <= 1e-5, (name, at, arithmetic, in_page)
            if torch_outputs is not None:
                assert abs(arithmetic - float(torch_outputs[name].ravel()[at])) <= 1e-5, (name, at)
