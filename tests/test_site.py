"""A site of articles: each with its own data and models, an index, navigation, a feed, share
cards, and links and references checked across articles."""

import gzip
import json
import os
import re
import stat
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import brotli
import pytest
from playwright.sync_api import expect

from conftest import render_with, small_config
from layerwise.cache import Cache
from layerwise.config import ConfigError
from layerwise.page.articles import plan_site
from layerwise.page.content import ContentError
from layerwise.page.render import precompress
from layerwise.tools.build import build

ATOM = "{http://www.w3.org/2005/Atom}"


def test_two_articles_on_different_data_build_into_one_site(site_build):
    config, results = site_build
    out = Path(config["out"])
    assert results["mnist"].dataset.noun == "digit" and results["fashion"].dataset.noun == "garment"
    assert results["fashion"].classes[0] == "T-shirt/top"
    # Each article's files under its own folder; the vendored assets once for the whole site.
    for slug in ("mnist", "fashion"):
        assert (out / slug / "models" / "cnn.onnx").stat().st_size > 10_000
        assert (out / slug / "thumbnail.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(out.rglob("ort-wasm-simd-threaded.wasm"))) == 1
    index = (out / "index.html").read_text()
    for slug, title in [("mnist", "What each layer"), ("fashion", "Which layers change")]:
        assert f'href="{slug}.html"' in index and title in index and f'src="{slug}/thumbnail.png"' in index
    fashion = (out / "fashion.html").read_text()
    assert 'rel="prev" href="mnist.html"' in fashion and 'href="index.html"' in fashion
    assert '<meta property="og:image" content="fashion/thumbnail.png">' in fashion
    assert '<meta name="twitter:card" content="summary_large_image">' in fashion
    assert "Fashion-MNIST, 12,000 garments" in fashion
    feed = ET.parse(out / "feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links[0] == "playground.html" and links[-2:] == ["fashion.html", "mnist.html"]  # newest first
    assert set(links) >= {f"{slug}.html" for slug in results} and len(set(links)) == len(links)  # every article once
    assert all(e.find(f"{ATOM}updated").text.endswith("T00:00:00Z") for e in entries)


def test_an_articles_byline_and_share_image_say_what_its_figures_draw(site_build):
    """content/playground.md trains on points of its own (its build is MNIST's, shared): its byline,
    share card and index card name those points and picture them, never MNIST or digits; an
    article of its dataset still names and pictures that."""
    config, results = site_build
    out = Path(config["out"])
    page = (out / "playground.html").read_text()
    said = "\n".join(re.findall(r"<meta [^>]*>", page)) + page[page.index('<dl class="byline">') : page.index("</dl>")]
    drawn = re.findall(r"^:data: (\S+)$", (Path(config["content"]) / "playground.md").read_text(), re.M)
    assert len(drawn) >= 2 and f"<dd>2-D points: {', '.join(dict.fromkeys(drawn))}</dd>" in said
    assert not re.search(r"mnist|digit", said, re.I), said
    picture = (out / "playground" / "thumbnail.png").read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and picture != results["playground"].files["thumbnail.png"]
    width = int.from_bytes(picture[16:20], "big")
    assert f'<meta property="og:image:width" content="{width}">' in said
    index = (out / "index.html").read_text()
    card = index[index.index('href="playground.html"') :].split("</li>")[0]
    assert "2-D points" in card and not re.search(r"mnist|digit", card, re.I)
    mnist = (out / "mnist.html").read_text()
    assert "<dd>MNIST (embedded), " in mnist and "of each class of MNIST" in mnist
    assert (out / "mnist" / "thumbnail.png").read_bytes() == results["mnist"].files["thumbnail.png"]


def results_of(page, slug: str) -> dict:
    """The picker's examples and class names, as the page reads them."""
    return page.evaluate(
        """async (slug) => ({
            ...(await (await fetch(`${slug}/data/examples.json`)).json()),
            classes: JSON.parse(document.getElementById("layerwise-contract").textContent).dataset.classes,
        })""",
        slug,
    )


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_the_site_is_served_precompressed_like_a_static_host(server, site_build, encoding):
    out = Path(site_build[0]["out"])
    wasm = out / "vendor" / "ort" / "ort-wasm-simd-threaded.wasm"
    request = urllib.request.Request(f"{server}/vendor/ort/ort-wasm-simd-threaded.wasm")
    request.add_header("Accept-Encoding", encoding)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == encoding
        assert response.headers["Content-Type"] == "application/wasm"
        packed = response.read()
    unpack = brotli.decompress if encoding == "br" else gzip.decompress
    assert len(packed) < wasm.stat().st_size / 3 and unpack(packed) == wasm.read_bytes()
    assert (out / "mnist.html.br").exists() and (out / "mnist" / "tour" / "cnn" / "meta.json.gz").exists()


@pytest.mark.browser
def test_the_second_articles_explorer_and_tour_work(page, server):
    page.goto(server + "/fashion.html")
    explorer = page.locator(".layer-explorer")
    explorer.scroll_into_view_if_needed()
    expect(explorer.locator(".status")).to_contain_text("The network says", timeout=60_000)
    examples = results_of(page, "fashion")
    for k in (0, 3):  # held-out garments: the page's network says what the build's said
        explorer.locator(".picker button").nth(k).click()
        said = examples["classes"][examples["predictions"]["cnn"][k]]  # the explorer shows the CNN
        expect(explorer.locator(".status")).to_have_text(f"The network says: {said}.")
    tour = page.locator(".grand-tour")
    tour.scroll_into_view_if_needed()
    for _ in range(100):  # the tour draws frames once its data is in
        if int(tour.get_attribute("data-frames") or 0) > 3:
            break
        page.wait_for_timeout(100)
    assert int(tour.get_attribute("data-frames")) > 3
    assert page.console_errors == [] and page.foreign_requests == []
    assert any("/fashion/tour/cnn/" in url for url in page.requested)


def two_articles(tmp_path: Path, a: str, b: str, config: dict) -> dict:
    (tmp_path / "content").mkdir(exist_ok=True)
    (tmp_path / "content" / "a.md").write_text(a)
    (tmp_path / "content" / "b.md").write_text(b)
    return {**config, "content": str(tmp_path / "content"), "out": str(tmp_path / "site")}


FIGURE = "```{figure} confusion-matrix\n:model: softmax\n:label: fig-confusion\nConfusion.\n```\n"


@pytest.mark.parametrize(
    "b, message",
    [
        ("# B\n\nSee [a](c.md).\n", "b.md:3: link to 'c.md': no such page or file; pages: a.md, b.md"),
        ("# B\n\nSee [a](a.md#nowhere).\n", "b.md:3: link to 'a.md#nowhere': a.md has no heading or figure"),
        ("# B\n\nSee [below](#nowhere).\n", "b.md:3: link to '#nowhere': b.md has no heading or figure"),
        ("# B\n\n\nSee {numref}`c:fig-confusion`.\n", "b.md:4: {numref}`c:fig-confusion`: no article 'c'"),
        ("# B\n\nSee {numref}`a:fig-x`.\n", "b.md:3: unknown figure label 'fig-x'; labels in a.md: fig-confusion"),
    ],
)
def test_a_broken_link_or_reference_across_articles_names_the_line(tmp_path, built, b, message):
    config, data = built
    config = two_articles(tmp_path, "# A\n\n## Part one\n\n" + FIGURE, b, config)
    with pytest.raises(ContentError) as error:
        render_with(config, data)
    assert str(error.value).startswith(f"{tmp_path / 'content'}/{message}")
    assert not (tmp_path / "site").exists()


def test_every_broken_link_of_the_site_is_reported_at_once(tmp_path, built):
    config, data = built
    a = "# A\n\nSee [b](b.md#nowhere).\n"
    config = two_articles(tmp_path, a, "# B\n\nSee [c](c.md).\n\nAnd {numref}`a:fig-x`, [d](d.md).\n", config)
    with pytest.raises(ContentError) as error:
        render_with(config, data)
    content = tmp_path / "content"
    assert [line.split(":", 2)[:2] for line in str(error.value).splitlines()] == [
        [f"{content}/a.md", "3"],
        [f"{content}/b.md", "3"],
        [f"{content}/b.md", "5"],
        [f"{content}/b.md", "5"],
    ]
    assert "'d.md': no such page" in str(error.value) and "unknown figure label 'fig-x'" in str(error.value)
    assert not (tmp_path / "site").exists()


def test_links_and_references_between_articles_resolve(tmp_path, built, capsys):
    config, data = built
    b = "# B\n\nSee [part one](a.md#part-one), {numref}`a:fig-confusion` and [the source](https://example.org/x).\n"
    config = two_articles(tmp_path, "---\ntitle: Article A\n---\n\n## Part one\n\n" + FIGURE, b, config)
    render_with(config, data)
    html = (tmp_path / "site" / "b.html").read_text()
    assert '<a href="a.html#part-one">part one</a>' in html
    assert '<a class="xref" href="a.html#fig-confusion">Figure 1 of <cite>Article A</cite></a>' in html
    assert '<a href="https://example.org/x">' in html


def test_an_article_can_be_the_home_page(tmp_path, built):
    config, data = built
    home, other = "---\ntitle: Home\nindex: true\n---\n# A\n", "---\ntitle: Other\n---\n# B\n"
    config = two_articles(tmp_path, home, other, config)
    render_with(config, data)
    home = (tmp_path / "site" / "index.html").read_text()
    assert "<title>Home</title>" in home and 'href="b.html"' in home and "More articles" in home
    assert not (tmp_path / "site" / "a.html").exists()
    # The footer's way home is on the other article, not on the home page itself.
    other = (tmp_path / "site" / "b.html").read_text()
    assert "All articles" not in home and '<a href="index.html">All articles</a>' in other


def test_shared_stages_train_once_and_each_article_has_its_own_settings(tmp_path):
    """Two articles on the same digits: the model they share is trained once; the one only the
    second names is trained for it alone."""
    config = small_config(tmp_path)
    config["every_article"] = {"train": {"epochs": 1, "seeds": 1}, "analysis": {"layers": "auto", "methods": ["pca"]}}
    config["record"]["sample_size"] = 100
    model = ["f: Flatten()", "fc: Linear(pixels, classes)", "s: Softmax(dim=1)"]
    (tmp_path / "content").mkdir()
    wide = ["f: Flatten()", "fc1: Linear(pixels, 16)", "r: ReLU()", "fc2: Linear(16, classes)", "s: Softmax(dim=1)"]
    (tmp_path / "content" / "b.toml").write_text(f"[models.wide]\nlayers = {json.dumps(wide)}\n[train]\nseed = 0\n")
    config = two_articles(
        tmp_path,
        "# A\n\n{{ metrics.soft.test_accuracy | percent }}\n",
        "---\nconfig: b.toml\n---\n# B\n\n{{ metrics.wide.test_accuracy | percent }}\n",
        {**config, "models": {"soft": {"layers": model}}, "record": {**config["record"], "model": "soft"}},
    )
    results, _ = build(config)
    assert set(results["a"].models) == {"soft"} and set(results["b"].models) == {"soft", "wide"}
    assert len(list((tmp_path / "cache" / "train").glob("*.pickle"))) == 2  # soft once, wide once
    assert len(list((tmp_path / "cache" / "pipeline").glob("*.pickle"))) == 2
    a, b = (results[k].models["soft"].metrics["test_accuracy"] for k in "ab")
    assert a == b


def test_article_settings_mistakes_are_named_before_anything_loads(tmp_path, built):
    config = {k: v for k, v in built[0].items() if k != "every_article"}
    content = tmp_path / "content"
    config = two_articles(
        tmp_path,
        "---\nlayerwise: {train: {epochs: 0}, out: elsewhere}\n---\n# A\n",
        "---\nconfig: missing.toml\n---\n# B\n",
        config,
    )
    with pytest.raises(ConfigError) as error:
        plan_site(config)
    assert error.value.lines == [
        f"{content}/a.md (front matter 'layerwise:'): out: is a setting of the whole site; "
        "set it in the build's config or on the command line",
        f"{content}/b.md:2: config: {content}/missing.toml not found; put the TOML file there or fix the name",
    ]
    (content / "a.md").write_text("---\nlayerwise: {train: {epochs: 0}}\n---\n# A\n")
    (content / "b.md").write_text("---\nindex: yes please\n---\n# B\n")
    with pytest.raises(ContentError, match=r"b.md:2: 'index' must be true or false"):
        plan_site(config)
    (content / "b.md").write_text("# B\n")
    with pytest.raises(ConfigError, match=r"a.md \(front matter 'layerwise:'\): train.epochs: must be a whole number"):
        plan_site(config)
    (content / "a.md").write_text("# A\n")
    (content / "site.yml").write_text("title: Mine\ntitel: typo\n")
    with pytest.raises(ContentError, match=r"site.yml:2: unknown key 'titel'; known: title, description, url"):
        plan_site(config)


def test_every_published_file_is_world_readable_whatever_the_umask(tmp_path, built):
    """0644 files and 0755 folders under a umask of 077 (an atomic write's temporary file is
    0600): a static host or web server running as another user can serve every one. None is a
    hard link into the cache, whose damage would reach the published site, nor, after a rebuild,
    into the site it replaced (what did not change is linked from it until it is removed)."""
    config, data = built
    config = two_articles(tmp_path, "# A\n\nA page.\n", "# B\n\nAnother page.\n", config)
    umask = os.umask(0o077)
    try:
        render_with(config, data)
        (tmp_path / "content" / "b.md").write_text("# B\n\nAnother page, edited.\n")
        render_with(config, data)
    finally:
        os.umask(umask)
    out = tmp_path / "site"
    assert "Another page, edited." in (out / "b.html").read_text()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("site.")]  # the old site is gone
    paths = [out, *out.rglob("*")]
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_dir()} == {0o755}
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_file()} == {0o644}
    assert {p.stat().st_nlink for p in paths if p.is_file()} == {1}
    assert (out / "a.html.gz").is_file() and (out / "vendor" / "ort" / "ort-wasm-simd-threaded.wasm.br").is_file()


def test_a_damaged_compressed_file_in_the_cache_is_recomputed_and_never_published(tmp_path, capsys):
    """NAME.gz and NAME.br are cache entries like any other: checksummed when read, a damaged one
    said in one line and compressed again; the site has copies, so damage in the cache never
    reaches a site already published either."""
    page = ("<p>" + "what each layer does " * 500 + "</p>").encode()
    cache = Cache(tmp_path / "cache")
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.html").write_bytes(page)
    precompress(tmp_path / "first", cache)
    (entry,) = (tmp_path / "cache" / "compressed").iterdir()
    entry.write_bytes(entry.read_bytes()[:100])  # truncated, as by a full disk or a broken copy
    precompress(tmp_path / "second", cache)
    (warning,) = capsys.readouterr().err.splitlines()
    assert warning.startswith("warning: ") and str(entry) in warning and "damaged" in warning
    for name in ("first", "second"):
        assert gzip.decompress((tmp_path / name / "a.html.gz").read_bytes()) == page
        assert brotli.decompress((tmp_path / name / "a.html.br").read_bytes()) == page
    assert Cache(tmp_path / "cache").load(entry) is not None  # stored again, whole


def test_a_rebuild_takes_the_previous_sites_compressed_copies_of_what_did_not_change(tmp_path):
    """A file with the same bytes as in the site it replaces keeps that site's NAME.gz and
    NAME.br (no cache entry read or written); a changed one is compressed anew."""
    same, edited = ("<p>" + "what each layer does " * 500 + "</p>").encode(), b"<p>" + b"a layer " * 500 + b"</p>"
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "same.html").write_bytes(same)
    (tmp_path / "old" / "edited.html").write_bytes(b"<p>" + b"the layer " * 500 + b"</p>")
    precompress(tmp_path / "old", Cache(tmp_path / "old-cache"))
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "same.html").write_bytes(same)
    (tmp_path / "new" / "edited.html").write_bytes(edited)
    precompress(tmp_path / "new", Cache(tmp_path / "cache"), previous=tmp_path / "old")
    for name in ("same.html.gz", "same.html.br"):
        assert (tmp_path / "new" / name).read_bytes() == (tmp_path / "old" / name).read_bytes()
    assert gzip.decompress((tmp_path / "new" / "edited.html.gz").read_bytes()) == edited
    assert brotli.decompress((tmp_path / "new" / "edited.html.br").read_bytes()) == edited
    assert len(list((tmp_path / "cache" / "compressed").iterdir())) == 1  # the edited page's alone


@pytest.mark.parametrize("path", ["/%00../", "/mnist.html%00", "/vendor/%00/x.js"])
def test_the_server_answers_a_nul_byte_in_a_path_with_400_not_a_traceback(server, capfd, path):
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(server + path, timeout=10)
    assert answer.value.code == 400
    assert "Traceback" not in capfd.readouterr().err


def test_the_server_lists_no_folder_as_a_static_host_does_not(server):
    """/assets/ listed its files (http.server's default); a folder with an index.html is its page."""
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(server + "/assets/", timeout=10)
    assert answer.value.code == 404
    with urllib.request.urlopen(server + "/", timeout=10) as home:
        assert b"<html" in home.read()
