"""layerwise build | serve: read the config, run the stages in order, write site/."""

import argparse
import functools
import http.server
import sys
import time
from pathlib import Path

from .config import load_config
from .errors import BuildError


def build(config: dict) -> dict:
    """Run the whole pipeline into config['out']; returns the timings of each stage."""
    from .cache import Cache
    from .pipeline import run_pipeline
    from .render import render_site

    timings: dict = {}
    start = time.perf_counter()
    data = run_pipeline(config, Cache(config["cache"]), timings)
    render_start = time.perf_counter()
    pages = render_site(config, data, Path(config["out"]))
    timings["render"] = time.perf_counter() - render_start
    timings["total"] = time.perf_counter() - start
    for name, metrics in data["metrics"].items():
        print(f"{name:>12}: held-out accuracy {metrics['test_accuracy']:.2%}")
    print(f"wrote {len(pages)} page(s) to {config['out']}/ in {timings['total']:.1f} s")
    return timings


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".js": "text/javascript",
                      ".wasm": "application/wasm", ".onnx": "application/octet-stream"}

    def log_message(self, format, *args):
        pass


def serve(directory: str, host: str, port: int) -> None:
    handler = functools.partial(QuietHandler, directory=directory)
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving {directory}/ on http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="layerwise", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [("build", "train (or reuse the cache), export and render the site"),
                            ("serve", "build, then serve the site on a local address")]:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", metavar="FILE",
                         help="TOML file overriding the defaults in layerwise/config.py "
                              "(data source, epochs, models, ...)")
        sub.add_argument("--out", metavar="DIR", help="where the site is written (default: site)")
        sub.add_argument("--content", metavar="DIR", help="the article's Markdown (default: content)")
        sub.add_argument("--cache", metavar="DIR",
                         help="where trained models are kept between builds (default: .layerwise-cache)")
        if name == "serve":
            sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
            sub.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, out=args.out, content=args.content, cache=args.cache)
        build(config)
    except (BuildError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.command == "serve":
        serve(config["out"], args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
