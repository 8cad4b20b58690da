"""Pages + vendored web assets -> site/, swapped in whole at the end.

Everything is written into a fresh sibling folder first; only when every page rendered does it
replace site/. A failed build therefore leaves the previous site/ exactly as it was, and the
folders a killed build left beside it are removed by the next one. Files an author keeps in
content/static/ are copied as they are.
"""

import os
import shutil
from pathlib import Path

import jinja2

from .content import Site, load_glossary, read_text, render_page
from .contract import page_contract

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


def render_site(config: dict, result, out: Path, live_reload: bool = False) -> list:
    out = Path(out)
    content, templates = Path(config["content"]), Path(config["templates"])
    node_modules = Path(config["node_modules"])
    remove_leftovers(out)
    new = out.with_name(f"{out.name}.new-{os.getpid()}")
    shutil.rmtree(new, ignore_errors=True)
    try:
        site = Site(result.values(), result, load_glossary(content / "glossary.yml"), content, node_modules)
        pages = [render_page(path, read_text(path), site) for path in sorted(content.glob("*.md"))]
        if not pages:
            raise FileNotFoundError(f"{content}/ has no .md files: write the article there (e.g. index.md)")

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates), undefined=jinja2.StrictUndefined, autoescape=True
        )
        page_template = env.get_template("page.html.j2")
        wasm = node_modules / RUNTIME_WASM  # if missing, copy_vendored below says what to do
        contract = page_contract(result, wasm.stat().st_size if wasm.exists() else 0)
        new.mkdir(parents=True)
        if (content / "static").is_dir():
            shutil.copytree(content / "static", new, dirs_exist_ok=True)
        for page in pages:
            html = page_template.render(
                page=page, meta=page.meta, pages=pages, live_reload=live_reload, contract=contract
            )
            (new / f"{page.slug}.html").write_text(html)

        copy_vendored(node_modules, new / "vendor")
        assets = new / "assets"
        assets.mkdir()
        for asset in templates.iterdir():
            if asset.suffix in (".js", ".css") and (live_reload or asset.name != "live-reload.js"):
                shutil.copy2(asset, assets / asset.name)
        for relative, content_bytes in result.files.items():
            (new / relative).parent.mkdir(parents=True, exist_ok=True)
            (new / relative).write_bytes(content_bytes)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    swap_in(new, out)
    return pages
