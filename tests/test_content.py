"""The article pipeline: Markdown in, HTML out, and every author's mistake located."""

import shutil
from pathlib import Path

import pytest

from layerwise.content import ContentError
from layerwise.render import render_site
from conftest import ROOT


@pytest.fixture
def site(tmp_path, built):
    """A content folder of our own rendered with the session's build data."""
    config, data = built
    config = {**config, "content": str(tmp_path / "content"), "out": str(tmp_path / "site")}
    (tmp_path / "content").mkdir()

    def render(text: str) -> str:
        (tmp_path / "content" / "index.md").write_text(text)
        render_site(config, data, Path(config["out"]))
        return (tmp_path / "site" / "index.html").read_text()

    render.config, render.data = config, data
    return render


def test_prose_values_math_figures_and_footnotes(site):
    html = site("---\ntitle: Test article\ndescription: A test\n---\n"
                "## Results\n\nThe CNN gets {{ metrics.cnn.test_accuracy | percent }}.[^1]\n\n"
                "$$\\frac{e^{z_i}}{\\sum_j e^{z_j}}$$\n\n"
                "```{figure} training-curves\n:metric: loss\n:label: fig-loss\nLoss per *epoch*.\n```\n\n"
                "[^1]: Held out.\n")
    accuracy = site.data["metrics"]["cnn"]["test_accuracy"]
    assert f"The CNN gets {100 * accuracy:.1f}%." in html
    assert "<title>Test article</title>" in html and 'content="A test"' in html
    assert 'class="katex' in html and "\\frac" not in html.split("<main")[1].split("annotation")[0]
    assert 'class="plotly-figure"' in html and "Figure 1." in html and "<em>epoch</em>" in html
    assert 'id="fig-loss"' in html and 'class="footnotes' in html
    assert 'id="results"' in html and "Content-Security-Policy" in html
    assert "<script" not in html.split("<main")[1]  # figures carry data, not inline scripts


def test_the_real_article_renders(built):
    html = (Path(built[0]["out"]) / "index.html").read_text()
    assert "layer-explorer" in html and "{{" not in html


@pytest.mark.parametrize("text,line,message", [
    ("# Hi\n\n```{figure} no-such-figure\n```\n", 3, "unknown figure 'no-such-figure'; registered figures: "),
    ("# Hi\n\n```{figure} training-curves\n:colour: red\n```\n", 4, "has no option ':colour:'"),
    ("# Hi\n\n```{figure} training-curves\n:metric: speed\n```\n", 4, "must be one of accuracy, loss"),
    ("---\ntitle: [unclosed\n---\n# Hi\n", 2, "front matter is not valid YAML"),
    ("# Hi\n\nline two\n\n{{ metrics.nope.accuracy }}\n", 5, "has no attribute 'nope'"),
    ("# Hi\n\n{{ metrics.cnn.test_accuracy | percnt }}\n", 3, "template syntax: No filter named 'percnt'"),
    ("---\ntitle: T\n---\n# Hi\n\nBad math $\\frac{1}{$ here.\n", 6, "invalid math"),
])
def test_mistakes_name_file_line_and_fix_and_keep_the_old_site(site, text, line, message):
    site("# A good page\n")
    old = (Path(site.config["out"]) / "index.html").read_text()
    with pytest.raises(ContentError) as error:
        site(text)
    assert f"index.md:{line}: " in str(error.value)
    assert message in str(error.value)
    assert (Path(site.config["out"]) / "index.html").read_text() == old
    assert not list(Path(site.config["out"]).parent.glob("site.new-*"))
