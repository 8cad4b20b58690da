"""Every mistake is one line before any training, nothing is left half-done, serve never dies.

The table runs `layerwise build` as a user does (the console script's main, real files), each
time with a fresh cache and a previous site/ that must come through byte for byte."""

import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT, render_with, toml_text
from layerwise.cache import MAGIC, Cache
from layerwise.tools.cli import main

ARTICLE = "---\ntitle: T\n---\n\n# Hi\n\nSome $x^2$ math.\n\n```{figure} mistakes\n:model: softmax\n:count: 3\n```\n"
SMALL = '[data]\nlimit = 300\n[train]\nepochs = 1\nseeds = 1\n[analysis]\nlayers = ["input"]\nmethods = ["pca"]\n'

# (name, config TOML added to SMALL or None, content file edits, what the one line must say)
MISTAKES = [
    ("epochs as words", '[train]\nepochs = "ten"', {}, "train.epochs: must be a whole number from 1 to 10000, got"),
    ("batch size zero", "[train]\nbatch_size = 0", {}, "train.batch_size: must be a whole number from 1"),
    ("negative learning rate", "[train]\nlearning_rate = -1", {}, "train.learning_rate: must be a number above 0"),
    (
        "misspelt key",
        "[train]\nepoks = 3",
        {},
        ("train.epoks: unknown setting; known here: epochs", "; did you mean epochs?"),
    ),
    ("unknown device", '[train]\ndevice = "tpu"', {}, "train.device: must be one of 'auto', 'cpu', 'cuda'"),
    ("a default model set to true", "[models]\nsoftmax = true", {}, "(the default models are on already: leave it out"),
    ("models misspelt", "[model]\nmlp = false", {}, ("model: unknown setting; known here: ", "; did you mean models?")),
    ("recorded model missing", '[record]\nmodel = "resnet"', {}, "record.model: no model 'resnet'; the models are"),
    (
        "recorded model misspelt",
        '[record]\nmodel = "cnm"',
        {},
        ("record.model: no model 'cnm'; the models are", "; did you mean cnn?"),
    ),
    ("sample too small", "[record]\nsample_size = 5", {}, "record.sample_size: must be a whole number from 10"),
    (
        "method misspelt",
        '[analysis]\nmethods = ["tsen"]',
        {},
        ("analysis.methods: must be one of 'pca', 'tsne'", "(did you mean 'tsne'?)"),
    ),
    ("methods a string", '[analysis]\nmethods = "pca"', {}, "analysis.methods: must be a list of methods"),
    ("analysed layer missing", '[analysis]\nlayers = ["relu9"]', {}, "analysis.layers: relu9 not a layer of cnn"),
    ("empty model", "[models.mine]\ntitle = 'Mine'", {}, "models.mine: give exactly one of layers"),
    (
        "unknown model key",
        '[models.x]\nlayers = ["f: Flatten()"]\ntittle = "X"',
        {},
        ("models.x.tittle: unknown setting", "; did you mean title?"),
    ),
    (
        "missing checkpoint",
        '[models.softmax]\nlayers = ["f: Flatten()", "fc: Linear(auto, classes)"]\ncheckpoint = "gone.pt"',
        {},
        "models.softmax.checkpoint: ",
    ),
    (
        "shapes that do not fit",
        '[models.cnn]\nlayers = ["conv: Conv2d(1, 10, 5)", "pool: MaxPool2d(2)", '
        '"flatten: Flatten()", "fc: Linear(100, 10)"]',
        {},
        "models.cnn layer fc: expects 100 inputs, gets 1440 from flatten",
    ),
    (
        "output of the wrong size",
        '[models.softmax]\nlayers = ["f: Flatten()", "fc: Linear(auto, 7)"]',
        {},
        "models.softmax: gives [7] per example but the data has 10 classes",
    ),
    ("factory file missing", '[models.softmax]\nfactory = "nets.py:make"', {}, "nets.py does not exist"),
    ("layer line not a call", '[models.softmax]\nlayers = ["fc Linear(3, 4)"]', {}, "write it as 'name: Type(args)'"),
    ("unknown dataset", '[data]\nsource = "cifar100"', {}, "data.source = 'cifar100' is not a dataset Layerwise reads"),
    ("image size out of range", "[data]\nsize = [4, 4]", {}, "set data.size = [H, W] within that range"),
    ("two channels", "[data]\nchannels = 2", {}, "data.channels: must be one of 0, 1, 3, got 2"),
    ("test fraction above one", "[data]\ntest_fraction = 1.5", {}, "data.test_fraction: must be a number above 0"),
    ("dataset files missing", '[data]\nsource = "mnist"\nroot = "nothing-here"', {}, "missing train-images-idx3-ubyte"),
    (
        "a folder of one class",
        '[data]\nsource = "folder"\nroot = "one-class"',
        {},
        ("layerwise.toml: data.root = '", "has 1 class folder"),
    ),
    ("TOML syntax", "[train\nepochs = 1", {}, "fix the TOML syntax there"),
    ("authors a number", None, {"index.md": "---\nauthors: 5\n---\n# Hi\n"}, "index.md:2: 'authors' must be a list"),
    (
        "front matter key misspelt",
        None,
        {"index.md": "---\ntitel: T\n---\n# Hi\n"},
        ("unknown front matter key 'titel'", "; did you mean title?"),
    ),
    ("Latin-1 in the article", None, {"index.md": b"# Caf\xe9\n"}, "index.md:1: byte 5 (0xe9) is not UTF-8"),
    (
        "Latin-1 in the glossary",
        None,
        {"glossary.yml": b"ReLU: caf\xe9\n"},
        "glossary.yml:1: byte 9 (0xe9) is not UTF-8",
    ),
    ("a script in Markdown", None, {"index.md": "# Hi\n\n<script>alert(1)</script>\n"}, "index.md:3: raw script"),
    (
        "a glossary definition's value unclosed",
        None,
        {"glossary.yml": "ReLU: max(0, x)\nepoch: One pass over every {{ dataset.noun\n"},
        "glossary.yml:2: definition of 'epoch': unexpected end of template",
    ),
    ("an inline handler", None, {"index.md": '# Hi\n\n<img src="x.png" onerror="go()">\n'}, "index.md:3: raw script"),
    (
        "count zero",
        None,
        {"index.md": "# Hi\n\n```{figure} mistakes\n:count: 0\n```\n"},
        "index.md:4: figure 'mistakes' option ':count:' must be a whole number from 1 to 20",
    ),
    (
        "model misspelt in a figure",
        None,
        {"index.md": "# Hi\n\n```{figure} mistakes\n:model: sofmax\n```\n"},
        (
            "option ':model:' must be a model of this build: one of one_neuron, softmax, mlp, cnn",
            "(did you mean softmax?); got 'sofmax'",
        ),
    ),
    (
        "class misspelt",
        None,
        {"index.md": "# Hi\n\n```{figure} one-neuron\n:class: eleven\n```\n"},
        "option ':class:' must be a class: one of 0, 1",
    ),
    ("unknown figure", None, {"index.md": "# Hi\n\n```{figure} tsne-plot\n```\n"}, "unknown figure 'tsne-plot'"),
    (
        "figure option misspelt",
        None,
        {"index.md": "# Hi\n\n```{figure} mistakes\n:modle: softmax\n```\n"},
        ("index.md:4: figure 'mistakes' has no option ':modle:'", "; did you mean :model:?"),
    ),
    (
        "a later article's model does not fit its data",
        None,
        {
            "zz.md": '---\nlayerwise: {models: {wide: {layers: ["f: Flatten()", "fc: Linear(100, classes)"]}}}\n'
            "---\n# Z\n"
        },
        "layer fc: expects 100 inputs",
    ),
    ("broken cross-reference", None, {"index.md": "# Hi\n\nSee {numref}`fig-x`.\n"}, "unknown figure label 'fig-x'"),
    ("broken link", None, {"index.md": "# Hi\n\nSee [it](b.md).\n"}, "index.md:3: link to 'b.md': no such page"),
    (
        "a broken link on a paragraph's third line",
        None,
        {"index.md": "# Hi\n\nOne line,\nanother,\nthen [it](b.md).\n"},
        "index.md:5: link to 'b.md': no such page",
    ),
    ("bad TeX", None, {"index.md": "# Hi\n\nBad $\\frac{1}{$ math.\n"}, "index.md:3: invalid math"),
    (
        "filter misspelt",
        None,
        {"index.md": "# Hi\n\n{{ metrics.cnn.test_accuracy | percnt }}\n"},
        ("index.md:3: template syntax: No filter named 'percnt'", "; did you mean percent?"),
    ),
    (  # said before training: rendering the prose would say it only once every model has trained
        "a model misspelt in prose",
        None,
        {"index.md": "# Hi\n\nRead {{ metrics.cnm.test_accuracy | percent }}.\n"},
        "index.md:3: metrics.cnm: this article has no model 'cnm'; its models: one_neuron, softmax, mlp, cnn; "
        "did you mean cnn?",
    ),
    (
        "a model misspelt in a claim",
        None,
        {"index.md": "# Hi\n\nIt learns.\n{claim}`layers['sofmax'].fc.shape[0] > 1`\n"},
        "index.md:4: layers.sofmax: this article has no model 'sofmax'",
    ),
    (
        "a value misspelt in prose",
        None,
        {"index.md": "# Hi\n\n{% set n = 2 %}Read {{ metrix.cnn.test_accuracy }} of {{ n }}.\n"},
        ("index.md:3: metrix: the build has no value 'metrix'; it has: ", "; did you mean metrics?"),
    ),
    (
        "a key of the dataset misspelt in a claim",
        None,
        {"index.md": "# Hi\n\nIt reads.\n{claim}`dataset.n_tset > 10`\n"},
        ("index.md:4: dataset.n_tset: the dataset has no 'n_tset'; it has: ", "; did you mean n_test?"),
    ),
]


@pytest.fixture
def project(tmp_path):
    """A content folder, a config, an empty cache, and the previous site/ a failed build must keep."""
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "index.md").write_text(ARTICLE)
    (tmp_path / "content" / "glossary.yml").write_text("ReLU: max(0, x)\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>the previous site</p>")
    (tmp_path / "one-class" / "only").mkdir(parents=True)
    return tmp_path


def merged(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merged(out.get(key, {}), value) if isinstance(value, dict) and key != "models" else value
    return out


def write_config(project: Path, extra: str | None) -> Path:
    """SMALL's quick settings plus the case's, as one TOML file (the case's raw text if it does not parse)."""
    paths = {
        "content": str(project / "content"),
        "templates": str(ROOT / "templates"),
        "node_modules": str(ROOT / "node_modules"),
        "cache": str(project / "cache"),
        "out": str(project / "site"),
    }
    try:
        text = toml_text(merged(merged(tomllib.loads(SMALL), paths), tomllib.loads(extra or "")))
    except tomllib.TOMLDecodeError:
        text = toml_text(paths) + "\n" + extra
    config = project / "layerwise.toml"
    config.write_text(text + "\n")
    return config


@pytest.mark.parametrize("name,toml,files,message", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_is_one_line_before_training_and_keeps_the_site(project, capsys, name, toml, files, message):
    for file, text in files.items():
        path = project / "content" / file
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    config = write_config(project, toml)
    code = main(["build", "--config", str(config)])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 1, err
    assert len(errors) == 1, err
    for part in message if isinstance(message, tuple) else (message,):  # a tuple: each part, in order of need
        assert part in errors[0], err
    assert "Traceback" not in err
    assert not (project / "cache" / "train").exists()  # nothing trained
    assert (project / "site" / "index.html").read_text() == "<p>the previous site</p>"
    assert sorted(p.name for p in project.iterdir() if p.name.startswith("site")) == ["site"]


def test_all_config_mistakes_are_listed_at_once(project, capsys):
    config = write_config(project, '[train]\nepochs = "ten"\nbatch_size = 0\n[record]\nmodel = "resnet"')
    assert main(["build", "--config", str(config)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert [e.split(": ")[2] for e in errors] == ["train.epochs", "train.batch_size", "record.model"]


def test_a_damaged_cache_entry_is_named_removed_and_recomputed(tmp_path, capsys):
    cache = Cache(tmp_path)
    assert cache.get_or_compute("train", "k", lambda: {"weights": [1, 2, 3]}) == {"weights": [1, 2, 3]}
    entry = cache.path("train", "k")
    for damage in (entry.read_bytes()[:-5], b"", MAGIC + b"\x00" * 32 + b"not a pickle"):
        entry.write_bytes(damage)
        fresh = Cache(tmp_path)
        assert fresh.get_or_compute("train", "k", lambda: "recomputed") == "recomputed"
        assert fresh.misses == ["train"]
        assert f"warning: cache entry {entry} is damaged" in capsys.readouterr().err
        assert Cache(tmp_path).get_or_compute("train", "k", lambda: "again") == "recomputed"  # healed


def test_what_killed_builds_left_is_gone_after_the_next(project, site_build):
    config, results = site_build
    dead = subprocess.Popen(["true"])
    dead.wait()  # a process id that no longer runs, like a build killed mid-write
    (project / f"site.new-{dead.pid}").mkdir()
    (project / f"site.new-{dead.pid}" / "index.html").write_text("half")
    (project / f"site.old-{dead.pid}").mkdir()
    cache = project / "cache"
    (cache / "train").mkdir(parents=True)
    (cache / "train" / ".abc.pickle.x1.tmp").write_bytes(b"half an entry")
    with Cache(cache).locked():
        render_with({**config, "out": str(project / "site")}, results)
    assert sorted(p.name for p in project.iterdir() if p.name.startswith("site")) == ["site"]
    assert not list(cache.rglob("*.tmp"))


def test_a_second_build_waits_for_the_first(tmp_path):
    code = (
        "import sys, time; from layerwise.cache import Cache\n"
        "with Cache(sys.argv[1]).locked():\n    print('locked', flush=True); time.sleep(float(sys.argv[2]))\n"
    )
    first = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), "1.5"], stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline().strip() == "locked"
    start = time.monotonic()
    second = subprocess.run([sys.executable, "-c", code, str(tmp_path), "0"], capture_output=True, text=True)
    assert time.monotonic() - start > 0.8  # it waited for the first
    assert f"is using {tmp_path}; waiting for it to finish" in second.stderr
    first.wait()


STOPS = {  # how a build is stopped: (articles, the signal, sent to the whole group or the build alone)
    "Ctrl-C, one article, its runs in parallel": (1, signal.SIGINT, "group"),
    "Ctrl-C, two articles in parallel": (2, signal.SIGINT, "group"),
    "kill -9 of the build, two articles in parallel": (2, signal.SIGKILL, "build"),
}


@pytest.mark.parametrize("stop", STOPS)
def test_a_stopped_build_keeps_finished_models_the_site_and_no_worker(project, stop):
    """Ctrl-C: one line, exit 130. Either way: the previous site intact, finished runs cached and
    readable, nothing half-written once the next build holds the cache, no worker left running."""
    articles, sent, to = STOPS[stop]
    config = write_config(
        project,
        # one_neuron recorded: the build trains the recorded model's shown run first
        '[train]\nepochs = 200\n[record]\nmodel = "one_neuron"\n[models.one_neuron]\nlayers = '
        '["f: Flatten()", "n: Linear(pixels, classes)", "s: Sigmoid()"]\ntrain = { epochs = 20 }',
    )
    if articles == 2:  # its own seed: a pipeline of its own, trained beside the first's in a worker process
        (project / "content" / "second.toml").write_text("[train]\nseed = 1\n")
        (project / "content" / "second.md").write_text("---\ntitle: Second\nconfig: second.toml\n---\n\n# Two\n")
    build = subprocess.Popen(
        [sys.executable, "-m", "layerwise", "build", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # A shell running the suite in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    finished = "stage train one_neuron"  # it has finished, and is in the cache: said by its worker
    seen = ""
    while finished not in seen:
        seen += build.stdout.read(1)
        assert build.poll() is None, seen
    os.killpg(build.pid, sent) if to == "group" else os.kill(build.pid, sent)
    if sent == signal.SIGINT:
        rest = build.stdout.read()
        assert build.wait(timeout=30) == 130
        assert rest.strip().splitlines()[-1] == "stopped; the previous site is intact; finished models are cached"
        assert "Traceback" not in rest
    else:  # not reading to the end: an orphaned worker would hold the pipe open
        assert build.wait(timeout=30) == -sent
        build.stdout.close()
    assert (project / "site" / "index.html").read_text() == "<p>the previous site</p>"
    entries = list((project / "cache" / "train").glob("*.pickle"))
    assert len(entries) >= 1 and all(Cache(project / "cache").load(e) is not None for e in entries)
    for _ in range(50):  # the workers end with the build (a killed one's die a moment later)
        listed = subprocess.run(["ps", "-o", "stat=,args=", "-g", str(build.pid)], capture_output=True, text=True)
        running = [line for line in listed.stdout.splitlines() if not line.startswith("Z")]  # exited: zombies
        if not running:
            break
        time.sleep(0.1)
    assert not running, running
    with Cache(project / "cache").locked():  # the next build: a killed worker's half-written entry is gone
        assert not list((project / "cache").rglob("*.tmp"))


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_serve_survives_a_bad_save_shows_it_and_recovers(tmp_path, built, browser):
    from test_cli import config_file, layerwise_serve

    with layerwise_serve(config_file(tmp_path, built)) as (base, server):
        url = f"{base}/mnist.html"
        page = browser.new_page()
        page.goto(url)
        page.wait_for_timeout(500)  # subscribed to rebuilds
        index = tmp_path / "content" / "mnist.md"
        good = index.read_bytes()
        index.write_bytes(good.replace(b"A handwritten digit", b"A handwritten digit caf\xe9", 1))
        overlay = page.locator("#layerwise-build-error")
        overlay.wait_for(timeout=20_000)
        assert "is not UTF-8" in overlay.inner_text() and "mnist.md:" in overlay.inner_text()
        index.write_bytes(good.replace(b"A handwritten digit", b"A hand-drawn digit", 1))
        for _ in range(50):  # the next save rebuilds, and the page reloads
            if "A hand-drawn digit" in fetch(url):
                break
            time.sleep(0.2)
        assert "A hand-drawn digit" in fetch(url)
        # The page reloads itself (it may take seconds under load): the new text, and no overlay.
        expect(page.locator("main")).to_contain_text("A hand-drawn digit")
        expect(page.locator("#layerwise-build-error")).to_have_count(0)
        page.close()
    assert "is not UTF-8" in server.output and "rebuilt in" in server.output
    assert "Traceback" not in server.output
