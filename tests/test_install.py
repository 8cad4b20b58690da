"""Layerwise as an author installs it: the wheel, in a fresh virtualenv, outside this repository.

The virtualenv reuses the project's installed dependencies (torch and the rest) through a .pth
file, so nothing is downloaded; the wheel itself is installed with --no-deps. Its own build is
tiny (300 digits, 1 epoch, 1 seed, PCA only, no adversarial examples): about a minute on 2 busy
cores, most of it the four models' worker processes importing torch.
"""

import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from conftest import ROOT, serving, toml_text
from layerwise.assets import EMBEDDED_DIGITS, VENDORED
from layerwise.config import settings_reference

pytestmark = pytest.mark.browser

# What the tiny build changes in the settings `layerwise new` writes.
TINY = {
    "data": {"limit": 300},
    "train": {"epochs": 1},
    "record": {"sample_size": 50},
    "adversarial": {"count": 0},
    "analysis": {"layers": ["input", "softmax"]},
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)]
    subprocess.run(command, check=True, capture_output=True)
    (built,) = out.glob("layerwise-*.whl")
    return built


@pytest.fixture(scope="module")
def layerwise(wheel, tmp_path_factory):
    """`layerwise ARGS` from the wheel installed in a fresh virtualenv, run in `cwd`."""
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env, with_pip=False)
    site = Path(sysconfig.get_paths(vars={"base": str(env), "platbase": str(env)})["purelib"])
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = env / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)

    def run(*args, cwd):
        return subprocess.run([env / "bin" / "layerwise", *args], cwd=cwd, capture_output=True, text=True)

    run.python = python
    return run


@pytest.fixture(scope="module")
def project(layerwise, tmp_path_factory):
    """A project made by `layerwise new`, outside this repository."""
    folder = tmp_path_factory.mktemp("author") / "my-site"
    done = layerwise("new", str(folder), cwd=folder.parent)
    assert done.returncode == 0, done.stderr
    # a wheel from a local file is nowhere a CI machine can install from: the author is told so
    assert "installed from files on this machine, and it is not on PyPI" in done.stdout.splitlines()[-1]
    assert "# Layerwise is not on PyPI: replace this line" in (folder / "README.md").read_text()
    return folder


def test_the_wheel_holds_the_package_templates_and_only_the_web_assets_the_page_uses(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assets = sorted(name for name in names if name.startswith("layerwise/node_modules/"))
    wanted = [*VENDORED, EMBEDDED_DIGITS]  # the page's files, and the embedded data
    for source in wanted:
        assert any(
            a == f"layerwise/node_modules/{source}" or a.startswith(f"layerwise/node_modules/{source}/") for a in assets
        )
    assert all(any(a.removeprefix("layerwise/node_modules/").startswith(source) for source in wanted) for a in assets)
    templates = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").iterdir())
    assert [f"layerwise/{t}" for t in templates] == sorted(n for n in names if n.startswith("layerwise/templates/"))
    stated = re.search(r"The wheel is ([\d.]+) MB", (ROOT / "README.md").read_text())
    assert stated and abs(float(stated.group(1)) - wheel.stat().st_size / 1e6) < 0.5


def test_the_installed_tool_is_the_wheel_and_says_its_version(layerwise, tmp_path):
    where = subprocess.run(
        [layerwise.python, "-c", "import layerwise; print(layerwise.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(layerwise.python.parent.parent)), where.stdout  # not this repository's copy
    done = subprocess.run([layerwise.python, "-m", "layerwise", "--version"], capture_output=True, text=True)
    assert re.fullmatch(r"layerwise \d+\.\d+\.\d+\n", done.stdout)


def test_a_folder_with_nothing_to_build_says_to_run_new_once(layerwise, tmp_path):
    done = layerwise("build", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: no layerwise.toml and no content/ in {tmp_path}: start a project with `layerwise new .`"
    ]


def test_new_refuses_a_folder_that_is_not_empty(layerwise, project):
    before = sorted(project.rglob("*"))
    done = layerwise("new", ".", cwd=project)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: . is not empty; `layerwise new` writes a project into a new or empty folder"
    ]
    assert sorted(project.rglob("*")) == before


def test_new_writes_a_project_that_checks_builds_and_reads_a_digit_in_chromium(layerwise, project, page):
    assert {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()} == {
        "layerwise.toml",
        "content/index.md",
        "content/site.yml",
        ".gitignore",
        "README.md",
    }
    assert "/site/" in (project / ".gitignore").read_text().split()
    checked = layerwise("check", cwd=project)
    assert checked.returncode == 0 and "nothing to fix" in checked.stdout, checked.stderr
    assert not (project / "site").exists() and not (project / ".layerwise-cache").exists()  # nothing trained

    settings = tomllib.loads((project / "layerwise.toml").read_text())
    for table, values in TINY.items():
        settings.setdefault(table, {}).update(values)
    (project / "layerwise.toml").write_text(toml_text(settings) + "\n")
    built = layerwise("build", cwd=project)
    assert built.returncode == 0, built.stderr
    assert "\r" not in built.stdout + built.stderr  # not a terminal: no progress bars, a line per stage
    assert re.search(r"^\s+index stage train .*: [\d.]+ s$", built.stdout, re.M)
    assert re.findall(r"^\s+index\s+(\w+): held-out accuracy", built.stdout, re.M) == ["softmax", "cnn"]  # few
    # The author's own style.css replaces Layerwise's; the other templates stay Layerwise's.
    (project / "templates").mkdir()
    packaged = ROOT / "templates"
    (project / "templates" / "style.css").write_text((packaged / "style.css").read_text() + "/* mine */")
    quiet = layerwise("build", "--quiet", cwd=project)  # from the cache
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    home = (project / "site" / "index.html").read_text()
    assert "/* mine */" in home
    assert "All articles" not in home  # the one article is the index: no link to itself
    assert (project / "site" / "assets" / "explorer.js").read_bytes() == (packaged / "explorer.js").read_bytes()

    with serving(project / "site") as url:
        page.goto(url + "/index.html")
        page.locator(".layer-explorer").scroll_into_view_if_needed()
        status = page.locator(".layer-explorer .status")
        expect(status).to_contain_text("The network says", timeout=60_000)  # onnxruntime-web read a digit
        page.locator(".grand-tour").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
    assert page.console_errors == [] and page.foreign_requests == []


def test_new_with_an_image_folder_reads_its_classes_size_and_channels(layerwise, tmp_path):
    for name, colour in (("round", 40), ("square", 200), ("thin", 120)):
        (tmp_path / "shapes" / name).mkdir(parents=True)
        for i in range(20):
            Image.new("L", (12, 16), colour + i).save(tmp_path / "shapes" / name / f"{i}.png")
    done = layerwise("new", "leaves", "--data", "shapes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = tomllib.loads((tmp_path / "leaves" / "layerwise.toml").read_text())["data"]
    assert data["source"] == "folder" and data["root"] == "../shapes"
    assert data["classes"] == ["round", "square", "thin"] and data["size"] == [16, 12] and data["channels"] == 1
    # The lines it writes keep the template's comment column (29), as the lines around them do.
    section = (tmp_path / "leaves" / "layerwise.toml").read_text().split("[data]\n")[1].split("\n\n")[0]
    short = [line for line in section.splitlines() if len(line.split("#")[0].rstrip()) < 27]
    assert len(short) >= 6 and {line.index("# ") for line in short} == {29}, section
    checked = layerwise("check", cwd=tmp_path / "leaves")
    assert checked.returncode == 0, checked.stderr
    Image.new("L", (100, 80)).save(tmp_path / "shapes" / "thin" / "large.png")  # sizes differ, one too large
    assert layerwise("new", "resized", "--data", "shapes", cwd=tmp_path).returncode == 0
    assert tomllib.loads((tmp_path / "resized" / "layerwise.toml").read_text())["data"]["size"] == [32, 32]
    for name in ("round", "square"):  # one class left
        (tmp_path / "shapes" / name).rename(tmp_path / name)
    refused = layerwise("new", "one", "--data", "shapes", cwd=tmp_path)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1 and not (tmp_path / "one").exists()


def test_every_setting_is_in_the_readme_as_layerwise_settings_prints_it():
    assert settings_reference() in (ROOT / "README.md").read_text()


def test_web_assets_a_project_names_but_lacks_are_one_line_before_anything_trains(layerwise, tmp_path):
    assert layerwise("new", "p", cwd=tmp_path).returncode == 0
    settings = tmp_path / "p" / "layerwise.toml"
    settings.write_text('node_modules = "npm"\n' + settings.read_text())
    done = layerwise("build", cwd=tmp_path / "p")
    missing = "npm/plotly.js-cartesian-dist-min/plotly-cartesian.min.js"  # as the project's file names it
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"error: {missing} is missing: run `npm ci` in the project root"]
    assert not (tmp_path / "p" / ".layerwise-cache").exists()
