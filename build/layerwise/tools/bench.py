"""layerwise bench: measure the build and the page, compare with the budget, report.

Never fails because a machine is slow: it prints each number next to its target, marked met or
missed, and writes the same as JSON and as a Markdown table.
"""

import contextlib
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..contract import site_path

# (result key, what, target, unit, better): the budget of shared/README.md and the issues; the
# attack's second is set here, so that its ten steps take seconds, not a minute.
BUDGET = [
    ("cold_build_s", "cold build of the default site, every article (a new process)", 240, "s", "lower"),
    ("image_articles_s", "cold build of the two image articles alone (MNIST, Fashion-MNIST)", 120, "s", "lower"),
    ("text_articles_s", "the two text articles' stages in that build (languages, transformer)", 90, "s", "lower"),
    ("rebuild_s", "rebuild after a one-line edit to content/ (a new process)", 1, "s", "lower"),
    ("first_load_gzip_bytes", "bytes before the first interaction (gzip)", 500_000, "B", "lower"),
    ("lighthouse_performance", "Lighthouse mobile: performance", 95, "", "higher"),
    ("lighthouse_accessibility", "Lighthouse mobile: accessibility", 100, "", "higher"),
    ("lighthouse_best_practices", "Lighthouse mobile: best practices", 100, "", "higher"),
    ("lighthouse_seo", "Lighthouse mobile: SEO", 100, "", "higher"),
    ("lighthouse_fcp_ms", "Lighthouse mobile: first contentful paint", 1500, "ms", "lower"),
    ("lighthouse_tbt_ms", "Lighthouse mobile: total blocking time", 150, "ms", "lower"),
    ("lighthouse_cls", "Lighthouse mobile: cumulative layout shift", 0.02, "", "lower"),
    ("axe_violations", "axe-core violations, fully scrolled, light and dark", 0, "", "lower"),
    ("inference_median_ms", "all-layer CNN inference in Chromium (median)", 1, "ms", "lower"),
    ("pointer_to_repaint_ms", "pointer event to the frame showing every layer (median)", 16, "ms", "lower"),
    ("pointer_to_painted_ms", "pointer event to layer views drawn (preprocess + inference + draw)", 16, "ms", "lower"),
    ("detail_open_ms", "click to the frame showing a layer's detail view (its data fetched)", 16, "ms", "lower"),
    ("detail_move_ms", "key to the frame showing the detail of the next position (median)", 16, "ms", "lower"),
    ("detail_slide_fps", "the detail view's sliding window (fps)", 60, "fps", "higher"),
    ("attack_step_ms", "one step of the reader's attack in the page (the exact gradient graph)", 1000, "ms", "lower"),
    ("saliency_ms", "attribution: saliency (gradient x input) in the page, the explorer's model", 10, "ms", "lower"),
    ("integrated_gradients_ms", "attribution: integrated gradients, 32 steps, in the page", 100, "ms", "lower"),
    ("occlusion_ms", "attribution: occlusion (4x4 squares, one batch of forward runs)", 200, "ms", "lower"),
    ("live_epoch_s", "softmax regression, one epoch at batch 64 in the page (live training)", 2, "s", "lower"),
    ("tour_fps_1000", "Grand Tour, 1,000 points, headless Chromium software GL (fps)", 60, "fps", "higher"),
    ("tour_fps_10000", "Grand Tour, 10,000 points (fps)", 55, "fps", "higher"),
    ("text_forward_ms", "text model: every layer over 64 tokens in Chromium (median)", 5, "ms", "lower"),
    ("text_generate_s", "text model: 200 characters generated in the page, one at a time, drawn", 2, "s", "lower"),
    ("text_model_bytes", "text model: its ONNX file", 1_000_000, "B", "lower"),
    ("playground_steps_per_s", "playground: training steps a second (6x8 tanh, batch 10), playing", 30, "/s", "higher"),
    (
        "playground_pictures_per_s",
        "playground: every neuron's heatmap and the output redrawn a second",
        30,
        "/s",
        "higher",
    ),
    ("lighthouse_playground_performance", "Lighthouse mobile: performance, the playground's article", 95, "", "higher"),
    ("lighthouse_text_performance", "Lighthouse mobile: performance, the next-token text article", 95, "", "higher"),
    ("parity_web_max_abs", "onnxruntime-web vs PyTorch, every layer (max abs diff)", 1e-5, "", "lower"),
    (
        "text_parity_web_max_abs",
        "onnxruntime-web vs PyTorch, every layer, the next-token text model",
        1e-5,
        "",
        "lower",
    ),
    ("cnn_test_accuracy", "CNN held-out accuracy (embedded digits)", 0.985, "", "higher"),
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
]


STAGE_LINE = re.compile(r"^\s*(\S+) stage (.+): ([\d.]+) s$", re.M)  # build.report's line per stage


def timed_build(config_path: Path) -> tuple[float, dict[str, float]]:
    """Wall time of `layerwise build` as a user runs it (a fresh process, imports included), and
    the stages it reported, as {"article: stage": seconds}."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "layerwise", "build", "--config", str(config_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    stages: dict[str, float] = {}
    for article, stage, t in STAGE_LINE.findall(done.stdout):  # a stage run twice (two seeds) adds up
        stages[f"{article}: {stage}"] = stages.get(f"{article}: {stage}", 0.0) + float(t)
    return seconds, stages


def measure_builds(work: Path, project: Path) -> dict:
    """Cold build in a fresh cache, split by stage; then a rebuild after a one-line edit."""
    from ..config import load_config
    from ..page.articles import plan_site
    from .build import build

    shutil.copytree(project / "content", work / "content")
    config_path = work / "layerwise.toml"
    config_path.write_text(
        f'content = "{work / "content"}"\ncache = "{work / "cache"}"\n'
        f'out = "{work / "site"}"\ntemplates = "{project / "templates"}"\n'
        f'node_modules = "{project / "node_modules"}"\n'
    )
    cold, stages = timed_build(config_path)
    article = work / "content" / "mnist.md"
    article.write_text(article.read_text().replace("A handwritten digit", "A hand-written digit", 1))
    rebuild, _ = timed_build(config_path)
    config = load_config(config_path)
    with contextlib.redirect_stdout(sys.stderr):
        results, timings = build(config)  # from the cache: the results the page is measured against
    _, articles = plan_site(config)
    return {
        "cold_build_s": cold,
        "image_articles_s": image_articles_build(work / "images", project),
        "rebuild_s": rebuild,
        "stages_s": stages,
        "article": articles[0],  # the first in reading order: the one the page measures
        "articles": articles,
        "data": results[articles[0].slug],
        "site": work / "site",
    }


IMAGE_ARTICLES = ("mnist", "fashion")  # #27's "today's two image articles"


def image_articles_build(work: Path, project: Path) -> float:
    """A cold build, in a fresh cache, of a site of the two image articles alone: their share of
    the default site's build, which runs articles side by side, cannot be read off its stages."""
    shutil.copytree(project / "content", work / "content")
    for page in (work / "content").glob("*.md"):
        if page.stem not in IMAGE_ARTICLES:
            page.unlink()
    config_path = work / "layerwise.toml"
    config_path.write_text(
        f'content = "{work / "content"}"\ncache = "{work / "cache"}"\n'
        f'out = "{work / "site"}"\ntemplates = "{project / "templates"}"\n'
        f'node_modules = "{project / "node_modules"}"\n'
    )
    return timed_build(config_path)[0]


def kind_of(url: str) -> str:
    suffix = url.rsplit("?", 1)[0].rsplit(".", 1)[-1]
    return {
        "mjs": "js",
        "json": "data",
        "f16": "data",
        "f32": "data",
        "u8": "data",
        "woff2": "font",
        "ttf": "font",
        "woff": "font",
    }.get(suffix, suffix)


class Traffic:
    """Every response the page receives, with raw and gzip sizes, split into before/after a mark."""

    def __init__(self, page):
        self.responses, self.marked = [], None
        page.on("requestfinished", self.add)

    def add(self, request):
        if not request.url.startswith(("http:", "https:")):  # a blob: or data: URL the page made: no transfer
            return
        response = request.response()
        if response is None:
            return
        try:
            body = response.body()
        except Exception:  # e.g. an event stream that never ends
            return
        self.responses.append((request.url, len(body), len(gzip.compress(body, 6))))

    def mark(self):
        self.marked = len(self.responses)

    def summary(self, responses) -> dict:
        by_kind: dict = {}
        for url, raw, packed in responses:
            entry = by_kind.setdefault(kind_of(url), {"raw": 0, "gzip": 0, "files": 0})
            entry["raw"] += raw
            entry["gzip"] += packed
            entry["files"] += 1
        return {"raw": sum(r for _, r, _ in responses), "gzip": sum(g for _, _, g in responses), "by_type": by_kind}


CHROMIUM = "/usr/bin/chromium"  # Debian's: what the bench measures pages in, and Lighthouse runs


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, as the bench measures pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


def launch(playwright, executable: str = CHROMIUM):
    """A headless Chromium from a running Playwright, with the bench's switches."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def measure_page(site: Path, article, result, browser, window_ms: int = 2000, samples: int = 60) -> dict:
    """Weight, timing, latency (medians of `samples` events), fps (each counted over
    `window_ms`) and parity of one built article's page, in a real Chromium."""
    from .serve import static_server

    with static_server(site) as url:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        results = measure_weight(page, f"{url}/{article.url}")
        results.update(measure_explorer(page, samples))
        results["attack_step_ms"] = measure_attack_step(page)
        results.update(measure_attribution(page))
        results["live_epoch_s"] = measure_live_epoch(page)
        results.update(measure_detail(page, window_ms, samples // 2))
        results.update(measure_tour(page, window_ms))
        results["parity"] = measure_parity(page, result, article)
        page.close()
    return results


# The page's side of each measure: a function of templates/bench-probes.js (shipped with the
# site's assets, loaded by no reader's page), called with every widget's API (window.layerwise).
PROBE = """async ([name, args]) => {
    const probes = await import(new URL('assets/bench-probes.js', document.baseURI).href);
    return probes[name](window.layerwise, ...args);
}"""


def probe(page, name: str, *args):
    """What bench-probes.js's `name` returns for this page, run in it."""
    return page.evaluate(PROBE, [name, list(args)])


def measure_text(browser, site: Path, articles: list, samples: int = 30) -> dict:
    """The first next-token text explorer's model in the page (templates/text-explorer.js):
    every layer over its context (64 tokens by default; a text of held-out examples) as the median
    of `samples` runs, after a second of them to warm up once the page is idle; 200 characters
    generated as a reader's press does; the ONNX file's size. {} where no article has one."""
    from .serve import static_server

    with static_server(site) as url:
        for article in articles:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{url}/{article.url}")
            if page.locator(".text-explorer").count() == 0:
                page.close()
                continue
            page.locator(".text-explorer").first.scroll_into_view_if_needed()
            page.wait_for_selector(".text-explorer[data-drawn]", timeout=60_000)
            page.wait_for_load_state("networkidle")  # the page's other figures drawn: the run has the thread
            model = page.locator(".text-explorer").first.get_attribute("data-model")
            found = probe(page, "textMs", samples)
            if found is None:  # a classifier: the rows are the next-token model's (#24's transformer)
                page.close()
                continue
            onnx = site / article.slug / site_path("model", model=model)
            found["parity"] = text_parity(page, article, model, onnx.read_bytes())
            page.close()
            return {
                "text_forward_ms": found["forward"],
                "text_generate_s": found["generate"],
                "text_model_bytes": onnx.stat().st_size,
                "text_parity_web_max_abs": found["parity"],
                "text_article": article,
            }
    return {}


def text_parity(page, article, model: str, onnx_bytes: bytes) -> float:
    """The largest difference, over every shown layer, between onnxruntime-web in the page and
    PyTorch (the model rebuilt from its layer lines with the exported weights) on a text of
    held-out examples, as long as the model's context."""
    import torch

    from ..model.sources.text import tokenize

    info = article.source.text
    text = page.evaluate(
        "async () => { const { info } = await window.layerwise['text-explorers'][0]; return info.examples.join(' '); }"
    )
    characters = (list(text) * (info.context // max(len(text), 1) + 1))[-info.context :]  # the page keeps the last
    web = probe(page, "textOutputs", "".join(characters))
    tokens = torch.tensor([tokenize("".join(characters), info.vocabulary, info.unknown)])  # (1, T)
    with torch.no_grad():
        expected = pytorch_twin(article, model, onnx_bytes).outputs(tokens)
    return max(float(np.abs(np.asarray(web[n]) - expected[n].numpy().ravel()).max()) for n in expected if n in web)


def pytorch_twin(article, model: str, onnx_bytes: bytes):
    """The article's model rebuilt in PyTorch from its layer lines with the exported weights (the
    page's parity is measured against it), in eval mode."""
    from ..model.export import weights_from_onnx
    from ..model.orchestrator import build_network

    network = build_network(article.specs[model], article.source)
    network.load_weights(weights_from_onnx(network.module, onnx_bytes))
    return network.eval()


def measure_playground(browser, site: Path, articles: list, ms: int = 3000) -> dict:
    """The first article with a playground: its rates while playing (bench-probes.js
    playgroundRates) on TensorFlow Playground's 6x8 tanh network at batch 10. {} if none."""
    from .serve import static_server

    with static_server(site) as url:
        for article in articles:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{url}/{article.url}")
            if page.locator(".playground").count():
                page.locator(".playground").first.scroll_into_view_if_needed()
                query = "layers=8,8,8,8,8,8&activation=tanh&batch=10"
                found = probe(page, "playgroundRates", query, ms) | {"playground_article": article}
                page.close()
                return found
            page.close()
    return {}


def measure_weight(page, url: str) -> dict:
    """The first load's timing and bytes, then, scrolled through, every lazy figure's and widget's."""
    results = {}
    traffic = Traffic(page)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    traffic.mark()  # before the probes' module is fetched: no reader's page loads it
    results.update(probe(page, "timing"))
    first = traffic.summary(traffic.responses[: traffic.marked])
    results["first_load_raw_bytes"], results["first_load_gzip_bytes"] = first["raw"], first["gzip"]
    results["first_load_by_type"] = first["by_type"]

    # Every lazy figure and widget loaded and drawn once, as a reader who scrolled through
    # has them: a figure drawing for the first time must not land in a latency or fps window.
    scroll_through(page)
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    probe(page, "explorerReady")
    page.wait_for_load_state("networkidle")
    lazy = traffic.summary([r for r in traffic.responses[traffic.marked :] if not r[0].endswith("/bench-probes.js")])
    results["lazy_raw_bytes"], results["lazy_gzip_bytes"] = lazy["raw"], lazy["gzip"]
    results["lazy_by_type"] = lazy["by_type"]
    return results


def measure_explorer(page, samples: int) -> dict:
    """The explorer's all-layer inference, and a stroke's pointer events to the layers drawn
    and to the frame showing them."""
    to_frame, to_painted = probe(page, "pointerMs", samples)
    return {
        "inference_median_ms": probe(page, "inferenceMs", samples),
        "pointer_to_repaint_ms": to_frame,
        "pointer_to_painted_ms": to_painted,
    }


def measure_attack_step(page) -> float:
    """Milliseconds for one step's gradient signs on the explorer's example (templates/attack.js:
    two runs of the gradient graph where the model has one, else one run per pixel and one more,
    in batches), the second of two."""
    return probe(page, "attackStepMs")


def measure_attribution(page, samples: int = 5) -> dict:
    """Milliseconds for each attribution method on the explorer's example in the attribution
    figure (templates/attribution.js), the median of `samples` after one to warm up; {} where
    the page has no such figure."""
    if page.locator(".attribution").count() == 0:
        return {}
    page.locator(".attribution").first.scroll_into_view_if_needed()
    found = probe(page, "attributionMs", samples)
    return {
        "saliency_ms": found["saliency"],
        "integrated_gradients_ms": found["integrated"],
        "occlusion_ms": found["occlusion"],
    }


def measure_live_epoch(page) -> float | None:
    """Seconds for one epoch of the page's live softmax regression (templates/live-training.js)
    as it trains: each batch made from the examples and stepped, from zero, without the pictures;
    None where the article has no such figure."""
    return probe(page, "liveEpochS")


def measure_detail(page, window_ms: int, samples: int = 30) -> dict:
    """A layer's detail view in the explorer (the busiest: the last convolution reading many
    channels, else the first layer): milliseconds from the click that opens it, and from a key
    that moves its selected output, to the frame that shows it (medians); and the slide's frames
    per second."""
    return probe(page, "detailMs", window_ms, samples)


def measure_tour(page, window_ms: int) -> dict:
    """Grand Tour frames per second: the page's own tour with its recorded sample, then the
    tour's renderer and rotation driven over 10,000 random points, each next to a plain canvas
    drawing the same number of dots each frame (same page, same run)."""
    page.locator(".grand-tour").scroll_into_view_if_needed()
    return probe(page, "tourFps", window_ms)


def scroll_through(page, step: int = 900, pause_ms: int = 100) -> None:
    """To the end of the page a screen at a time, so every lazy figure and widget is drawn."""
    for y in range(0, page.evaluate("document.body.scrollHeight"), step):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(pause_ms)
    page.wait_for_load_state("networkidle")


def axe_violations(browser, url: str, node_modules: Path, refuse: str | None = None) -> dict[str, list]:
    """axe-core's violations on the fully scrolled page, in light and then dark mode. `refuse`:
    a URL glob answered with an error (the models: every widget as it is before it draws)."""
    # axe is injected as a script of its own, which the page's Content-Security-Policy refuses.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    if refuse:
        context.route(refuse, lambda route: route.abort())
    page = context.new_page()
    page.goto(url)
    scroll_through(page, step=1400)  # a viewport and most of the widgets' 600 px lead a step
    page.add_script_tag(path=str(Path(node_modules) / "axe-core" / "axe.min.js"))
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(200)  # figures take the new colours
        found[scheme] = probe(page, "axeViolations")
    context.close()
    return found


def measure_lighthouse(site: Path, article, node_modules: Path) -> dict:
    """Lighthouse (npm, a dev dependency) on the article, mobile settings (its defaults: slow 4G,
    4x CPU slowdown), the site served precompressed as a static host serves it."""
    from .serve import static_server

    binary = Path(node_modules) / ".bin" / "lighthouse"
    if not binary.exists():
        return {"lighthouse": f"not measured: {binary} is missing (`make bench` installs it, a dev dependency)"}
    with static_server(site) as url:
        done = subprocess.run(
            [
                str(binary),
                f"{url}/{article.url}",
                "--output=json",
                "--output-path=stdout",
                "--quiet",
                "--only-categories=performance,accessibility,best-practices,seo",
                "--chrome-flags=--headless=new --no-sandbox",
            ],
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            capture_output=True,
            text=True,
            timeout=300,
        )
    if done.returncode != 0:
        return {
            "lighthouse": f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
        }
    report = json.loads(done.stdout)
    audits = report["audits"]
    results = {
        f"lighthouse_{name.replace('-', '_')}": round(100 * c["score"]) for name, c in report["categories"].items()
    }
    for key, audit in [
        ("fcp_ms", "first-contentful-paint"),
        ("lcp_ms", "largest-contentful-paint"),
        ("tbt_ms", "total-blocking-time"),
        ("cls", "cumulative-layout-shift"),
        ("interactive_ms", "interactive"),
    ]:
        results[f"lighthouse_{key}"] = audits[audit]["numericValue"]
    results["lighthouse_failing"] = sorted(
        audit
        for name, c in report["categories"].items()
        for audit in (ref["id"] for ref in c["auditRefs"])
        if audits[audit].get("score") is not None
        and audits[audit]["score"] < 0.9
        and audits[audit]["scoreDisplayMode"] != "informative"
    )
    return results


def measure_parity(page, result, article) -> dict:
    """Per model, over every layer: max abs diff of PyTorch, onnxruntime and onnxruntime-web."""
    import onnxruntime
    import torch

    from ..model.export import weights_from_onnx
    from ..model.models import Network
    from ..model.orchestrator import build_network

    shape = result.dataset.shape
    examples = np.asarray(result.examples["pixels"][:8], dtype=np.float32).reshape(-1, *shape) / 255
    specs, source = article.specs, article.source
    parity = {}
    for name, described in result.models.items():
        onnx_bytes = result.files[described.onnx]
        ort_out = onnxruntime.InferenceSession(onnx_bytes).run(None, {"image": examples})
        network = build_network(specs[name], source)
        if isinstance(network, Network):
            network.load_weights(weights_from_onnx(network.module, onnx_bytes))
            with torch.no_grad():
                torch_out = [t.numpy() for t in network.eval().outputs(torch.from_numpy(examples)).values()]
        else:  # brought in as ONNX: no PyTorch weights to compare with
            torch_out = ort_out
        web = probe(
            page, "webOutputs", f"{article.slug}/{described.onnx}", examples.ravel().tolist(), list(examples.shape)
        )

        def max_diff(a, b):
            return max(float(np.abs(np.asarray(x).ravel() - np.asarray(y).ravel()).max()) for x, y in zip(a, b))

        parity[name] = {
            "torch_vs_onnxruntime": max_diff(torch_out, ort_out),
            "onnxruntime_vs_web": max_diff(ort_out, web),
            "torch_vs_web": max_diff(torch_out, web),
            "test_accuracy": described.metrics["test_accuracy"],
        }
    return parity


def verdict(value, target, better) -> str:
    if value is None:
        return "n/a"
    return "met" if (value <= target if better == "lower" else value >= target) else "MISSED"


def show(value, unit) -> str:
    if value is None:
        return "n/a"
    if unit == "B":
        return f"{value / 1e6:.2f} MB"
    if unit in ("s", "ms", "fps"):
        return f"{value:.2f} {unit}"
    return f"{value:.4g}"


def critical_path(stages: dict[str, float]) -> str:
    """Where the build's time goes: each article's stages added up, its longest named. Their tasks
    share the workers, one per core, scheduled across articles (tools/build.py schedule): an
    article's chain is its recorded model's shown run, then its analysis, then its other stages."""
    per_article: dict[str, dict[str, float]] = {}
    for name, seconds in stages.items():
        if ": " in name:
            article, stage = name.split(": ", 1)
            per_article.setdefault(article, {})[stage] = seconds
    parts = []
    for article, timed in per_article.items():
        longest = max(timed, key=timed.get)
        parts.append(f"{article} {sum(timed.values()):.1f} s (longest: {longest}, {timed[longest]:.1f} s)")
    rest = [f"{name} {seconds:.1f} s" for name, seconds in stages.items() if ": " not in name and name != "total"]
    said = (
        f"Each article's stages added up (their tasks share the cores, scheduled across articles): {'; '.join(parts)}."
    )
    return said + (f" Then: {'; '.join(rest)}." if rest else "")


def budget_rows(results: dict) -> list[str]:
    """The budget's table: each row's median over the runs, its spread, the target and the verdict."""
    runs = results.get("runs", 1)
    lines = [f"| what | median of {runs} runs (spread) | target | |", "|---|---|---|---|"]
    for key, what, target, unit, better in BUDGET:
        value, spread = results.get(key), results.get(f"{key}_spread")
        measured = show(value, unit) + (
            f" ({show(spread[0], unit)} to {show(spread[1], unit)})" if spread and spread[0] != spread[1] else ""
        )
        lines.append(
            f"| {what} | {measured} | {'<=' if better == 'lower' else '>='} "
            f"{show(target, unit)} | {verdict(value, target, better)} |"
        )
    return lines


def report(results: dict) -> str:
    lines = budget_rows(results)
    lines += ["", "| build stage | seconds |", "|---|---|"]
    lines += [f"| {stage} | {seconds:.2f} |" for stage, seconds in results["stages_s"].items()]
    lines += ["", critical_path(results["stages_s"])]
    if results.get("manifold_seconds"):
        lines += [
            "",
            "| manifold views (seconds) | " + " | ".join(next(iter(results["manifold_seconds"].values()))) + " |",
            "|---|" + "---|" * len(next(iter(results["manifold_seconds"].values()))),
        ]
        lines += [
            f"| {layer} | " + " | ".join(f"{t:.2f}" for t in times.values()) + " |"
            for layer, times in results["manifold_seconds"].items()
        ]
    lines += [
        "",
        "| page | raw | gzip |",
        "|---|---|---|",
        f"| before any interaction | {show(results['first_load_raw_bytes'], 'B')} | {show(results['first_load_gzip_bytes'], 'B')} |",
        f"| loaded as the reader scrolls through (figures, widgets, wasm) | {show(results['lazy_raw_bytes'], 'B')} | {show(results['lazy_gzip_bytes'], 'B')} |",
    ]
    for when in ("first_load_by_type", "lazy_by_type"):
        for kind, sizes in sorted(results[when].items()):
            lines.append(
                f"| {when.split('_by')[0].replace('_', ' ')}: {kind} ({sizes['files']} files) | "
                f"{show(sizes['raw'], 'B')} | {show(sizes['gzip'], 'B')} |"
            )
    lines += ["", "| Grand Tour | tour fps | plain canvas fps (same run) |", "|---|---|---|"]
    lines += [
        f"| {n:,} points | {results[f'tour_fps_{n}']:.1f} | {results[f'canvas_baseline_fps_{n}']:.1f} |"
        for n in (1000, 10000)
    ]
    lines += [
        "",
        f"First contentful paint {show(results['first_paint_ms'], 'ms')}, "
        f"DOM interactive {show(results['interactive_ms'], 'ms')}, load {show(results['load_ms'], 'ms')}.",
        "",
        "| model | held-out accuracy | torch vs onnxruntime | onnxruntime vs web | torch vs web |",
        "|---|---|---|---|---|",
    ]
    for name, p in results["parity"].items():
        lines.append(
            f"| {name} | {p['test_accuracy']:.2%} | {show(p['torch_vs_onnxruntime'], '')} | "
            f"{show(p['onnxruntime_vs_web'], '')} | {show(p['torch_vs_web'], '')} |"
        )
    return "\n".join(lines)


def measure_once(project: Path) -> dict:
    """One full measurement: a cold build in a fresh folder, then its pages in Chromium and Lighthouse."""
    from .serve import static_server

    node_modules = project / "node_modules"
    with tempfile.TemporaryDirectory(prefix="layerwise-bench-") as tmp:
        builds = measure_builds(Path(tmp), project)
        with chromium() as browser:
            page = measure_page(builds["site"], builds["article"], builds["data"], browser)
            with static_server(builds["site"]) as url:
                axe = {a.url: axe_violations(browser, f"{url}/{a.url}", node_modules) for a in builds["articles"]}
            page |= measure_text(browser, builds["site"], builds["articles"])
            page |= measure_playground(browser, builds["site"], builds["articles"])
        page["axe"] = axe
        page["axe_violations"] = sum(len(v) for schemes in axe.values() for v in schemes.values())
        page |= measure_lighthouse(builds["site"], builds["article"], node_modules)
        page["lighthouse_index"] = measure_lighthouse(builds["site"], SimpleNamespace(url="index.html"), node_modules)
        for which in ("playground", "text"):  # the articles of the playground and of the text explorer
            if page.get(f"{which}_article"):
                found = measure_lighthouse(builds["site"], page.pop(f"{which}_article"), node_modules)
                page[f"lighthouse_{which}"] = found
                page[f"lighthouse_{which}_performance"] = found.get("lighthouse_performance")
    results = {k: v for k, v in builds.items() if k not in ("data", "site", "article", "articles")} | page
    results["cnn_test_accuracy"] = builds["data"].models["cnn"].metrics["test_accuracy"]
    results["manifold_seconds"] = {layer: info["seconds"] for layer, info in builds["data"].manifold["layers"].items()}
    results["parity_web_max_abs"] = max(p["torch_vs_web"] for p in page["parity"].values())
    text = ("languages", "transformer")
    results["text_articles_s"] = sum(t for stage, t in results["stages_s"].items() if stage.split(": ")[0] in text)
    return results


def combined(runs: list[dict]) -> dict:
    """The median run's numbers, with every budget row's spread over the runs ({key}_spread: [min, max])."""
    results = dict(runs[len(runs) // 2])
    for key, *_ in BUDGET:
        values = sorted(float(r[key]) for r in runs if r.get(key) is not None)
        if values:
            results[key] = float(np.median(values))
            results[f"{key}_spread"] = [values[0], values[-1]]
    results["runs"] = len(runs)
    return results


def run_bench(project: Path, out: Path, runs: int = 3) -> dict:
    """`runs` full measurements; the table shows each row's median and its spread, never the best run."""
    measured = []
    for k in range(runs):
        print(f"bench run {k + 1} of {runs}", file=sys.stderr)
        measured.append(measure_once(project))
    results = combined(measured)
    table = report(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"combined": results, "runs": measured}, indent=2, default=str))
    (out / "report.md").write_text(table + "\n")
    print(table)
    print(f"\nwritten to {out}/report.json and {out}/report.md")
    return results
