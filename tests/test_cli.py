"""The console script as a user runs it: real processes, real files, a real browser."""

import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import EVERY_ARTICLE, QUICK, ROOT, toml_text
from layerwise.config import merge
from layerwise.model.result import DatasetInfo
from layerwise.page.content import fill_values
from layerwise.tools.scaffold import ARTICLE, install_step


def config_file(tmp: Path, built) -> Path:
    """A TOML config matching the session's build, so its cache answers and nothing retrains."""
    paths = {"content": tmp / "content", "templates": ROOT / "templates", "node_modules": ROOT / "node_modules"}
    settings = {
        **{key: str(path) for key, path in paths.items()},
        "cache": built[0]["cache"],
        "out": str(tmp / "site"),
        **merge({"data": {"limit": built[0]["data"]["limit"]}}, QUICK),
        "every_article": EVERY_ARTICLE,
    }
    path = tmp / "layerwise.toml"
    path.write_text(toml_text(settings) + "\n")
    shutil.copytree(ROOT / "content", tmp / "content")
    return path


def layerwise(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "layerwise", *args], capture_output=True, text=True, **kwargs)


def errors(done) -> str:
    """What a build printed on stderr, less the notice that another build holds the shared cache
    (the session's cache is shared by the suite's workers: that line comes and goes with them)."""
    return "".join(
        line for line in done.stderr.splitlines(keepends=True) if not line.rstrip().endswith("waiting for it to finish")
    )


def test_help_explains_every_option():
    out = layerwise("build", "--help").stdout
    for option in ("--config", "--out", "--content", "--cache"):
        assert option in out
    assert "--port" in layerwise("serve", "--help").stdout


def files_of(folder: Path) -> dict:
    """Every file under `folder` with its bytes: what "the previous site, byte-identical" compares."""
    return {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def good_site(tmp_path_factory, built):
    """A site built by the command line from a copy of content/: (its folder, its config, its files)."""
    tmp = tmp_path_factory.mktemp("cli")
    config = config_file(tmp, built)
    assert layerwise("build", "--config", str(config)).returncode == 0
    return tmp, config, files_of(tmp / "site")


def append(name: str, text: str):
    """A mistake made by adding `text` to content/NAME."""
    return lambda content: (content / name).write_text((content / name).read_text() + text)


# A user's mistake -> the error lines it must print, {content} standing for the content folder,
# {line} for the mistake's line (the last of the file), {tmp} for the build's folder.
BAD_INPUT = {
    "a figure label that is not there": (
        append("mnist.md", "\nSee {numref}`fig-missing`.\n"),
        ["{content}/mnist.md:{line}: unknown figure label 'fig-missing'; labels on this page: fig-neuron, "],
    ),
    "every broken link, not only the first": (
        append("mnist.md", "\nSee [here](nowhere.md).\n\nAnd [there](#nowhere).\n"),
        [
            "{content}/mnist.md:{line_before}: link to 'nowhere.md': no such page or file; pages: ",
            "{content}/mnist.md:{line}: link to '#nowhere': mnist.md has no heading or figure '#nowhere'; its anchors:",
        ],
    ),
    "an empty article": (
        lambda content: (content / "draft.md").write_text(""),
        ["{content}/draft.md:1: the article is empty; write its text (a '# Title' and prose) or delete the file"],
    ),
    "a date that is not a day": (
        lambda content: (content / "mnist.md").write_text(
            (content / "mnist.md").read_text().replace("date: 2026-11-25", "date: yesterday-ish")
        ),
        ["{content}/mnist.md:7: 'date' must be a date like 2026-11-25 (the feed's entries are dated by it), got "],
    ),
    "template code reaching Python's internals": (
        append("mnist.md", "\nIt is {{ ''.__class__.__mro__ }}.\n"),
        ["{content}/mnist.md:{line}: access to attribute '__class__' of 'str' object is unsafe; prose may read"],
    ),
    "an output folder under a file": (
        lambda content: (content.parent / "a-file").write_text("not a folder"),
        ["cannot write to {tmp}/a-file/: File exists; a file is in the way of that folder: move it, or choose"],
        "{tmp}/a-file/site",
    ),
    "an output folder that is a file": (
        lambda content: (content.parent / "a-file").write_text("not a folder"),
        ["{tmp}/a-file is a file, not a folder; the site is a folder: choose another --out"],
        "{tmp}/a-file",
    ),
}


@pytest.mark.parametrize("mistake", BAD_INPUT)
def test_bad_input_is_one_line_each_exit_1_and_the_site_stays_as_it_was(good_site, mistake):
    """Each mistake: exit 1, one `error:` line per mistake naming the file (and line) or folder,
    no traceback, no half-written folder beside the site, the previous site byte-identical."""
    tmp, config, before = good_site
    make, expected, *out = BAD_INPUT[mistake]
    content = tmp / "content"
    originals = files_of(content)
    try:
        make(content)
        last = len((content / "mnist.md").read_text().splitlines())
        done = layerwise("build", "--config", str(config), *(["--out", out[0].format(tmp=tmp)] if out else []))
    finally:  # the content as it was, for the next mistake
        for path in content.rglob("*"):
            if path.is_file() and path.relative_to(content) not in originals:
                path.unlink()
        for name, data in originals.items():
            (content / name).write_bytes(data)
    assert done.returncode == 1, done.stderr
    printed = errors(done).splitlines()
    assert len(printed) == len(expected), done.stderr  # no traceback, nothing else
    for line, start in zip(printed, expected):
        assert line.startswith("error: " + start.format(content=content, tmp=tmp, line=last, line_before=last - 2))
    assert files_of(tmp / "site") == before
    assert not [p.name for p in tmp.iterdir() if p.name.startswith(("site.", ".site."))]


def test_a_content_only_rebuild_does_not_import_torch_or_start_node(tmp_path, built):
    """Its models, figures, typeset math and bibliography all come from the cache: no torch, no
    pybtex or PIL (what only computing them needs), and no node on PATH."""
    config = config_file(tmp_path, built)
    code = (
        "import sys; from layerwise.tools.cli import main; main(['build', '--config', sys.argv[1]]); "
        "print([name for name in ('torch', 'pybtex', 'PIL') if name in sys.modules])"
    )
    unreachable = {**os.environ, "PATH": str(tmp_path / "nothing here")}  # KaTeX's node would not be found
    done = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, env=unreachable)
    assert done.stdout.strip().endswith("[]"), done.stderr


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
        [sys.executable, "-m", "layerwise", "serve", "--config", str(config), "--port", str(port)],
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
        # A bound, not a speed: under the suite's load a stop took over 10 s once (CI, stop 37).
        server.output = server.communicate(timeout=60)[0]


def test_serve_rebuilds_and_reloads_the_page_when_content_changes(tmp_path, built, browser):
    with layerwise_serve(config_file(tmp_path, built)) as (url, server):
        page = browser.new_page()
        page.goto(f"{url}/mnist.html")
        expect(page.locator("h1")).to_contain_text("What each layer")
        time.sleep(0.5)  # let the page subscribe to rebuilds
        index = tmp_path / "content" / "mnist.md"
        index.write_text(index.read_text().replace("title: What each layer", "title: Freshly edited, what each layer"))
        expect(page.locator("h1")).to_contain_text("Freshly edited", timeout=20_000)
        page.close()
    assert "rebuilt in" in server.output, server.output
    # The preview (with its live-reload script) was built in a folder of its own, gone once stopped:
    # site/ is only what `layerwise build` writes.
    preview = Path(re.search(r"to (\S+)/ in ", server.output)[1])
    assert preview.name == "site" and preview.parent.name.startswith("layerwise-serve-"), server.output
    assert not preview.parent.exists() and not (tmp_path / "site").exists()


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A real disk of its own (tests run as root); skips where mounting is not allowed."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"a read-only or full disk needs a tmpfs of its own: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def test_a_read_only_or_full_disk_is_one_line_naming_the_folder_and_leaves_nothing(tmp_path, built):
    """The machine's problems are the user's to fix, not 'a bug in Layerwise': exit 1, one
    line naming the folder and what to do, no half-written site.new-*, the previous site as it was."""
    config = config_file(tmp_path, built)
    with tmpfs(tmp_path / "disk", "256m") as disk:
        out = disk / "site"
        build = ["build", "--config", str(config), "--out", str(out)]
        assert layerwise(*build).returncode == 0
        before = files_of(out)

        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        done = layerwise(*build)
        assert (done.returncode, errors(done)) == (
            1,
            f"error: cannot write to {disk}/: Read-only file system; it is on a read-only disk: "
            "choose another folder\n",
        )
        assert files_of(out) == before

        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        free = os.statvfs(disk)
        (disk / "filler").write_bytes(bytes(free.f_bavail * free.f_frsize - 2**20))  # 1 MB left
        done = layerwise(*build)
        assert done.returncode == 1 and len(errors(done).splitlines()) == 1, done.stderr
        assert errors(done).startswith(f"error: cannot write to {out}/")
        assert "No space left on device; free some space on its disk" in errors(done)
        assert files_of(out) == before
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "site"]

    with tmpfs(tmp_path / "mounted", "1m") as mounted:  # a build renames its site into place: not a disk
        done = layerwise("build", "--config", str(config), "--out", str(mounted))
        assert (done.returncode, errors(done)) == (
            1,
            f"error: {mounted}/ is a mount point; a build replaces the site's folder whole: "
            f"choose --out {mounted}/site\n",
        )
        assert list(mounted.iterdir()) == [] and not list(tmp_path.glob(".mounted.*"))


class Installed(importlib.metadata.Distribution):
    """A Layerwise distribution as pip recorded it: `direct_url` is its direct_url.json (PEP 610), or None."""

    def __init__(self, direct_url: dict | None):
        self.direct_url = direct_url

    def read_text(self, filename):
        if filename == "METADATA":
            return "Metadata-Version: 2.1\nName: layerwise\nVersion: 1.2.3\n"
        return json.dumps(self.direct_url) if filename == "direct_url.json" and self.direct_url else None

    def locate_file(self, path):
        return Path(path)


@pytest.mark.parametrize(
    "direct_url,line,reachable",
    [
        (
            {"url": "https://github.com/me/layerwise.git", "vcs_info": {"vcs": "git", "commit_id": "ab12"}},
            '- run: pip install "layerwise @ git+https://github.com/me/layerwise.git@ab12"',
            True,
        ),
        (None, '- run: pip install "layerwise==1.2.3"', True),
        ({"url": "file:///home/me/layerwise", "dir_info": {"editable": True}}, "- run: pip install layerwise", False),
        (
            {"url": "file:///tmp/layerwise-1.2.3-py3-none-any.whl", "archive_info": {}},
            "- run: pip install layerwise",
            False,
        ),
    ],
    ids=["git", "index", "editable clone", "local wheel"],
)
def test_the_publishing_workflow_installs_the_layerwise_the_project_was_made_with(direct_url, line, reachable):
    step, ok = install_step(Installed(direct_url))
    assert step.splitlines()[-1].strip() == line and ok == reachable
    assert ("replace this line with where your Layerwise comes from" in step) == (not reachable)


@pytest.mark.parametrize("shape,caption", [((1, 28, 28), "Draw, or pick a held-out"), ((3, 32, 32), "Pick a held-out")])
def test_the_starter_article_offers_drawing_only_where_the_page_has_a_pad(shape, caption):
    explorer = ARTICLE.split("```{{figure}} layer-explorer")[1].split("```")[0]
    dataset = DatasetInfo("shapes", shape, ["a", "b"], "image", "resize", 10, 10)
    filled = fill_values(Path("index.md"), explorer.format(), 0, {"dataset": dataset})
    assert filled.splitlines()[-2].startswith(caption)


def test_new_with_a_folder_too_small_to_build_says_so_as_it_is_made(tmp_path):
    """Three classes of 12 colour images hold out 7, too few to analyse: `layerwise new` says what
    its first build would refuse, naming the project's file, and a folder large enough says nothing."""
    from PIL import Image

    for count, folder in ((12, "few"), (30, "enough")):
        for name in ("red", "green", "blue"):
            (tmp_path / folder / name).mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (16, 16), (40 * i % 256, 90, 200)).save(tmp_path / folder / name / f"{i}.png")
    small = layerwise("new", "small", "--data", "few", cwd=tmp_path)
    assert small.returncode == 0, small.stderr
    said = [line for line in small.stdout.splitlines() if line.startswith("note: it will not build yet: ")]
    assert len(said) == 1 and "small/layerwise.toml: data.root" in said[0], small.stdout
    assert said[0].endswith("add images or raise data.test_fraction")
    fine = layerwise("new", "fine", "--data", "enough", cwd=tmp_path)
    assert fine.returncode == 0 and "will not build" not in fine.stdout, fine.stdout


def test_new_with_data_that_is_not_a_folder_names_the_option(tmp_path):
    """`new p --data nope` said "data.root = 'nope' is not a folder": a setting the author never wrote."""
    from layerwise.errors import BuildError
    from layerwise.tools.scaffold import new_project

    with pytest.raises(BuildError, match=r"^--data .*nope is not there: give a folder of images.* or text"):
        new_project(tmp_path / "p", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match=r"^--data .*empty holds no images and no text files"):
        new_project(tmp_path / "p", tmp_path / "empty")
    assert not (tmp_path / "p").exists()


def test_new_with_text_writes_a_text_project_for_its_task_that_checks_and_builds(tmp_path):
    """`new --data` took image folders only: a file or a folder of text files failed with 'has 0 class
    folder(s) ... put each class's images in a sub-folder'."""
    from layerwise.errors import BuildError
    from layerwise.tools.scaffold import new_project

    quotes = tmp_path / "quotes.txt"
    quotes.write_text("\n%\n".join(f"Quotation {i}: the quick brown fox jumps over the lazy dog." for i in range(300)))
    for language, words in (("en", "the and of to in is it"), ("de", "der die das und ist nicht ein")):
        (tmp_path / "words" / language).mkdir(parents=True)
        (tmp_path / "words" / language / "list.txt").write_text("\n".join(words.split() * 30))
    with pytest.raises(BuildError, match="^--task classify is for text"):
        new_project(tmp_path / "x", None, "classify")
    for data, task, expected in ((quotes, None, "next-token"), (tmp_path / "words", None, "classify")):
        project = tmp_path / expected
        new_project(project, data, task)
        settings = tomllib.loads((project / "layerwise.toml").read_text())
        assert settings["data"]["source"] == "text" and settings["data"]["task"] == expected
        assert settings["record"]["model"] in settings["models"]
    assert tomllib.loads((tmp_path / "next-token" / "layerwise.toml").read_text())["data"]["root"] == "../quotes.txt"
    checked = layerwise("check", cwd=tmp_path / "classify")
    assert checked.returncode == 0, checked.stderr
    # Their claims: the transformer beats the bigram; the GRU beats always answering the largest class.
    for task in ("next-token", "classify"):
        built = layerwise("build", cwd=tmp_path / task)
        assert built.returncode == 0, built.stderr
    page = (tmp_path / "next-token" / "site" / "index.html").read_text()
    assert 'class="text-explorer' in page and "training-history" in page


def test_new_with_text_says_what_will_not_build_and_what_the_starter_claims(tmp_path):
    """Found as a new author: `new --data /bin/ls` and `--data /usr/share/dict/ngerman` (a word list, one
    document) wrote a project with no note, failing at its first build; `--task classify` on one file
    wrote one that could not build; a file's note offered `--task classify`, which takes a folder; and
    the classifier's starter said a model 'reads 61.6% of them' and beats 'guessing' without saying
    what guess."""
    from layerwise.errors import BuildError
    from layerwise.tools.scaffold import data_problem, new_project

    binary, words = tmp_path / "program", tmp_path / "words.txt"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff\xfe text")
    words.write_text("\n".join(f"word{i}" for i in range(500)))
    with pytest.raises(BuildError, match=r"^--task classify reads a folder .*words\.txt is one file"):
        new_project(tmp_path / "one-file", words, "classify")
    for data, problem in ((binary, "not UTF-8 text"), (words, "holds 1 document")):
        new_project(tmp_path / f"from-{data.stem}", data)
        assert problem in data_problem(tmp_path / f"from-{data.stem}")
    (tmp_path / "one-language" / "de").mkdir(parents=True)
    (tmp_path / "one-language" / "de" / "list.txt").write_text("der\ndie\n")
    new_project(tmp_path / "from-one-language", tmp_path / "one-language")
    assert "has 1 class; Layerwise classifies 2 to" in data_problem(tmp_path / "from-one-language")  # not '1 classes'
    made = layerwise("new", str(tmp_path / "cli"), "--data", str(words), cwd=tmp_path)
    assert "holds 1 document" in made.stdout and "--task classify takes a folder" in made.stdout
    assert "reads it the other way" not in made.stdout
    for language in ("en", "de"):
        (tmp_path / "languages" / language).mkdir(parents=True)
        (tmp_path / "languages" / language / "list.txt").write_text("a\nb\n")
    new_project(tmp_path / "classify", tmp_path / "languages")
    article = " ".join((tmp_path / "classify" / "content" / "index.md").read_text().split())
    assert "names the class of {{ metrics.bag.test_accuracy" in article and " reads {{ metrics" not in article
    assert "Always answering the largest class would be right" in article  # the honest baseline, not one in N


def test_the_new_projects_readme_says_to_save_the_workflow_it_does_not_write(tmp_path):
    """The README named .github/workflows/pages.yml as if it were there; `new` writes no such file."""
    from layerwise.tools.scaffold import new_project

    new_project(tmp_path / "p")
    readme = (tmp_path / "p" / "README.md").read_text()
    assert not (tmp_path / "p" / ".github").exists()
    assert "save\nthis workflow as `.github/workflows/pages.yml` (it is not written for you)" in readme


def test_the_last_line_names_an_index_only_where_it_is_a_page_of_its_own():
    from layerwise.tools.build import wrote_line

    assert wrote_line(5, False, "site", 2.04) == "wrote 5 article(s) and the index to site/ in 2.0 s"
    assert wrote_line(1, True, "site", 2.04) == "wrote 1 article(s) to site/ in 2.0 s"  # a new project's one


def test_a_port_out_of_range_is_one_line_before_anything_builds(tmp_path):
    """`serve --port 99999` said 'internal error (OverflowError ...)': a bug in Layerwise."""
    done = layerwise("serve", "--port", "99999", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("argument --port: 99999 is not a port: give a number from 1 to 65535")
    assert not (tmp_path / "site").exists()


def test_output_piped_to_a_reader_that_stops_is_not_an_internal_error(tmp_path):
    """`layerwise settings | head -1` said 'internal error (BrokenPipeError ...)'."""
    done = subprocess.run(
        f"{sys.executable} -m layerwise settings | head -1", shell=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert done.stdout.startswith("| setting") and done.stderr == "", done.stderr


def test_a_misspelt_option_names_the_one_meant(tmp_path):
    done = layerwise("build", "--conifg", "x.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("unrecognized arguments: --conifg x.toml; did you mean --config?")
    assert layerwise("check", "--prot", cwd=tmp_path).stderr.splitlines()[-1].endswith("arguments: --prot")  # serve's


def test_serve_on_a_port_in_use_is_one_line_before_anything_builds(tmp_path):
    """A second `layerwise serve` on the same port said 'internal error ... a bug in Layerwise', after its build."""
    from layerwise.tools.scaffold import new_project

    new_project(tmp_path / "p")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = layerwise("serve", "--port", str(port), cwd=tmp_path / "p", timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use: stop what serves there, or choose another with --port"
    ]
    assert not (tmp_path / "p" / "site").exists() and not (tmp_path / "p" / ".layerwise-cache").exists()
