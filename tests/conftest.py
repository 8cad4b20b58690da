"""Shared fixtures: one small real build for the whole session, and a real Chromium."""

from pathlib import Path

import pytest

from layerwise.bench import chromium
from layerwise.cache import Cache
from layerwise.config import load_config, validated
from layerwise.pipeline import run_pipeline
from layerwise.render import render_site
from layerwise.serve import static_server

serving = static_server  # the project's one static server, as `layerwise serve` runs it

ROOT = Path(__file__).resolve().parent.parent


def small_config(tmp: Path, **overrides) -> dict:
    """The default models on 1,000 digits for 2 epochs: real, but quick."""
    config = load_config(
        content=str(ROOT / "content"),
        templates=str(ROOT / "templates"),
        node_modules=str(ROOT / "node_modules"),
        cache=str(tmp / "cache"),
        out=str(tmp / "site"),
        **overrides,
    )
    config["data"]["limit"] = 1000
    config["train"]["epochs"] = 2
    config["train"]["seeds"] = 1
    # The layers the article quotes. PCA and t-SNE only: UMAP's numba compilation alone costs
    # the suite 10 s on a fresh machine (the benchmark's default build runs all three).
    config["analysis"]["layers"] = ["input", "relu3"]
    config["analysis"]["methods"] = ["pca", "tsne"]
    return config


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """A real build of the real article into a temporary site/: (config, pipeline data)."""
    tmp = tmp_path_factory.mktemp("build")
    config = small_config(tmp)
    # Every training digit for 2 epochs: good enough to read a drawn 0 and 1, and the article's
    # claims hold (each is checked when the article renders).
    config["data"]["limit"], config["train"]["epochs"] = 0, 2
    data = build_into(config)
    return config, data


def build_into(config: dict):
    """The pipeline and the render, as `layerwise build` runs them; returns the BuildResult."""
    result = run_pipeline(config, validated(config), Cache(config["cache"]))
    render_site(config, result, Path(config["out"]))
    return result


@pytest.fixture(scope="session")
def server(built):
    with serving(built[0]["out"]) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, as the benchmark launches it."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and every request that leaves this machine."""
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
