"""layerwise serve: the site on a local address, rebuilt and reloaded when content/ or templates/ change.

Only rendering reruns on a change: the articles' results are held in memory, so editing prose
never retrains. Open pages hear about each rebuild through server-sent events
(templates/live-reload.js, added to pages only when serving): a good one reloads them, a failed
one shows its error over the page until the next save fixes it. No error stops the watcher.
The preview is built in a folder of its own, removed when serving stops, as MkDocs's serve does:
config['out'] (site/) is only ever what `layerwise build` writes, with no live-reload script a
static host would answer with 404s. This module is also the one static file server of the
project (tests and bench use it).
"""

import contextlib
import errno
import functools
import http.server
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from ..errors import BuildError

EVENTS_PATH = "/_layerwise/events"


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".onnx": "application/octet-stream",
    }
    builds = None  # a Rebuilds, set when live reload is on

    def do_GET(self):
        if self.path == EVENTS_PATH and self.builds is not None:
            return self.stream_rebuilds()
        # Last-Modified has one-second resolution: a rebuild within the same second would be
        # answered "304 Not Modified" and the reader would see the old page.
        del self.headers["If-Modified-Since"]
        try:
            return super().do_GET()
        except (BrokenPipeError, ConnectionResetError):  # the reader's page reloaded mid-file: nothing to say
            return None

    def stream_rebuilds(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        builds = self.builds
        with builds.changed:
            seen = builds.count
            if builds.error:  # a page opened while the last rebuild is broken sees why at once
                self.wfile.write(builds.event())
        try:
            while True:
                with builds.changed:
                    builds.changed.wait_for(lambda: builds.count != seen, timeout=15)
                    message = builds.event() if builds.count != seen else b": keep-alive\n\n"
                    seen = builds.count
                self.wfile.write(message)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_head(self):
        """A file's NAME.br or NAME.gz (written by the build) where the browser accepts it, as a
        static host that serves precompressed files does; anything else as usual."""
        path = self.translate_path(self.path)
        if "\0" in path:  # /%00../: no file has such a name (and open() would raise)
            self.send_error(400, "Bad request: a NUL byte in the path")
            return None
        accepted = self.headers.get("Accept-Encoding", "")
        for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
            if encoding in accepted and os.path.isfile(path) and os.path.isfile(path + suffix):
                packed = open(path + suffix, "rb")
                self.send_response(200)
                self.send_header("Content-Type", self.guess_type(path))
                self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(os.fstat(packed.fileno()).st_size))
                self.send_header("Vary", "Accept-Encoding")
                self.end_headers()
                return packed
        return super().send_head()

    def list_directory(self, path):
        """A folder without an index.html is not found, as on a static host (it listed its files)."""
        self.send_error(404, "Not found")
        return None

    def log_message(self, format, *args):
        pass


class Rebuilds:
    """How many rebuilds there were, and the last one's error (None when it succeeded)."""

    def __init__(self):
        self.changed = threading.Condition()
        self.count, self.error = 0, None

    def record(self, error: str | None) -> None:
        with self.changed:
            self.count += 1
            self.error = error
            self.changed.notify_all()

    def event(self) -> bytes:
        if self.error:
            return f"event: failed\ndata: {json.dumps(self.error)}\n\n".encode()
        return b"data: reload\n\n"


@contextlib.contextmanager
def static_server(directory, host: str = "127.0.0.1", port: int = 0, builds: Rebuilds | None = None):
    """`directory` served over HTTP on a thread; yields the base URL."""
    handler = functools.partial(type("Handler", (SiteHandler,), {"builds": builds}), directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def snapshot(folders) -> dict:
    return {p: p.stat().st_mtime_ns for folder in folders for p in Path(folder).rglob("*") if p.is_file()}


def one_line(error: BaseException) -> str:
    if isinstance(error, BuildError | FileNotFoundError):
        return str(error).replace("\n", "; ")
    return f"internal error ({type(error).__name__}: {error})"


def watch_and_rebuild(folders, rebuild, builds: Rebuilds, interval=0.3):
    """Poll the folders; on any change call rebuild() and tell the open pages how it went."""
    seen = snapshot(folders)
    while True:
        time.sleep(interval)
        try:
            now = snapshot(folders)
        except OSError:  # a file vanished mid-scan (an editor's swap file): look again
            continue
        if now == seen:
            continue
        seen = now
        start = time.perf_counter()
        try:
            rebuild()
        except Exception as e:  # whatever it is, the watcher lives on and the page says it
            message = one_line(e)
            print(f"error: {message}\n(the previous site is still served; fix it and save again)", flush=True)
            builds.record(message)
            continue
        print(f"rebuilt in {time.perf_counter() - start:.2f} s", flush=True)
        builds.record(None)


def check_port_free(host: str, port: int) -> None:
    """One line before anything builds where the port is taken (another `layerwise serve`, say):
    it was an 'internal error' after the build."""
    try:
        with socket.create_server((host, port)):  # SO_REUSEADDR, as http.server binds
            pass
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        raise BuildError(
            f"port {port} on {host} is in use: stop what serves there, or choose another with --port"
        ) from None


@contextlib.contextmanager
def preview_of(config: dict):
    """`config` building into a temporary folder instead of config['out'], removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="layerwise-serve-"))
    try:
        yield {**config, "out": str(folder / "site")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def serve_and_rebuild(config: dict, memory: dict, host: str, port: int) -> None:
    """Serve config['out'] and rebuild it whenever content/ or templates/ change. `memory` holds
    the articles' results by pipeline key: an edit to prose re-renders and never retrains; an
    article whose data or models changed (or a new one) runs its own pipeline."""
    from .build import build, release_workers

    builds = Rebuilds()
    watched = (config["content"], config["templates"])

    def rebuild():
        build(config, live_reload=True, memory=memory)
        release_workers()

    threading.Thread(target=watch_and_rebuild, args=(watched, rebuild, builds), daemon=True).start()
    with static_server(config["out"], host, port, builds) as url:
        print(f"serving a preview on {url}/ (Ctrl-C to stop; `layerwise build` writes the site to publish)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
