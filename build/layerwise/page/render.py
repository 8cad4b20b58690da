"""Pages + vendored web assets -> site/, swapped in whole at the end.

Everything is written into a fresh sibling folder first; only when every page rendered does it
replace site/. A failed build therefore leaves the previous site/ exactly as it was (a full disk
included), and the folders a killed build left beside it are removed by the next one. Files an
author keeps in content/static/ are copied as they are. Every file is world-readable, as a
static host serving it as another user needs, and none is shared with the cache.
"""

import base64
import dataclasses
import datetime
import functools
import gzip
import hashlib
import html
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import jinja2

from ..assets import RUNTIME_WASM, VENDORED
from ..cache import Cache, cache_key, code_hash
from ..config import template_folders
from ..contract import ON_DEMAND, SITE_FILES, page_contract, site_path
from ..errors import CANNOT_WRITE, BuildError, cannot_write
from . import figures
from .content import ArticleInputs, CompiledTemplates, load_glossary, render_pages
from .figures.atlas import atlas_numbers
from .figures.attribution import attribution_numbers


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


def check_output(out: Path) -> None:
    """Say before anything trains if the site cannot be written: a build writes a folder beside
    `out` and renames it into place, so out's parent must take a new folder, and `out` (if it is
    there) must be a writable folder that can be renamed (a mount point cannot)."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.probe-"))
    except OSError as e:
        e.filename = None  # the probe's random name would tell the user nothing
        raise cannot_write(e, out.parent) from None
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out} is a file, not a folder; the site is a folder: choose another --out")
    if os.path.ismount(out):
        raise BuildError(f"{out}/ is a mount point; a build replaces the site's folder whole: choose --out {out}/site")
    if out.exists() and not os.access(out, os.W_OK):
        raise BuildError(f"{out}/ is read-only; make it writable (chmod u+w), or choose another --out")


def swap_in(new: Path, out: Path) -> None:
    """Replace `out` by `new` with two renames, so `out` is never half-written."""
    old = out.with_name(f"{out.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(new, out)
    except OSError:
        if old.exists():
            os.replace(old, out)  # the previous site back in place
        raise
    shutil.rmtree(old, ignore_errors=True)


def make_readable(folder: Path) -> None:
    """Files 0644 and folders 0755 whatever the umask (a temporary file is written 0600): a
    static host or web server running as another user must be able to read the site."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header, so the page reserves the picture's space."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@dataclasses.dataclass
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
    image_alt: str  # what the thumbnail shows, for a share card
    dataset: str  # what the article's figures show: the byline's "Data"
    models: int  # the models its build trained for it (0 where its figures draw data of their own)


def own_data(page) -> list:
    """What an article's figures draw where every one draws data of its own (a playground's
    points), not the article's dataset: [OwnData]; else [] (an article without figures too)."""
    return page.shown if page.shown and all(page.shown) else []


def thumbnail(page, result, cache: Cache) -> bytes:
    """The article's picture (index card, share image): its figures' own data where they draw
    only that (drawn once per data and code: a content-only rebuild imports no PIL for it), else
    the build's held-out examples of its dataset."""
    own = own_data(page)
    if not own:
        return result.files[site_path("thumbnail")]
    key = cache_key("own data", [d.identity for d in own], code_hash("page.figures"))
    return cache.get_or_compute("figures", key, lambda: figures.own_data_png(own))


def card(article, result, page, picture: bytes) -> Card:
    """`picture`: its thumbnail's bytes (thumbnail())."""
    meta, own, data = article.meta, own_data(page), result.dataset
    dataset = figures.own_data_said(own) if own else f"{data.name}, {data.n_train + data.n_test:,} {data.noun}s"
    return Card(
        url=article.url,
        title=str(meta.get("title", article.slug)),
        description=str(meta.get("description", "")),
        date=str(meta.get("date", "")),
        updated=str(meta.get("date") or datetime.date.fromtimestamp(article.path.stat().st_mtime)),
        authors=[a["name"] if isinstance(a, dict) else a for a in meta.get("authors", [])],
        image=f"{article.slug}/{site_path('thumbnail')}",
        image_size=png_size(picture),
        image_alt=f"What its figures draw, {dataset}" if own else f"One held-out example of each class of {dataset}",
        dataset=dataset,
        models=0 if own else len(result.models),
    )


def result_functions(result, remember: Callable) -> dict:
    """Functions prose and claims may call that compute from this article's result with a
    figure's code: atlas("relu3").pure, integrated_gradients("cnn", "7", "1").upper_share."""
    return {"atlas": atlas_numbers(result, remember), "integrated_gradients": attribution_numbers(result, remember)}


def prose_memory(cache: Cache) -> Callable:
    """remember(figure, arguments, compute): a value prose computes with a figure's code (the
    playground's PyTorch runs), cached by the arguments and that code."""

    def remember(figure: str, arguments, compute):
        key = cache_key(figure, arguments, code_hash(f"page.figures.{figure}"))
        return cache.get_or_compute("prose", key, compute)

    return remember


def figure_drawer(cache: Cache, result) -> Callable:
    """Figures drawn from `result`, cached by its key, the options and the figure's code: a
    content-only rebuild draws none again (Plotly's figures took most of a rebuild)."""

    def draw(name: str, figure, options: dict) -> str:
        module = sys.modules[figure.render.__module__]
        key = cache_key(result.key, name, options, code_hash(module, figures, "page.figures.still"))
        return cache.get_or_compute("figures", key, lambda: figure.render(result, **options))

    return draw


PLOTLY_DATA = re.compile(r'<div class="plotly-figure" data-plotly="([^"]*)"([^>]*)></div>')  # figures.plotly_html
STILL = re.compile(r' data-still="([^"]*)"')
INLINE_GRAPH = re.compile(r' data-inline-graph-(\w+)="([^"]*)"')  # an ONNX graph a widget runs (figures/playground.py)


def externalise_figures(page_html: str, folder: str) -> tuple[str, dict[str, bytes]]:
    """Each Plotly figure's data moves out of the page into its own file, fetched when the
    figure nears the viewport: the page's text arrives first. The figure keeps its final height
    (no layout shift) and says in words why it is blank where it cannot be drawn, above a still
    picture of it where the figure has one (pictures and scatters: no table of numbers helps)."""
    files = {}

    def written(kind: str, data: bytes) -> str:
        relative = site_path(kind, digest=hashlib.sha256(data).hexdigest()[:16])
        files[relative] = data
        return folder + relative

    def move(match: re.Match) -> str:
        data = html.unescape(match.group(1)).encode()
        height = json.loads(data).get("layout", {}).get("height") or 450  # Plotly's default
        picture, attributes = "", match.group(2)
        if still := STILL.search(attributes):
            attributes = STILL.sub("", attributes)
            source = written("still", base64.b64decode(still.group(1)))
            picture = f' Drawn by the build:<img class="figure-still" src="{source}" alt="" loading="lazy">'
        return (
            f'<div class="plotly-figure" data-src="{written("figure", data)}" style="height: {height}px"{attributes}>'
            f"{figures.fallback(picture=picture, until_script=False)}</div>"
        )

    def graph(match: re.Match) -> str:
        return f' data-graph-{match.group(1)}="{written("graph", base64.b64decode(match.group(2)))}"'

    return INLINE_GRAPH.sub(graph, PLOTLY_DATA.sub(move, page_html)), files


# Files a static host may send compressed: text, and the binary data that compresses well.
TEXT = {".html", ".css", ".js", ".mjs", ".json", ".xml", ".svg"}
COMPRESSIBLE = TEXT | {".wasm", ".onnx", ".f16", ".f32", ".u8", ".ttf"}


def compressed(data: bytes, text: bool) -> tuple[bytes, bytes]:
    """(gzip, brotli) of `data`. Brotli's best setting only for small text: on the default
    site's 29 MB of binary data (the wasm, layers, models) it takes 71 s for 5% less than
    setting 5 in 0.5 s; on a 140 kB page or plotly.min.js, 9 is ten times quicker than 11."""
    import brotli

    quality = (11 if len(data) < 64_000 else 9) if text else 5
    return gzip.compress(data, 9 if text else 6, mtime=0), brotli.compress(data, quality=quality)


def precompress(folder: Path, cache: Cache, previous: Path | None = None) -> None:
    """NAME.gz and NAME.br beside each compressible file of 1 KB or more, for static hosts that
    serve them (and `layerwise serve`). They are cached by the content's hash, checksummed like
    every entry (a damaged one is reported and recomputed), and copied into place: an unchanged
    file costs a hash, not a compression, and nothing done to the cache reaches a published file.
    A file the `previous` site (the one this build replaces) had with the same bytes takes that
    site's NAME.gz and NAME.br as they are: a rebuild after an edit reads no compressed copy of
    what did not change from the cache, and writes none (a quarter of that rebuild's time)."""
    for path in list(folder.rglob("*")):
        if path.suffix not in COMPRESSIBLE or not path.is_file() or path.stat().st_size < 1024:
            continue
        before = previous / path.relative_to(folder) if previous is not None else None
        if before is not None and linked(path, before) and reused_compressed(path, None, before):
            continue
        data, text = path.read_bytes(), path.suffix in TEXT
        if before is not None and reused_compressed(path, data, before):
            continue
        key = hashlib.sha256(data).hexdigest()[:24]
        packed = cache.get_or_compute("compressed", key, functools.partial(compressed, data, text))
        for suffix, blob in zip((".gz", ".br"), packed):
            if len(blob) < 0.95 * len(data):
                path.with_name(path.name + suffix).write_bytes(blob)


def linked(path: Path, before: Path) -> bool:
    """Whether `path` is the previous site's `before` itself (write_or_link linked it)."""
    try:
        return os.path.samefile(path, before)
    except OSError:
        return False


def reused_compressed(path: Path, data: bytes | None, before: Path) -> bool:
    """Whether `before` (the previous site's copy of `path`) held `data` (None: it is `path`'s
    very file); its NAME.gz and NAME.br (where it had them: too little gain, none) are then linked
    beside `path`. A link shares no file with the cache, and the previous site is removed once
    this one is in place."""
    targets = {suffix: path.with_name(path.name + suffix) for suffix in (".gz", ".br")}
    if any(target.exists() for target in targets.values()):  # an author's own, from content/static
        return False
    try:
        if data is not None and (before.stat().st_size != len(data) or before.read_bytes() != data):
            return False
    except OSError:  # no such file before, or one that cannot be read: compress as usual
        return False
    for suffix, target in targets.items():
        packed = before.with_name(before.name + suffix)
        if packed.is_file():
            try:
                os.link(packed, target)
            except OSError:  # a file system without hard links
                shutil.copyfile(packed, target)
    return True


def render_site(config: dict, settings, articles: list, results: dict, out: Path, live_reload: bool = False) -> list:
    """Every article (each with its own BuildResult), the index, the feed, the vendored assets
    once, and each article's files under its own folder; swapped in whole."""
    out = Path(out)
    content, templates = Path(config["content"]), template_folders(config)
    node_modules = Path(config["node_modules"])
    remove_leftovers(out)
    new = out.with_name(f"{out.name}.new-{os.getpid()}")
    shutil.rmtree(new, ignore_errors=True)
    cache = Cache(config["cache"])
    try:
        glossary = load_glossary(content / "glossary.yml")
        sites = article_inputs(articles, results, glossary, cache, content, node_modules)
        pages = render_pages([(a.path, a.slug, a.url, sites[a.slug]) for a in articles], cache)
        pictures = [thumbnail(page, results[a.slug], cache) for a, page in zip(articles, pages)]
        cards = [card(a, results[a.slug], page, picture) for a, page, picture in zip(articles, pages, pictures)]
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates),
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            bytecode_cache=CompiledTemplates(cache, "site"),
        )
        wasm = node_modules / RUNTIME_WASM  # if missing, copy_vendored below says what to do
        runtime_bytes = wasm.stat().st_size if wasm.exists() else 0
        shared = {"site": settings, "cards": cards, "live_reload": live_reload, "feed": SITE_FILES["feed"]}
        new.mkdir(parents=True)
        replaced = out if out.is_dir() else None  # the previous site: what did not change is linked from it
        if (content / "static").is_dir():
            shutil.copytree(content / "static", new, dirs_exist_ok=True)
        for i, (article, page) in enumerate(zip(articles, pages)):
            around = {
                "card": cards[i],
                "previous": cards[i - 1] if i > 0 else None,
                "others": cards[:i] + cards[i + 1 :],
            }
            around["next"] = cards[i + 1] if i + 1 < len(cards) else None
            contract = page_contract(
                results[article.slug],
                f"{article.slug}/",
                runtime_bytes,
                sites[article.slug].glossary,
                figures.link_schema(),
            )
            write_article(
                new,
                env,
                article,
                page,
                results[article.slug],
                pictures[i],
                replaced,
                contract=contract,
                **around,
                **shared,
            )
        if not any(a.is_index for a in articles):
            (new / SITE_FILES["index"]).write_text(env.get_template("index.html.j2").render(**shared))
        (new / SITE_FILES["feed"]).write_text(
            env.get_template("feed.xml.j2").render(updated=max(c.updated for c in cards), **shared)
        )
        copy_vendored(node_modules, new / "vendor")
        copy_modules(templates, new / "assets", live_reload)
        precompress(new, cache, replaced)
        make_readable(new)
        swap_in(new, out)
    except BaseException as e:
        shutil.rmtree(new, ignore_errors=True)
        if isinstance(e, OSError) and e.errno in CANNOT_WRITE:  # a full disk, say: the user's to fix
            raise cannot_write(e, out, renamed=(new, out)) from None
        raise
    return pages


def article_inputs(
    articles: list, results: dict, glossary: dict, cache: Cache, content: Path, node_modules: Path
) -> dict:
    """What rendering each article needs: its build values (and every article's, which prose may
    quote), the glossary, and its figures drawn through the cache."""
    every = {a.slug: results[a.slug].values() for a in articles}
    remember = prose_memory(cache)
    return {
        a.slug: ArticleInputs(
            {**every[a.slug], "articles": every, "remember": remember, **result_functions(results[a.slug], remember)},
            results[a.slug],
            glossary,
            content,
            node_modules,
            figure_drawer(cache, results[a.slug]) if results[a.slug].key else None,
        )
        for a in articles
    }


def write_article(
    new: Path, env, article, page, result, picture: bytes, replaced: Path | None = None, **context
) -> None:
    """One article's page, and its files under its own folder (an on-demand file only where its
    widget is on the page), `picture` its thumbnail; a file the `replaced` site held with the
    same bytes is linked."""
    body, figure_files = externalise_figures(page.html, f"{article.slug}/")
    html_page = env.get_template("page.html.j2").render(
        page=dataclasses.replace(page, html=body), meta=page.meta, **context
    )
    (new / page.url).write_text(html_page)
    unread = {site_path(kind) for kind, widget in ON_DEMAND.items() if widget not in page.widgets}
    for relative, content_bytes in {**result.files, **figure_files, site_path("thumbnail"): picture}.items():
        if relative not in unread:
            (new / article.slug / relative).parent.mkdir(parents=True, exist_ok=True)
            before = replaced and replaced / article.slug / relative
            write_or_link(new / article.slug / relative, content_bytes, before)


def write_or_link(path: Path, data: bytes, before: Path | None) -> None:
    """`data` at `path`, or a hard link to `before` (the previous site's copy) where that holds the
    same bytes: a rebuild writes, and then deletes with the old site, only what changed (the
    default site's 140 MB were a fifth of a content-only rebuild). The previous site is removed
    once this one is in place: no published file stays shared."""
    try:
        if before is not None and before.stat().st_size == len(data) and before.read_bytes() == data:
            os.link(before, path)
            return
    except OSError:  # nothing there before, or no hard links on this file system: written
        pass
    path.write_bytes(data)


def copy_modules(templates: list, assets: Path, live_reload: bool) -> None:
    """The page's ES modules, the project's own templates/ last so that they win. The CSS is
    inlined in each page (base.html.j2); live-reload.js only where serve reloads."""
    assets.mkdir()
    for asset in reversed([a for folder in templates for a in folder.iterdir()]):
        if asset.suffix == ".js" and (live_reload or asset.name != "live-reload.js"):
            shutil.copy2(asset, assets / asset.name)
