"""layerwise build | serve | bench: read the config, run the stages in order, write site/.

Every user mistake is printed as `error: ...` lines (no traceback) and exits 1, as is a folder the
build cannot write (read-only, a full disk); Ctrl-C stops with one line; an unexpected internal
error says so in one line and where its full trace was written.
"""

import argparse
import sys
import tempfile
import traceback
from pathlib import Path

from .config import load_config
from .errors import CANNOT_WRITE, BuildError, cannot_write


def report(error: BaseException) -> int:
    """Print a build error as one `error:` line per mistake; return the exit code."""
    for line in str(error).splitlines():
        print(f"error: {line}", file=sys.stderr)
    return 1


def internal_error(error: BaseException) -> int:
    trace = Path(tempfile.gettempdir()) / "layerwise-last-error.txt"
    trace.write_text("".join(traceback.format_exception(error)))
    print(
        f"error: internal error ({type(error).__name__}: {error}); this is a bug in Layerwise, not in your "
        f"files; the full trace is in {trace}",
        file=sys.stderr,
    )
    return 2


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="layerwise", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [
        ("build", "check the config and content, train (or reuse the cache), export and render the site"),
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
    bench.add_argument(
        "--runs", type=int, default=3, help="full measurements to take; the table shows medians, spreads (default: 3)"
    )
    return parser


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    config = None
    try:
        if args.command == "bench":
            from .bench import run_bench

            run_bench(Path.cwd(), Path(args.out), args.runs)
            return 0
        from .build import build, release_workers
        from .render import check_output

        config = load_config(args.config, out=args.out, content=args.content, cache=args.cache)
        check_output(Path(config["out"]))  # a folder the site cannot go in, said before anything trains
        memory: dict = {}  # the articles' results by key, kept for serve's rebuilds
        build(config, live_reload=args.command == "serve", memory=memory)
        release_workers()
        if args.command == "serve":
            from .serve import serve_and_rebuild

            serve_and_rebuild(config, memory, args.host, args.port)
    except (BuildError, FileNotFoundError) as e:
        return report(e)
    except KeyboardInterrupt:
        # On a line of its own, even after a progress bar's half-written line.
        print("\nstopped; the previous site is intact; finished models are cached", file=sys.stderr)
        return 130
    except Exception as e:
        if isinstance(e, OSError) and e.errno in CANNOT_WRITE and config is not None:  # the cache's disk, say
            return report(cannot_write(e, config["cache"]))
        return internal_error(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
