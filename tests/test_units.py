"""What each unit responds to (units.py, templates/units.js, the unit-examples figure): the build's
most and least exciting held-out examples agree with PyTorch over the whole held-out split, and
the explorer opens them on click and on Enter, fetched only then. Reuses the session's build."""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from playwright.sync_api import expect

from layerwise import contract
from layerwise.config import CNN_LAYERS
from layerwise.model.data import load_dataset
from layerwise.model.export import weights_from_onnx
from layerwise.model.models import network_from_layers
from layerwise.model.units import BOTTOM, PERCENTILES, TOP
from layerwise.page.figures import FIGURES, FigureError
from test_browser import wait_for_the_network


@pytest.fixture(scope="module")
def recomputed(built):
    """(config, result, the held-out split, every layer of the CNN over it, by PyTorch)."""
    config, result = built
    network = network_from_layers(CNN_LAYERS)
    network.load_weights(weights_from_onnx(network.module, result.files[result.models["cnn"].onnx]))
    data = load_dataset(config["data"], config["node_modules"])
    with torch.no_grad():
        outputs = network.eval().outputs(data.test_x)
    return config, result, data, outputs


def units_of(result, layer: str) -> dict:
    return json.loads(result.files[contract.site_path("units", model="cnn", layer=layer)])


def sprite_of(result, layer: str) -> np.ndarray:
    """The layer's crops, (rows, columns, 4) RGBA bytes."""
    return np.asarray(Image.open(io.BytesIO(result.files[contract.site_path("unit_crops", model="cnn", layer=layer)])))


@pytest.mark.parametrize("layer, unit", [("conv1", 3), ("fc1", 7)])
def test_each_units_examples_agree_with_pytorch_over_the_held_out_split(recomputed, layer, unit):
    _, result, data, outputs = recomputed
    out = outputs[layer][:, unit]  # (N, H, W) or (N,)
    scores = out.flatten(1).max(1).values if out.dim() == 3 else out  # (N,)
    found = units_of(result, layer)["units"][unit]
    ranked = torch.sort(scores, descending=True).values
    expected = torch.cat([ranked[:TOP], ranked.flip(0)[:BOTTOM]])
    assert np.allclose(found["values"], expected.numpy(), atol=1e-4), "the top and bottom values"
    # Each example named is one with that value (ties may order alike examples either way).
    assert np.allclose(scores[found["examples"]].numpy(), found["values"], atol=1e-4)
    assert [int(data.test_y[e]) for e in found["examples"]] == found["labels"]
    quantiles = torch.quantile(scores.double(), torch.linspace(0, 1, PERCENTILES, dtype=torch.double))
    assert np.allclose(found["percentiles"], quantiles.numpy(), atol=1e-3)
    if out.dim() == 3:  # where: the position holds the value, and the crop is the image there
        for e, (row, column), value in zip(found["examples"], found["positions"], found["values"]):
            assert float(out[e, row, column]) == pytest.approx(value, abs=1e-4)
        field = units_of(result, layer)["receptive_field"]
        (h, w), (row, column) = field["size"], found["positions"][0]
        top, left = (field["start"][a] + found["positions"][0][a] * field["jump"][a] for a in (0, 1))
        crop = sprite_of(result, layer)[unit * h : (unit + 1) * h, :w]  # (h, w, 4): the best example's crop
        inside = crop[max(0, -top) :, max(0, -left) :, 0]  # rows and columns inside the image
        image = data.test_x[found["examples"][0], 0, max(top, 0) : top + h, max(left, 0) : left + w]
        assert np.array_equal(inside, 255 - (image * 255).round().numpy().astype(np.uint8)), "ink on white"


def test_every_conv_and_dense_layer_has_units_and_the_prose_can_quote_them(built):
    _, result = built
    ranked = {info.name: info.units for info in result.models["cnn"].layers if info.units}
    assert list(ranked) == ["conv1", "conv2", "fc1", "fc2"]
    assert ranked["conv1"]["crop"] == [5, 5] and ranked["fc1"]["crop"] == [28, 28]
    # A row of crops per map, the optimized input last.
    assert sprite_of(result, "conv2").shape == (20 * 14, (TOP + BOTTOM + 1) * 14, 4)
    # A class detector's top examples share a class; a stroke detector's span several.
    assert ranked["fc2"]["classes_among_top"] < ranked["conv1"]["classes_among_top"]
    assert result.values()["layers"]["cnn"]["conv1"]["units"] == ranked["conv1"]


def test_the_unit_examples_figure_shows_a_units_crops_and_refuses_a_layer_without_units(built):
    _, result = built
    html = FIGURES["unit-examples"].render(result, model="cnn", layer="conv1", unit=2)
    assert html.count('<img class="unit-crop" src="data:image/png;base64,') == TOP + BOTTOM + 1  # and the optimized
    assert result.classes[units_of(result, "conv1")["units"][2]["labels"][0]] in html
    with pytest.raises(FigureError, match="':layer:' must be a conv or dense layer of cnn: one of conv1, conv2"):
        FIGURES["unit-examples"].render(result, model="cnn", layer="relu1", unit=0)
    with pytest.raises(FigureError, match="':unit:' must be 0 to 9"):
        FIGURES["unit-examples"].render(result, model="cnn", layer="conv1", unit=10)


def test_a_unit_opens_on_click_and_on_enter_with_its_crops_and_the_readers_rank(page, server, built):
    page.goto(server + "/mnist.html")
    explorer = page.locator('.layer-explorer[data-model="cnn"]')
    explorer.scroll_into_view_if_needed()
    wait_for_the_network(page)
    assert not any("/units/" in url for url in page.requested), "fetched only when a unit is opened"
    conv1 = explorer.locator('.layer[data-layer="conv1"]')
    conv1.locator(".maps .cell").nth(4).click()
    panel = conv1.locator(".units-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".unit-row canvas.unit-crop")).to_have_count(TOP + BOTTOM)
    expect(panel.locator(".unit-optimized")).to_contain_text("reaches")  # a conv channel's optimized input
    expect(panel).to_contain_text("conv1, map 4")
    expect(panel.locator(".unit-rank")).to_contain_text("Your digit: ")
    # The crops are drawn: some pixel of the best example's crop is ink (dark).
    darkest = page.evaluate(
        """() => { const c = document.querySelector('.layer[data-layer="conv1"] canvas.unit-crop');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let m = 255; for (let i = 0; i < d.length; i += 4) if (d[i + 3]) m = Math.min(m, d[i]); return m; }"""
    )
    assert darkest < 128
    # A new example (another held-out one picked) redraws the reader's part only: the optimized
    # input's part stays, and there is still one part for the reader's example.
    before = panel.locator(".unit-rank").text_content()
    explorer.locator(".picker button").nth(1).click()
    expect(panel.locator(".unit-rank")).not_to_have_text(before)
    expect(panel.locator(".unit-optimized")).to_have_count(1)
    expect(panel.locator(".unit-yours")).to_have_count(1)
    # Opened by a click, the focus stays on the map: Escape there closes the panel too.
    conv1.locator(".maps .cell").nth(4).focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    # fc1's strip by keyboard: focus, two units right, Enter.
    fc1 = explorer.locator('.layer[data-layer="fc1"]')
    strip = fc1.locator("canvas.strip")
    strip.focus()
    strip.press("ArrowRight")
    strip.press("ArrowRight")
    strip.press("Enter")
    expect(fc1.locator(".units-panel")).to_contain_text("fc1, unit 2")
    expect(fc1.locator(".units-panel .unit-row canvas.unit-crop")).to_have_count(TOP + BOTTOM)
    assert page.evaluate("() => document.activeElement.classList.contains('units-panel')")
    page.keyboard.press("Escape")
    expect(fc1.locator(".units-panel")).to_be_hidden()
    expect(strip).to_be_focused()  # back where the reader was
    assert page.console_errors == []


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_a_channels_optimized_input_reaches_the_value_the_build_says(recomputed, layer):
    """The sprite's last column is the input optimized to excite each channel at its map's centre:
    that crop alone (the rest of the image blank), run through PyTorch, gives the value the page
    quotes, to within the PNG's 1/255 steps."""
    _, result, data, _ = recomputed
    network = network_from_layers(CNN_LAYERS)
    network.load_weights(weights_from_onnx(network.module, result.files[result.models["cnn"].onnx]))
    found = units_of(result, layer)
    field, (row, column) = found["receptive_field"], found["optimized_position"]
    (h, w), columns = field["size"], TOP + BOTTOM
    top, left = (field["start"][a] + (row, column)[a] * field["jump"][a] for a in (0, 1))
    sprite = sprite_of(result, layer)
    images = torch.zeros(len(found["units"]), *data.shape)  # (U, 1, H, W)
    for unit in range(len(found["units"])):
        crop = sprite[unit * h : (unit + 1) * h, columns * w : (columns + 1) * w, 0]  # (h, w) ink on white
        images[unit, 0, top : top + h, left : left + w] = torch.from_numpy(255 - crop.astype(np.float32)) / 255
    with torch.no_grad():
        out = network.eval().outputs(images)[layer]  # (U, U, h', w')
    reached = out[torch.arange(len(images)), torch.arange(len(images)), row, column]
    assert np.allclose(reached.numpy(), [u["optimized"] for u in found["units"]], atol=0.02)
