"""layerwise serve: the site on a local address, rebuilt and reloaded when content/ or templates/ change.

Only rendering reruns on a change: the models come from the pipeline's result, held in memory,
so editing prose never retrains. Open pages hear about each rebuild through server-sent events
(templates/live-reload.js, added to pages only when serving).
"""

import functools
import http.server
import threading
import time
from pathlib import Path

from .errors import BuildError

EVENTS_PATH = "/_layerwise/events"


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".onnx": "application/octet-stream",
    }
    builds = None  # a threading.Condition counting rebuilds, set when live reload is on

    def do_GET(self):
        if self.path == EVENTS_PATH and self.builds is not None:
            return self.stream_rebuilds()
        # Last-Modified has one-second resolution: a rebuild within the same second would be
        # answered "304 Not Modified" and the reader would see the old page.
        del self.headers["If-Modified-Since"]
        return super().do_GET()

    def stream_rebuilds(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        with self.builds:
            seen = self.builds.count
        try:
            while True:
                with self.builds:
                    self.builds.wait_for(lambda: self.builds.count != seen, timeout=15)
                    changed, seen = self.builds.count != seen, self.builds.count
                self.wfile.write(b"data: reload\n\n" if changed else b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format, *args):
        pass


def snapshot(folders) -> dict:
    return {p: p.stat().st_mtime_ns for folder in folders for p in Path(folder).rglob("*") if p.is_file()}


def watch_and_rebuild(folders, rebuild, builds: threading.Condition, interval=0.3):
    """Poll the folders; on any change call rebuild() and wake the open pages."""
    seen = snapshot(folders)
    while True:
        time.sleep(interval)
        now = snapshot(folders)
        if now == seen:
            continue
        seen = now
        start = time.perf_counter()
        try:
            rebuild()
        except (BuildError, FileNotFoundError) as e:
            print(f"error: {e}\n(the previous site is still served; fix it and save again)")
            continue
        print(f"rebuilt in {time.perf_counter() - start:.2f} s")
        with builds:
            builds.count += 1
            builds.notify_all()


def serve(directory: str, host: str, port: int, watch=(), rebuild=None) -> None:
    builds = threading.Condition()
    builds.count = 0
    handler = type("Handler", (SiteHandler,), {"builds": builds if rebuild else None})
    handler = functools.partial(handler, directory=directory)
    if rebuild:
        threading.Thread(target=watch_and_rebuild, args=(watch, rebuild, builds), daemon=True).start()
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving {directory}/ on http://{host}:{server.server_port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
