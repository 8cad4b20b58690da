"""layerwise new | build | serve | check | bench | settings: an author's project, from a new folder to its site/.

The project is the folder of layerwise.toml (found in the working directory, or --config): its
content/, templates/, site/ and cache are relative to it. Every user mistake is printed as
`error: ...` lines (no traceback) and exits 1, as is a folder the build cannot write (read-only, a
full disk); Ctrl-C stops with one line; an unexpected internal error says so in one line and where
its full trace was written. Progress bars are drawn on a terminal only: a log gets one plain line
per stage.
"""

import argparse
import contextlib
import difflib
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from ..assets import VENDORED
from ..config import PROJECT_FILE, load_config, settings_reference
from ..errors import CANNOT_WRITE, BuildError, cannot_write
from .scaffold import TEXT_MODELS


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


class Version(argparse.Action):
    """--version, read from the installed package only when asked: importlib.metadata costs every
    command a tenth of a second or more (a rebuild's budget is one second)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="say which version is installed")

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import version

        print(f"layerwise {version('layerwise')}")  # on stdout, as argparse's own version action
        parser.exit()


def port(text: str) -> int:
    """--port's value: a port out of range was an 'internal error' from bind(), after the build."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port: give a number from 1 to 65535")
    return int(text)


class Parser(argparse.ArgumentParser):
    """argparse's, naming the option meant by a misspelt one: `build --conifg x` said only
    'unrecognized arguments: --conifg x'."""

    def parse_args(self, args=None, namespace=None):
        known, unknown = self.parse_known_args(args, namespace)
        if unknown:
            (commands,) = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
            options = [o for a in commands.choices[known.command]._actions for o in a.option_strings]
            close = difflib.get_close_matches(unknown[0].split("=")[0], options, n=1, cutoff=0.8)
            meant = f"; did you mean {close[0]}?" if close else ""
            self.error(f"unrecognized arguments: {' '.join(unknown)}{meant}")
        return known


def parser() -> argparse.ArgumentParser:
    parser = Parser(prog="layerwise", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=Version)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser(
        "new",
        help="write a new project: layerwise.toml, a starter article, site.yml, .gitignore, a README",
        description="Writes a new project into FOLDER (new or empty): layerwise.toml, content/index.md "
        "(a starter article), content/site.yml, .gitignore and a README on publishing site/.",
    )
    new.add_argument("folder", metavar="FOLDER", help="where the project goes (new or empty)")
    new.add_argument(
        "--data",
        metavar="PATH",
        help="a folder of images, one sub-folder per class (its classes, size and channels go into layerwise.toml), "
        "or text: a file or a folder of files",
    )
    new.add_argument(
        "--task",
        choices=list(TEXT_MODELS),
        help="for text: predict each next character (a file or a folder of files: the default), or name the "
        "class (each file or sub-folder a class, one text a line: the default for a folder of sub-folders)",
    )
    for name, help_text in [
        ("build", "check the config and content, train (or reuse the cache), export and render the site"),
        (
            "serve",
            "build, serve the site on a local address, and rebuild and reload "
            "open pages when content/ or templates/ change (no retraining)",
        ),
        ("check", "check the config, the data's description and the content (links, figures, options) in seconds"),
    ]:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--config",
            metavar="FILE",
            help=f"TOML file of settings; its folder is the project's (default: ./{PROJECT_FILE} if there)",
        )
        sub.add_argument("--out", metavar="DIR", help="where the site is written (default: site)")
        sub.add_argument("--content", metavar="DIR", help="the article's Markdown (default: content)")
        sub.add_argument(
            "--cache", metavar="DIR", help="where trained models are kept between builds (default: .layerwise-cache)"
        )
        sub.add_argument("--quiet", "-q", action="store_true", help="print errors only")
        if name == "serve":
            sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
            sub.add_argument("--port", type=port, default=8000, help="port, 1 to 65535 (default: 8000)")
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
    commands.add_parser(
        "settings",
        help=f"every setting of {PROJECT_FILE}: its default, what it takes and what it is (a Markdown table)",
    )
    return parser


def project_config(args) -> dict:
    """The settings of the project in the working directory (or --config's), or one line saying
    how to start one where there is nothing to build."""
    if args.config is None and not Path(PROJECT_FILE).is_file() and not Path(args.content or "content").is_dir():
        raise BuildError(f"no {PROJECT_FILE} and no content/ in {Path.cwd()}: start a project with `layerwise new .`")
    return load_config(args.config, out=args.out, content=args.content, cache=args.cache)


def check_web_assets(node_modules: Path) -> None:
    """The npm files the site ships, said missing before anything trains (the render copies them last)."""
    missing = [name for name in VENDORED if not (node_modules / name).exists()]
    if missing:
        raise BuildError(f"{node_modules / missing[0]} is missing: run `npm ci` in the project root")


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    if quiet or not sys.stderr.isatty():  # tqdm reads it, in worker processes too
        os.environ.setdefault("TQDM_DISABLE", "1")
    config = None
    printed = open(os.devnull, "w") if quiet else contextlib.nullcontext(sys.stdout)
    try:
        with printed as out, contextlib.redirect_stdout(out):
            if args.command in ("build", "serve", "check"):
                config = project_config(args)
            run(args, config)
    except (BuildError, FileNotFoundError) as e:
        return report(e)
    except KeyboardInterrupt:
        # On a line of its own, even after a progress bar's half-written line (a terminal's: a log
        # has no bars, and got a blank line before it).
        start = "\n" if sys.stderr.isatty() else ""
        print(f"{start}stopped; the previous site is intact; finished models are cached", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `layerwise settings | head`: the reader stopped reading, as intended
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit is quiet
        return 141
    except Exception as e:
        if isinstance(e, OSError) and e.errno in CANNOT_WRITE and config is not None:  # the cache's disk, say
            return report(cannot_write(e, config["cache"]))
        return internal_error(e)
    return 0


def run(args, config: dict | None) -> None:
    """The command itself; `config` is the project's, for the commands that build it."""
    if args.command == "new":
        from .scaffold import data_problem, new_project

        _, reachable, task = new_project(Path(args.folder), args.data and Path(args.data), args.task)
        print(f"wrote a new project to {args.folder}/; in it, `layerwise serve` builds and serves it")
        if task and not args.task:  # text, its task guessed: say which, and the other way
            other = "classify (each file or sub-folder a class)" if task == "next-token" else "next-token"
            if Path(args.data).is_dir():
                print(f"note: {args.data} is read as text for {task}; --task {other} reads it the other way")
            else:  # one file cannot be classified: a class is a file or a sub-folder
                print(f"note: {args.data} is read as text for {task}; --task classify takes a folder, a file per class")
        problem = args.data and data_problem(Path(args.folder))
        if problem:  # a folder too small to build from: said now, not at the first build
            print(f"note: it will not build yet: {problem}")
        if not reachable:  # this Layerwise came from a folder: CI cannot install it from there
            print(
                "note: this Layerwise was installed from files on this machine, and it is not on PyPI: in README.md's"
                " publishing workflow, replace `pip install layerwise` with where your Layerwise comes from (a git URL)"
            )
        return
    if args.command == "settings":
        print(settings_reference())
        return
    if args.command == "bench":
        from .bench import run_bench

        if not (Path.cwd() / "build" / "layerwise").is_dir():  # it edits and times the default site's articles
            raise BuildError("`layerwise bench` measures Layerwise's own default site: run `make bench` in its clone")

        run_bench(Path.cwd(), Path(args.out), args.runs)
        return
    from ..page.articles import plan_site
    from ..page.render import check_output
    from .build import build, check_before_training, dry_run_models, release_workers

    check_output(Path(config["out"]))  # a folder the site cannot go in, said before anything trains
    if args.command == "serve":
        from .serve import check_port_free

        check_port_free(args.host, args.port)
    check_web_assets(Path(config["node_modules"]))
    if args.command == "check":
        _, articles = plan_site(config)
        check_before_training(config, articles)
        dry_run_models(articles)  # each model built and run on one example: one that cannot read this data says so
        models = len({(a.slug, name) for a in articles for name in a.specs})
        said = f"the settings, the data, {models} model(s) on one example each and {len(articles)} article(s)"
        print(f"checked {said}: nothing to fix")
        return
    if args.command == "serve":
        from .serve import preview_of, serve_and_rebuild

        memory: dict = {}  # the articles' results by key, kept for serve's rebuilds
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped as by Ctrl-C: the preview removed
        with preview_of(config) as preview:  # site/ stays what `layerwise build` wrote
            build(preview, live_reload=True, memory=memory)
            release_workers()
            serve_and_rebuild(preview, memory, args.host, args.port)
        return
    build(config)
    release_workers()


if __name__ == "__main__":
    sys.exit(main())
