"""The console script as a user runs it: real processes, real files, a real browser."""

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import expect

from conftest import QUICK, ROOT, toml_text
from layerwise.config import merge


def config_file(tmp: Path, built) -> Path:
    """A TOML config matching the session's build, so its cache answers and nothing retrains."""
    paths = {"content": tmp / "content", "templates": ROOT / "templates", "node_modules": ROOT / "node_modules"}
    settings = {
        **{key: str(path) for key, path in paths.items()},
        "cache": built[0]["cache"],
        "out": str(tmp / "site"),
        **merge({"data": {"limit": built[0]["data"]["limit"]}}, QUICK),
        "every_article": QUICK,
    }
    path = tmp / "layerwise.toml"
    path.write_text(toml_text(settings) + "\n")
    shutil.copytree(ROOT / "content", tmp / "content")
    return path


def layerwise(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "layerwise.cli", *args], capture_output=True, text=True, **kwargs)


def test_help_explains_every_option():
    out = layerwise("build", "--help").stdout
    for option in ("--config", "--out", "--content", "--cache"):
        assert option in out
    assert "--port" in layerwise("serve", "--help").stdout


def test_a_content_mistake_exits_non_zero_names_the_line_and_keeps_the_site(tmp_path, built):
    config = config_file(tmp_path, built)
    assert layerwise("build", "--config", str(config)).returncode == 0
    before = (tmp_path / "site" / "mnist.html").read_text()
    index = tmp_path / "content" / "mnist.md"
    index.write_text(index.read_text() + "\nSee {numref}`fig-missing`.\n")
    done = layerwise("build", "--config", str(config))
    assert done.returncode == 1
    line = len(index.read_text().splitlines())
    assert done.stderr.startswith(
        f"error: {index}:{line}: unknown figure label 'fig-missing'; labels on this page: fig-neuron, "
    )
    assert len(done.stderr.strip().splitlines()) == 1  # one clear line, no traceback
    assert (tmp_path / "site" / "mnist.html").read_text() == before


def test_a_content_only_rebuild_does_not_import_torch(tmp_path, built):
    config = config_file(tmp_path, built)
    code = (
        "import sys; from layerwise.cli import main; main(['build', '--config', sys.argv[1]]); "
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True)
    assert done.stdout.strip().endswith("False"), done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def layerwise_serve(config: Path):
    """`layerwise serve` as a user starts it; yields (base URL, process). After the block the
    process has stopped and its output is in process.output."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "layerwise.cli", "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in server.stdout:
            if line.startswith("serving"):
                break
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.output = server.communicate(timeout=10)[0]


def test_serve_rebuilds_and_reloads_the_page_when_content_changes(tmp_path, built, browser):
    with layerwise_serve(config_file(tmp_path, built)) as (url, server):
        page = browser.new_page()
        page.goto(f"{url}/mnist.html")
        expect(page.locator("h1")).to_contain_text("What each layer")
        time.sleep(0.5)  # let the page subscribe to rebuilds
        index = tmp_path / "content" / "mnist.md"
        index.write_text(index.read_text().replace("title: What each layer", "title: Freshly edited, what each layer"))
        expect(page.locator("h1")).to_contain_text("Freshly edited", timeout=10_000)
        page.close()
    assert "rebuilt in" in server.output, server.output
