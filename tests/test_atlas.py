"""The atlas figure (figures/atlas.py): its tiles are the mean of the sample's examples in each
cell of the manifold map, its options fail in one line, and the reader's example lands on the
cell of its nearest sample neighbour in the page; and the 7-vs-1 attribution's numbers."""

import base64
import html
import io
import json
import re

import numpy as np
import pytest
from PIL import Image, ImageColor
from playwright.sync_api import expect

from layerwise.contract import class_colours, site_path
from layerwise.page.figures import FIGURES, FigureError
from layerwise.page.figures.atlas import BORDER, analysed_method, atlas, compute_atlas
from layerwise.page.figures.attribution import attribution_numbers
from test_tour_reader import explorer_ready, wait_for

LAYER = "relu3"  # the layer content/mnist.md's atlas shows


def sample_of(result) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 pixels (N, C*H*W), labels (N,)) of the recorded sample, read from the tour's files."""
    model = result.tour["model"]
    meta = json.loads(result.files[site_path("tour_meta", model=model)])
    start, length = meta["layout"]["thumbnails"]
    data = np.frombuffer(result.files[site_path("tour_sample", model=model)], dtype=np.uint8)
    return data[start : start + length].reshape(meta["n"], -1), np.asarray(result.manifold["labels"])


def picture_of(figure_html: str) -> np.ndarray:
    """The atlas' tiles as the figure carries them: its image trace's PNG, (rows, columns, RGBA)."""
    fig = json.loads(html.unescape(re.search(r'data-plotly="([^"]*)"', figure_html).group(1)))
    source = fig["data"][0]["source"]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


def test_each_tile_is_the_mean_of_the_examples_in_its_cell_bordered_by_their_commonest_label(built):
    result = built[1]
    method = analysed_method(None, result)
    found = compute_atlas(result, LAYER, method)
    view = np.asarray(result.manifold["layers"][LAYER]["views"][method], dtype=np.float64)  # (N, 2)
    pixels, labels = sample_of(result)
    n = found.columns
    # The grid recomputed: n equal steps over the occupied extent, the top row first.
    low, high = view.min(0), view.max(0)
    column = np.clip(np.floor((view[:, 0] - low[0]) / (high[0] - low[0]) * n), 0, n - 1).astype(int)
    row = n - 1 - np.clip(np.floor((view[:, 1] - low[1]) / (high[1] - low[1]) * n), 0, n - 1).astype(int)
    assert (found.cells == row * n + column).all()
    drawn = atlas(result, LAYER, method)
    picture = picture_of(drawn)
    # The cells in words too (keyboard, screen readers): one row per occupied cell, top row first.
    said = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>(\d+) ", drawn)
    occupied = np.flatnonzero(np.bincount(found.cells, minlength=n * n))
    assert [(int(r) - 1) * n + int(c) - 1 for r, c, _ in said] == occupied.tolist()
    assert [int(count) for *_, count in said] == np.bincount(found.cells)[occupied].tolist()
    channels, height, width = result.dataset.shape
    palette = class_colours(len(result.classes))
    for cell in range(n * n):
        members = np.flatnonzero(found.cells == cell)
        top, left = (cell // n) * (height + 2 * BORDER), (cell % n) * (width + 2 * BORDER)
        box = picture[top : top + height + 2 * BORDER, left : left + width + 2 * BORDER]  # (h, w, RGBA)
        if not len(members):
            assert np.isnan(found.tiles[cell]).all() and (box[..., 3] == 0).all()  # empty: transparent
            continue
        mean = pixels[members].astype(np.float64).mean(axis=0)  # (C*H*W,)
        np.testing.assert_allclose(found.tiles[cell], mean, rtol=0, atol=1e-9)
        ink = np.round(mean).reshape(channels, height, width)
        shown = box[BORDER:-BORDER, BORDER:-BORDER, :3]  # (H, W, 3)
        expected = 255 - ink[0][..., None] if channels == 1 else ink.transpose(1, 2, 0)  # dark ink on white
        assert (shown == np.broadcast_to(expected, shown.shape)).all(), f"cell {cell}"
        commonest = np.bincount(labels[members]).argmax()
        assert tuple(box[0, 0, :3]) == ImageColor.getrgb(palette[commonest]), f"cell {cell}'s border"
    assert found.occupied == len(np.unique(found.cells))
    assert 0 < found.pure <= found.occupied


def test_a_wrong_option_is_one_line_naming_it_and_the_allowed_ones(built):
    result, atlas_figure = built[1], FIGURES["atlas"]
    layers, methods = list(result.manifold["layers"]), list(result.manifold["layers"][LAYER]["views"])
    for option, wrong, allowed in (("layer", "relu9", layers), ("method", "isomap", methods)):
        with pytest.raises(FigureError) as raised:
            atlas_figure.check_options({option: (wrong, 7)}, result)
        message = str(raised.value)
        assert "\n" not in message and raised.value.line == 7
        assert f"':{option}:'" in message and f"'{wrong}'" in message and ", ".join(allowed) in message


def test_integrated_gradients_for_the_prose_are_complete_for_the_class_on_the_example(built):
    """The numbers content/mnist.md quotes (its claim compares them): integrated gradients by the
    build's own gradient graph, whose attributions add up to the score's change within 1%."""
    numbers = attribution_numbers(built[1], lambda figure, arguments, compute: compute())
    seven, one = numbers("cnn", "7", "7"), numbers("cnn", "7", "1")
    assert seven["error"] < 0.01
    assert 0 <= one["upper_share"] <= 1 and 0 <= seven["upper_share"] <= 1


@pytest.mark.browser
def test_the_atlas_draws_and_the_readers_example_lands_on_its_nearest_neighbours_cell(built, page, server):
    result = built[1]
    found = compute_atlas(result, LAYER, analysed_method(None, result))
    page.goto(f"{server}/mnist.html")
    explorer_ready(page)
    figure = page.locator("figure:has(.atlas-note) .plotly-figure")
    # Its note says how to read a cell, not again what the article's paragraph and caption say.
    note = " ".join(page.locator(".atlas-note").inner_text().split())
    caption = page.locator("figure:has(.atlas-note) figcaption").inner_text()
    assert "mean of the digits" in note and "Hover" in caption and "Hover" not in note and "ring" not in note
    figure.scroll_into_view_if_needed()
    expect(figure.locator("svg image")).to_have_count(1, timeout=60_000)  # the tiles, drawn by Plotly
    expect(figure).to_have_attribute("data-reader-cell", re.compile(r"\d+"), timeout=60_000)  # the explorer's first
    p = 3  # a sample example, loaded into the explorer: its nearest neighbour in relu3 is itself
    page.evaluate(
        """async ([model, p]) => {
        const { loadSample, pickExample } = await import('./assets/runtime.js');
        const sample = await loadSample(model);
        pickExample(sample.thumbnail(p), sample.labels[p]);
    }""",
        [result.tour["model"], p],
    )
    meta = json.loads(result.files[site_path("tour_meta", model=result.tour["model"])])
    expect(figure).to_have_attribute("data-reader-neighbour", str(meta["examples"][p]), timeout=30_000)
    expect(figure).to_have_attribute("data-reader-cell", str(found.cells[p]))
    ring = wait_for(page, "() => document.querySelector('figure:has(.atlas-note) .plotly-figure').data[2].x[0]")
    assert ring == (found.cells[p] % found.columns + 0.5) * (result.dataset.shape[2] + 2 * BORDER)
    assert not page.console_errors
