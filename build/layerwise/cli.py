"""layerwise build | serve | bench: read the config, run the stages in order, write site/."""

import argparse
import sys
import time
from pathlib import Path

from .config import load_config
from .errors import BuildError


def build(config: dict, live_reload: bool = False) -> tuple[dict, dict]:
    """Run the whole pipeline into config['out']; returns (the pipeline's data, stage timings)."""
    from .cache import Cache
    from .pipeline import run_pipeline
    from .render import render_site

    timings: dict = {}
    start = time.perf_counter()
    data = run_pipeline(config, Cache(config["cache"]), timings)
    render_start = time.perf_counter()
    pages = render_site(config, data, Path(config["out"]), live_reload)
    timings["render"] = time.perf_counter() - render_start
    timings["total"] = time.perf_counter() - start
    for name, metrics in data["metrics"].items():
        print(f"{name:>12}: held-out accuracy {metrics['test_accuracy']:.2%}")
    print(f"wrote {len(pages)} page(s) to {config['out']}/ in {timings['total']:.1f} s")
    return data, timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="layerwise", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [
        ("build", "train (or reuse the cache), export and render the site"),
        (
            "serve",
            "build, serve the site on a local address, and rebuild and reload "
            "open pages when content/ or templates/ change (no retraining)",
        ),
    ]:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--config",
            metavar="FILE",
            help="TOML file overriding the defaults in layerwise/config.py (data source, epochs, models, ...)",
        )
        sub.add_argument("--out", metavar="DIR", help="where the site is written (default: site)")
        sub.add_argument("--content", metavar="DIR", help="the article's Markdown (default: content)")
        sub.add_argument(
            "--cache", metavar="DIR", help="where trained models are kept between builds (default: .layerwise-cache)"
        )
        if name == "serve":
            sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
            sub.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    bench = commands.add_parser(
        "bench",
        help="measure build time, page weight, latency and parity against "
        "the budget; print and write report.json / report.md",
        description="Builds the default config from a fresh cache in a temporary "
        "folder, serves it, and measures it in headless Chromium.",
    )
    bench.add_argument("--out", metavar="DIR", default="bench", help="where the reports go (default: bench)")
    args = parser.parse_args(argv)
    if args.command == "bench":
        from .bench import run_bench

        run_bench(Path.cwd(), Path(args.out))
        return 0
    try:
        config = load_config(args.config, out=args.out, content=args.content, cache=args.cache)
        data, _ = build(config, live_reload=args.command == "serve")
    except (BuildError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.command == "serve":
        from .render import render_site
        from .serve import serve

        serve(
            config["out"],
            args.host,
            args.port,
            watch=(config["content"], config["templates"]),
            rebuild=lambda: render_site(config, data, Path(config["out"]), live_reload=True),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
