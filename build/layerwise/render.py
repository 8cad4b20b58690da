"""Pages + vendored web assets -> site/, swapped in whole at the end.

Everything is written into a fresh sibling folder first; only when every page rendered does it
replace site/. A failed build therefore leaves the previous site/ exactly as it was, and the
folders a killed build left beside it are removed by the next one. Files an author keeps in
content/static/ are copied as they are.
"""

import datetime
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import figures
from .cache import Cache, cache_key, code_hash
from .content import Site, load_glossary, render_pages
from .contract import SITE_FILES, page_contract, site_path

RUNTIME_WASM = "onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"
# npm file -> path under site/vendor/. Only these are shipped; nothing loads from another origin.
VENDORED = {
    "plotly.js-cartesian-dist-min/plotly-cartesian.min.js": "plotly.min.js",
    "onnxruntime-web/dist/ort.wasm.min.mjs": "ort/ort.wasm.min.mjs",
    "onnxruntime-web/dist/ort-wasm-simd-threaded.mjs": "ort/ort-wasm-simd-threaded.mjs",
    RUNTIME_WASM: "ort/ort-wasm-simd-threaded.wasm",
    "katex/dist/katex.min.css": "katex/katex.min.css",
    "katex/dist/fonts": "katex/fonts",
}


def copy_vendored(node_modules: Path, vendor: Path) -> None:
    for source, target in VENDORED.items():
        src, dst = node_modules / source, vendor / target
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `npm ci` in the project root")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(out: Path) -> None:
    """site.new-PID / site.old-PID folders of builds that were killed before they finished."""
    for leftover in [*out.parent.glob(f"{out.name}.new-*"), *out.parent.glob(f"{out.name}.old-*")]:
        pid = leftover.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def swap_in(new: Path, out: Path) -> None:
    """Replace `out` by `new` with two renames, so `out` is never half-written."""
    old = out.with_name(f"{out.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header, so the page reserves the picture's space."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@dataclass
class Card:
    """An article as the index, the navigation and the feed show it."""

    url: str
    title: str
    description: str
    date: str  # as the front matter gives it ("" if none)
    updated: str  # the date for the feed: the front matter's, else the file's last change
    authors: list[str]
    image: str  # its thumbnail under site/
    image_size: tuple[int, int]
    dataset: str
    models: int


def card(article, result) -> Card:
    meta = article.meta
    thumbnail = f"{article.slug}/{site_path('thumbnail')}"
    return Card(
        url=article.url,
        title=str(meta.get("title", article.slug)),
        description=str(meta.get("description", "")),
        date=str(meta.get("date", "")),
        updated=str(meta.get("date") or datetime.date.fromtimestamp(article.path.stat().st_mtime)),
        authors=[a["name"] if isinstance(a, dict) else a for a in meta.get("authors", [])],
        image=thumbnail,
        image_size=png_size(result.files[site_path("thumbnail")]),
        dataset=f"{result.dataset.name}, {result.dataset.n_train + result.dataset.n_test:,} {result.dataset.noun}s",
        models=len(result.models),
    )


def figure_drawer(cache: Cache, result) -> Callable:
    """Figures drawn from `result`, cached by its key, the options and the figure's code: a
    content-only rebuild draws none again (Plotly's figures took most of a rebuild)."""

    def draw(name: str, figure, options: dict) -> str:
        module = sys.modules[figure.render.__module__]
        key = cache_key(result.key, name, options, code_hash(module, figures))
        return cache.get_or_compute("figures", key, lambda: figure.render(result, **options))

    return draw


def render_site(config: dict, settings, articles: list, results: dict, out: Path, live_reload: bool = False) -> list:
    """Every article (each with its own BuildResult), the index, the feed, the vendored assets
    once, and each article's files under its own folder; swapped in whole."""
    out = Path(out)
    content, templates = Path(config["content"]), Path(config["templates"])
    node_modules = Path(config["node_modules"])
    remove_leftovers(out)
    new = out.with_name(f"{out.name}.new-{os.getpid()}")
    shutil.rmtree(new, ignore_errors=True)
    cache = Cache(config["cache"])
    try:
        glossary = load_glossary(content / "glossary.yml")
        every = {a.slug: results[a.slug].values() for a in articles}  # prose may quote another article
        sites = {
            a.slug: Site(
                {**every[a.slug], "articles": every},
                results[a.slug],
                glossary,
                content,
                node_modules,
                figure_drawer(cache, results[a.slug]) if results[a.slug].key else None,
            )
            for a in articles
        }
        pages = render_pages([(a.path, a.slug, a.url, sites[a.slug]) for a in articles])
        cards = [card(a, results[a.slug]) for a in articles]
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates), undefined=jinja2.StrictUndefined, autoescape=True
        )
        wasm = node_modules / RUNTIME_WASM  # if missing, copy_vendored below says what to do
        runtime_bytes = wasm.stat().st_size if wasm.exists() else 0
        shared = {"site": settings, "cards": cards, "live_reload": live_reload, "feed": SITE_FILES["feed"]}
        new.mkdir(parents=True)
        if (content / "static").is_dir():
            shutil.copytree(content / "static", new, dirs_exist_ok=True)
        for i, (article, page) in enumerate(zip(articles, pages)):
            result = results[article.slug]
            html = env.get_template("page.html.j2").render(
                page=page,
                meta=page.meta,
                card=cards[i],
                previous=cards[i - 1] if i > 0 else None,
                next=cards[i + 1] if i + 1 < len(cards) else None,
                others=[c for c in cards if c is not cards[i]],
                contract=page_contract(result, f"{article.slug}/", runtime_bytes),
                **shared,
            )
            (new / page.url).write_text(html)
            for relative, content_bytes in result.files.items():
                (new / article.slug / relative).parent.mkdir(parents=True, exist_ok=True)
                (new / article.slug / relative).write_bytes(content_bytes)
        if not any(a.is_index for a in articles):
            (new / SITE_FILES["index"]).write_text(env.get_template("index.html.j2").render(**shared))
        (new / SITE_FILES["feed"]).write_text(
            env.get_template("feed.xml.j2").render(updated=max(c.updated for c in cards), **shared)
        )
        copy_vendored(node_modules, new / "vendor")
        assets = new / "assets"
        assets.mkdir()
        for asset in templates.iterdir():
            if asset.suffix in (".js", ".css") and (live_reload or asset.name != "live-reload.js"):
                shutil.copy2(asset, assets / asset.name)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    swap_in(new, out)
    return pages
