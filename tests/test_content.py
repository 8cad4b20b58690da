"""The article pipeline: Markdown in, HTML out, and every author's mistake located."""

from pathlib import Path

import pytest

from conftest import render_with
from layerwise.model.result import BuildResult, DatasetInfo
from layerwise.page.content import VALUE_NAMES, ContentError
from layerwise.stats import percent


@pytest.fixture
def site(tmp_path, built):
    """A content folder of our own rendered with the session's build data."""
    config, data = built
    config = {**config, "content": str(tmp_path / "content"), "out": str(tmp_path / "site")}
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "glossary.yml").write_text("ReLU: max(0, x), applied to every value.\n")
    (tmp_path / "content" / "refs.bib").write_text(
        "@article{li2020grand, title={Visualizing Neural Networks with the Grand Tour},\n"
        "  author={Li, Mingwei and Zhao, Zhenge and Scheidegger, Carlos}, journal={Distill}, year={2020}}\n"
        "@book{knuth, title={The TeXbook}, author={Knuth, Donald}, publisher={Addison-Wesley}, year={1984}}\n"
    )

    def render(text: str) -> str:
        (tmp_path / "content" / "index.md").write_text(text)
        render_with(config, data)
        return (tmp_path / "site" / "index.html").read_text()

    render.config, render.data = config, data
    return render


def test_prose_values_math_figures_and_footnotes(site):
    html = site(
        "---\ntitle: Test article\ndescription: A test\n---\n"
        "## Results\n\nThe CNN gets {{ metrics.cnn.test_accuracy | percent }}.[^1]\n\n"
        "$$\\frac{e^{z_i}}{\\sum_j e^{z_j}}$$\n\n"
        "```{figure} training-curves\n:metric: loss\n:label: fig-loss\nLoss per *epoch*.\n```\n\n"
        "[^1]: Held out.\n\n"
        '<aside class="note">Raw <abbr title="HyperText">HTML</abbr> is allowed.</aside>\n'
    )
    accuracy = site.data.models["cnn"].metrics["test_accuracy"]
    assert f"The CNN gets {percent(accuracy)}." in html
    assert "<title>Test article</title>" in html and 'content="A test"' in html
    assert 'class="katex' in html and "\\frac" not in html.split("<main")[1].split("annotation")[0]
    assert 'class="plotly-figure"' in html and "Figure 1." in html and "<em>epoch</em>" in html
    assert 'id="fig-loss"' in html and 'class="footnotes' in html
    assert 'id="results"' in html and "Content-Security-Policy" in html
    assert '<aside class="note">Raw <abbr title="HyperText">HTML</abbr> is allowed.</aside>' in html
    assert "<script" not in html.split("<main")[1]  # figures carry data, not inline scripts


def test_the_real_article_renders(built):
    html = (Path(built[0]["out"]) / "mnist.html").read_text()
    assert "layer-explorer" in html and "{{" not in html


def test_citations_terms_cross_references_and_title_block(site):
    html = site(
        "---\ntitle: T\nauthors:\n  - name: Ada Lovelace\n    affiliation: Analytical Engines\n"
        "date: 2026-11-25\nbibliography: refs.bib\n---\n"
        "As {numref}`fig-a` shows, a {term}`ReLU` cuts [@knuth; @li2020grand], again [@knuth].\n\n"
        "After [@knuth] a {term}`ReLU` and {numref}`fig-a` in one run of text.\n\n"
        "```{figure} ladder-table\n:label: fig-a\nA table, after [@li2020grand] with $x^2$.\n```\n"
    )
    main = html.split("<main")[1]
    assert '<a class="xref" href="#fig-a">Figure 1</a>' in main
    assert 'class="term" tabindex="0">ReLU<span class="definition tip" role="tooltip">max(0, x)' in main
    assert '[<a class="citation" href="#ref-knuth">1</a>, <a class="citation" href="#ref-li2020grand">2</a>]' in main
    assert 'again [<a class="citation" href="#ref-knuth">1</a>]' in main
    # a role after a citation in the same run of text is still resolved, not left as "{term}"
    assert "{term}" not in main and "{numref}" not in main
    assert 'After [<a class="citation" href="#ref-knuth">1</a>] a <span class="term" tabindex="0">ReLU' in main
    assert 'after [<a class="citation" href="#ref-li2020grand">2</a>] with <span class="katex' in main
    references = main.split('id="references"')[1]
    assert references.index('id="ref-knuth"') < references.index('id="ref-li2020grand"')
    assert "<em>Distill</em>" in references
    assert "Ada Lovelace" in html and "Analytical Engines" in html and 'datetime="2026-11-25"' in html


@pytest.mark.parametrize(
    "text,line,message",
    [
        ("---\nbibliography: refs.bib\n---\n# Hi\n\nAs shown [@nobody].\n", 6, "unknown citation key 'nobody'"),
        ("# Hi\n\nAs shown [@li2020grand].\n", 3, "add 'bibliography: references.bib' to its front matter"),
        ("# Hi\n\nSee {numref}`fig-nope`.\n", 3, "unknown figure label 'fig-nope'"),
        ("# Hi\n\nA {term}`sigmoid` here.\n", 3, "'sigmoid' is not in"),
        ("---\ntitle: T\ntitel: T\n---\n# Hi\n", 3, "unknown front matter key 'titel'"),
        ("# Hi\n\n```{figure} no-such-figure\n```\n", 3, "unknown figure 'no-such-figure'; registered figures: "),
        ("# Hi\n\n```{figure} training-curves\n:colour: red\n```\n", 4, "has no option ':colour:'"),
        ("# Hi\n\n```{figure} training-curves\n:metric: speed\n```\n", 4, "must be one of accuracy, loss"),
        ("# Hi\n\n```{figure} layer-detail\n:layer: conv9\n```\n", 3, "must be a layer of cnn: one of conv1, pool1"),
        ("# Hi\n\n```{figure} layer-detail\n:layer: conv1\n:position: 30,2\n```\n", 3, "row 0 to 23 and column 0"),
        ("```{figure} grand-tour\n:label: t\n```\n\n[v](#t?lair=fc1)\n", 5, "has no view key 'lair'; its keys: layer"),
        ("```{figure} grand-tour\n:label: t\n```\n\n[v](#t?layer=fc9)\n", 5, "'layer' must be a layer of cnn"),
        ("```{figure} grand-tour\n:label: t\n```\n\n[v](#t?epoch=0.3)\n", 5, "a recorded epoch: one of 0, 0.13"),
        ("```{figure} grand-tour\n:label: t\n```\n\n[v](#t?points=AAA)\n", 5, "'points' must be a bitmask of the"),
        ("```{figure} grand-tour\n:label: t\n```\n\n[v](#t?example=q+)\n", 5, "'example' must be base64url text"),
        ("```{figure} grand-tour\n:label: t\n```\n\n[v](#t?example=AAAA)\n", 5, "'example' must be an example as"),
        ("## Part\n\n[v](#part?layer=fc1)\n", 3, "'#part' is not a figure whose view a link can set"),
        ("---\ntitle: [unclosed\n---\n# Hi\n", 2, "front matter is not valid YAML"),
        ("# Hi\n\nline two\n\n{{ metrics.nope.accuracy }}\n", 5, "metrics.nope: this article has no model 'nope'"),
        ("# Hi\n\n{{ metrics.cnn.test_accuracy | percnt }}\n", 3, "template syntax: No filter named 'percnt'"),
        ("# Hi\n\n{{ metrics.cnn.test_acuracy | percent_ci }}\n", 3, "no attribute 'test_acuracy' (it has: title,"),
        ("# Hi\n\n{{ metrics.cnnn.parameters | number }}\n", 3, "has no model 'cnnn'; its models: "),
        ("# Hi\n\n{{ metrics.cnn.parameter }}\n", 3, "no attribute 'parameter' (it has: title,"),
        ("# Hi\n\nSo {claim}`metrics.cnn.test_acuracy > 0.5`.\n", 3, "no attribute 'test_acuracy' (it has: "),
        ("---\ntitle: T\n---\n# Hi\n\nBad math $\\frac{1}{$ here.\n", 6, "invalid math"),
        ("", 1, "the article is empty; write its text"),
        ("---\ntitle: Only a title\n---\n\n", 4, "the article is empty"),
        ("---\ndate: yesterday-ish\n---\n# Hi\n", 2, "'date' must be a date like 2026-11-25"),
        ("---\ntitle: T\ndate: 2026-02-30\n---\n# Hi\n", 3, "'date' is not a real day"),
        ("# Hi\n\n{{ ''.__class__.__mro__ }}\n", 3, "'__class__' of 'str' object is unsafe; prose may read the build"),
        ("# Hi\n\n{{ most_confused.__globals__ }}\n", 3, "'__globals__' of 'function' object is unsafe"),
    ],
)
def test_mistakes_name_file_line_and_fix_and_keep_the_old_site(site, text, line, message):
    site("# A good page\n")
    old = (Path(site.config["out"]) / "index.html").read_text()
    with pytest.raises(ContentError) as error:
        site(text)
    assert f"index.md:{line}: " in str(error.value)
    assert message in str(error.value)
    assert (Path(site.config["out"]) / "index.html").read_text() == old
    assert not list(Path(site.config["out"]).parent.glob("site.new-*"))


def test_every_wrong_figure_of_every_page_is_said_at_once(site):
    """Two wrong figures on one page and one on another: three lines, each at its own file:line."""
    content = Path(site.config["content"])
    (content / "other.md").write_text("# Other\n\n```{figure} training-curves\n:metric: speed\n```\n")
    with pytest.raises(ContentError) as error:
        site("# Hi\n\n```{figure} no-such-figure\n```\n\n```{figure} training-curves\n:colour: red\n```\n")
    lines = str(error.value).splitlines()
    assert len(lines) == 3, lines
    assert "index.md:3: unknown figure 'no-such-figure'" in lines[0] and "index.md:7: " in lines[1]
    assert "has no option ':colour:'" in lines[1]
    assert "other.md:4: " in lines[2] and "must be one of accuracy, loss" in lines[2]


def test_long_class_names_take_two_lines_over_a_weight_template():
    """Over a fifth of a phone's width, "T-shirt/top" ran into "Trouser" beside it."""
    from layerwise.page.figures.ten_neurons import two_lines

    assert [two_lines(c) for c in ("T-shirt/top", "Ankle boot", "Trouser", "airplane", "7")] == [
        "T-shirt/<br>top",
        "Ankle<br>boot",
        "Trouser",
        "airplane",
        "7",
    ]


def test_the_value_names_check_knows_are_those_the_build_gives():
    info = DatasetInfo("digits", (1, 8, 8), ["0", "1"], "digit", "resize", 8, 2)
    result = BuildResult(info, models={}, examples={}, tour={}, manifold={"layers": {}}, files={})
    assert set(result.values()) == set(VALUE_NAMES)
