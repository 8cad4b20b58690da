"""The real page in a real Chromium: onnxruntime-web runs the exported models."""

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from playwright.sync_api import expect

from conftest import assert_detail_matches, detail_arithmetic, render_with, serving

pytestmark = pytest.mark.browser


def wait_for_the_network(page):
    """Until the explorer has loaded onnxruntime-web and classified its first digit."""
    expect(page.locator(".layer-explorer .status")).to_contain_text("The network says", timeout=60_000)


def run_in_page(page, pixels):
    return page.evaluate(
        """async (pixels) => {
        const explorer = await window.layerwise.explorers[0];
        const values = await explorer.run(Float32Array.from(pixels));
        return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.from(v)]));
    }""",
        pixels,
    )


def check_parity(page, data, model, origin):
    """onnxruntime-web in the page against onnxruntime in Python, on every layer of `model`."""
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    python = onnxruntime.InferenceSession(data.files[data.models[model].onnx])
    names = [o.name for o in python.get_outputs()]
    for pixels in data.examples["pixels"][::7]:
        image = np.asarray(pixels, dtype=np.float32) / 255
        expected = python.run(None, {"image": image.reshape(1, *data.dataset.shape)})
        in_page = run_in_page(page, image.tolist())
        assert list(in_page) == names
        for name, want in zip(names, expected):
            got = np.asarray(in_page[name], dtype=np.float32)
            assert got.shape == (want.size,), name
            assert np.abs(got - want.ravel()).max() <= 1e-5, name
    assert page.console_errors == []
    assert all(url.startswith((origin, "data:", "blob:")) for url in page.requested)


def test_onnxruntime_web_matches_python_on_every_layer(page, server, built):
    page.goto(server + "/mnist.html")
    check_parity(page, built[1], "cnn", server)


def test_each_convolutions_filters_are_drawn_from_its_weights(page, server, built):
    """Beside its maps, each filter of a convolution, its input channels tiled: the strongest weight
    of filter i is the end of the diverging scale at its place (the weights file, not the HTML).
    A layer's maps and filters are one canvas behind their cells (picture-grid.js): the pixel read
    is the one the canvas shows at that weight's square of the filter's place."""
    import math

    from layerwise.config import CNN_LAYERS
    from layerwise.model.export import weights_from_onnx
    from layerwise.model.models import network_from_layers

    _, data = built
    network = network_from_layers(CNN_LAYERS)
    weights = weights_from_onnx(network.module, data.files[data.models["cnn"].onnx])
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    for layer in ("conv1", "conv2"):
        kernels = weights[f"{layer}.weight"].numpy()  # (out, in, k, k)
        _, inputs, k, kw = kernels.shape
        columns = math.ceil(math.sqrt(inputs))
        tiled = [columns * kw, math.ceil(inputs / columns) * k]  # the filter's picture: width, height
        grids = page.locator(f'.layer[data-layer="{layer}"] .maps canvas')
        assert grids.count() == 1, "one canvas per layer, not one per map"
        for i in (0, len(kernels) - 1):
            ch, y, x = np.unravel_index(np.abs(kernels[i]).argmax(), kernels[i].shape)
            at = [int((ch % columns) * kw + x), int((ch // columns) * k + y)]
            found = page.evaluate(
                """async ([layer, i, [x, y], [width, height], sign]) => {
                const { diverging } = await import('./assets/runtime.js');
                const place = document.querySelectorAll(`.layer[data-layer="${layer}"] .cell .filter`)[i];
                const canvas = place.closest('.maps').querySelector('canvas.picture-grid');
                const ctx = canvas.getContext('2d'), box = canvas.getBoundingClientRect();
                const r = place.getBoundingClientRect(), scale = canvas.width / box.width;  // device pixels
                // the centre of weight (x, y)'s square in the place's content box
                const left = r.left + place.clientLeft - box.left, top = r.top + place.clientTop - box.top;
                const px = Math.floor((left + ((x + 0.5) * place.clientWidth) / width) * scale);
                const py = Math.floor((top + ((y + 0.5) * place.clientHeight) / height) * scale);
                for (let t = 0; t < 100 && !ctx.getImageData(px, py, 1, 1).data[3]; t++)
                    await new Promise((r) => setTimeout(r, 50));  // its weights arrive after the model
                return [Array.from(ctx.getImageData(px, py, 1, 1).data.slice(0, 3)), diverging(sign)];
            }""",
                [layer, int(i), at, tiled, float(np.sign(kernels[i][ch, y, x]))],
            )
            assert found[0] == list(found[1])[:3], (layer, i, found)


def test_each_layers_detail_view_redoes_its_arithmetic_and_opens_by_keyboard(page, server, built):
    """conv, pool, ReLU, flatten, linear and softmax: the page's arithmetic for one output equals
    onnxruntime-web's and PyTorch's; receptive fields have their analytic sizes (conv5, pool2,
    conv5, pool2: 16x16)."""
    import torch

    from layerwise.config import CNN_LAYERS
    from layerwise.model.export import weights_from_onnx
    from layerwise.model.models import network_from_layers

    config, data = built
    network = network_from_layers(CNN_LAYERS)
    network.load_weights(weights_from_onnx(network.module, data.files[data.models["cnn"].onnx]))
    image = np.asarray(data.examples["pixels"][3], dtype=np.float32) / 255
    with torch.no_grad():
        outputs = network.eval().outputs(torch.from_numpy(image).reshape(1, 1, 28, 28))
    expected = {name: value.numpy() for name, value in outputs.items()}
    page.goto(server + "/mnist.html")
    explorer = page.locator(".layer-explorer")
    explorer.scroll_into_view_if_needed()
    wait_for_the_network(page)
    assert_detail_matches(detail_arithmetic(page, "cnn", image.ravel()), expected)
    fields = {layer.name: layer.step["receptive_field"] for layer in data.models["cnn"].layers}
    assert fields["conv1"]["size"] == [5, 5] and fields["pool2"]["size"] == [16, 16] and fields["fc1"] is None

    # Keyboard only: the layer's button opens its view; arrows move the selected output.
    opener = explorer.locator('.layer[data-layer="pool2"] .layer-open')
    opener.focus()
    page.keyboard.press("Enter")
    expect(opener).to_have_attribute("aria-expanded", "true")
    panel = explorer.locator('.layer[data-layer="pool2"] .layer-detail-panel')
    expect(panel.locator(".detail-position")).to_have_text("pool2 map 0 of 20, row 0, column 0")
    panel.locator(".detail-map").focus()
    for key in ["ArrowRight", "ArrowDown", "PageDown"]:
        page.keyboard.press(key)
    expect(panel.locator(".detail-position")).to_have_text("pool2 map 1 of 20, row 1, column 1")
    expect(panel.locator(".detail-field")).to_have_attribute("data-size", "16x16")
    expect(panel.locator(".detail-check")).to_contain_text("onnxruntime-web computed")
    assert float(panel.get_attribute("data-difference")) <= 1e-5
    expect(panel.locator(".katex").first).to_be_attached()  # the formula, typeset
    # The glossary's definition is a tip of its term, shown on focus, not text glued to the word.
    term = panel.locator(".term").first
    expect(term.locator(".definition")).to_be_hidden()
    term.focus()
    expect(term.locator(".definition")).to_be_visible()
    assert page.console_errors == [] and page.foreign_requests == []


def test_the_explorer_works_for_any_model_of_the_ladder(page, built, tmp_path):
    """Nothing in the widget is written for the CNN: the MLP's layers come from its export."""
    config, data = built
    config = {**config, "content": str(tmp_path / "content"), "out": str(tmp_path / "site")}
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "index.md").write_text("# MLP\n\n```{figure} layer-explorer\n:model: mlp\n```\n")
    render_with(config, data)
    with serving(tmp_path / "site") as url:
        page.goto(url + "/index.html")
        check_parity(page, data, "mlp", url)
        layers = page.locator(".layer-explorer .layer .layer-name").all_inner_texts()
        assert [text.split()[0] for text in layers] == ["flatten", "fc1", "relu", "fc2", "softmax"]


def test_wasm_plotly_and_figure_data_wait_until_they_are_near(full_page, server):
    page = full_page  # the lazy image of a still figure: the full browser's behaviour, not the shell's
    page.set_viewport_size({"width": 1200, "height": 600})
    page.goto(server + "/mnist.html")
    page.wait_for_load_state("networkidle")
    assert not any(url.endswith((".wasm", "plotly.min.js")) or "/figures/" in url for url in page.requested)
    fallback = page.locator(".figure-ladder-chart .figure-fallback")
    assert "needs JavaScript" in fallback.inner_text()  # what a reader without JS (or from file://) reads
    page.locator(".figure-ladder-chart").scroll_into_view_if_needed()
    expect(page.locator(".figure-ladder-chart .main-svg").first).to_be_attached()
    assert any(url.endswith("plotly.min.js") for url in page.requested) and fallback.count() == 0
    assert not any(url.endswith(".wasm") for url in page.requested)
    page.locator(".figure-mistakes").scroll_into_view_if_needed()  # drawn live: its still picture is not fetched
    expect(page.locator(".figure-mistakes .main-svg").first).to_be_attached()
    assert not any(url.endswith(".png") and "/figures/" in url for url in page.requested)
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    assert any(url.endswith(".wasm") for url in page.requested)
    assert page.console_errors == []


def draw(page, strokes):
    """Draw strokes on the pad with real mouse events; points are in 0..1 of the pad's box."""
    pad = page.locator(".layer-explorer .pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.up()


ONE = [[(0.52, 0.15), (0.5, 0.5), (0.48, 0.85)]]
ZERO = [[(0.5 + 0.22 * np.sin(t), 0.5 - 0.32 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 24)]]


@pytest.mark.parametrize("strokes,digit", [(ONE, "1"), (ZERO, "0")])
def test_a_drawn_digit_is_read_as_that_digit(page, server, strokes, digit):
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    draw(page, strokes)
    expect(page.locator(".layer-explorer .status")).to_have_text(f"The network says: {digit}.")
    # What the model saw: MNIST-style, the ink fitted into 20x20 and centred by mass in 28x28.
    ink = np.asarray(
        page.evaluate("""async () => {
        const { preprocess } = await import('./assets/explorer-input.js');
        return Array.from(preprocess(document.querySelector('.layer-explorer .pad')));
    }""")
    ).reshape(28, 28)
    rows, cols = np.nonzero(ink > 0.05)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21
    mass = ink.sum()
    centre = ((ink.sum(1) * np.arange(28)).sum() / mass, (ink.sum(0) * np.arange(28)).sum() / mass)
    assert abs(centre[0] - 13.5) <= 1 and abs(centre[1] - 13.5) <= 1
    assert page.console_errors == []


def test_without_webassembly_the_reader_gets_a_clear_message(page, server):
    page.add_init_script("delete window.WebAssembly")
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    status = page.locator(".layer-explorer .status")
    expect(status).to_contain_text("cannot run here (this browser has no WebAssembly)", timeout=20_000)
    page.locator(".figure-training-curves").scroll_into_view_if_needed()
    expect(page.locator(".figure-training-curves .plotly-figure .main-svg").first).to_be_attached()
    assert not any(url.endswith(".wasm") for url in page.requested)


def test_a_blank_pad_claims_nothing(page, server):
    """Cleared, the pad is no digit: the explorer asks for one and no other widget scores it."""
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    draw(page, ONE)
    page.evaluate("() => { window.drawnEvents = 0; addEventListener('layerwise:drawn', () => window.drawnEvents++); }")
    page.locator(".layer-explorer").get_by_role("button", name="Clear").click()
    expect(page.locator(".layer-explorer .status")).to_have_text("Draw a digit.")
    assert page.evaluate("() => window.drawnEvents") == 0
    assert page.console_errors == []


def test_the_picked_example_is_marked_until_the_reader_draws(page, server, built):
    page.goto(server + "/mnist.html")
    explorer = page.locator(".layer-explorer")
    explorer.scroll_into_view_if_needed()
    wait_for_the_network(page)
    picks = explorer.locator(".picker button")
    expect(picks.first).to_have_attribute("aria-pressed", "true")  # the first is shown on arrival
    picks.nth(4).click()
    expect(picks.nth(4)).to_have_attribute("aria-pressed", "true")
    expect(picks.first).to_have_attribute("aria-pressed", "false")
    # One tab stop (the picked one); arrows move the focus, a row at a time up and down; Enter picks.
    expect(explorer.locator('.picker button[tabindex="0"]')).to_have_count(1)
    page.keyboard.press("ArrowRight")
    expect(picks.nth(5)).to_be_focused()
    expect(picks.nth(4)).to_have_attribute("aria-pressed", "true")  # moving is not picking
    columns = page.evaluate(
        "() => getComputedStyle(document.querySelector('.picker')).gridTemplateColumns.split(' ').length"
    )
    page.keyboard.press("ArrowDown")
    expect(picks.nth(5 + columns)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(picks.nth(5)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Tab")  # out of the picker at once, and back to the picked example
    assert page.evaluate("() => !document.activeElement.closest('.picker')")
    page.keyboard.press("Shift+Tab")
    expect(picks.nth(5)).to_be_focused()
    draw(page, ONE)
    expect(explorer.locator('.picker button[aria-pressed="true"]')).to_have_count(0)
    # The download counter's total is the wasm's own size, declared by the build.
    contract = page.evaluate("() => JSON.parse(document.getElementById('layerwise-contract').textContent)")
    wasm = Path(built[0]["out"]) / "vendor" / "ort" / "ort-wasm-simd-threaded.wasm"
    assert contract["runtime_bytes"] == wasm.stat().st_size


def test_negative_logits_draw_below_the_zero_line(page, server, built):
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    geometry = page.evaluate("""() => [...document.querySelectorAll('.layer-explorer .layer')].map((layer) => ({
        name: layer.dataset.layer,
        bars: [...layer.querySelectorAll('.bar')].map((bar) => {
            const track = bar.querySelector('.bar-track').getBoundingClientRect();
            const fill = bar.querySelector('.bar-fill').getBoundingClientRect();
            return {value: Number(bar.title.split(': ')[1]), top: fill.top - track.top,
                    bottom: track.bottom - fill.bottom, height: track.height};
        }),
    })).filter((layer) => layer.bars.length)""")
    layers = {layer["name"]: layer["bars"] for layer in geometry}
    logits = layers["fc2"]
    assert any(b["value"] < 0 for b in logits) and any(b["value"] > 0 for b in logits)
    for bar in logits:  # a signed score hangs from (or stands on) the middle of its track
        edge = bar["top"] if bar["value"] < 0 else bar["bottom"]
        assert abs(edge - bar["height"] / 2) <= 1
    assert all(abs(b["bottom"]) <= 1 for b in layers["softmax"])  # probabilities stand on the floor


def test_on_a_phone_the_result_sits_beside_the_pad(page, server):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    page.locator(".layer-explorer .picker button").first.click()
    expect(page.locator(".layer-explorer .top-classes li")).to_have_count(3)
    pad, result = (page.locator(f".layer-explorer {part}").bounding_box() for part in (".pad", ".result"))
    assert result["x"] >= pad["x"] + pad["width"] and result["y"] < pad["y"] + pad["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_pad_draws_by_keyboard_and_takes_a_picked_example_to_edit(page, server):
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    pad = page.locator(".layer-explorer .pad")
    pad.focus()
    for key in ["ArrowUp"] * 6 + [" "] + ["ArrowDown"] * 12 + [" "]:  # pen up 60 px, down, a 120 px line
        pad.press(key)
    expect(page.locator(".layer-explorer .status")).to_have_text("The network says: 1.")
    ink = """() => { const c = document.querySelector('.layer-explorer .pad');
        const alpha = c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((v, i) => i % 4 === 3);
        return alpha.filter((v) => v > 0).length; }"""
    line = page.evaluate(ink)
    page.locator(".layer-explorer .picker button").nth(6).click()  # a held-out 2, onto the pad
    assert page.evaluate(ink) > 0 and page.evaluate(ink) != line
    expect(page.locator(".layer-explorer .picker button").nth(6)).to_have_attribute("aria-pressed", "true")
    pad.focus()
    pad.press(" ")  # drawing on it is editing it
    expect(page.locator(".layer-explorer .picker button").nth(6)).to_have_attribute("aria-pressed", "false")
    assert page.console_errors == []


def swipe(cdp, x, y, dx, dy, steps=10):
    """A one-finger touch from (x, y) moving by (dx, dy), as a phone's touch events."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, steps + 1):
        point = {"x": x + dx * k / steps, "y": y + dy * k / steps}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_a_finger_draws_on_the_pad_and_a_swipe_over_the_tour_scrolls(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    page.locator(".layer-explorer .pad").scroll_into_view_if_needed()
    pad = page.locator(".layer-explorer .pad").bounding_box()
    swipe(cdp, pad["x"] + pad["width"] * 0.5, pad["y"] + pad["height"] * 0.15, 0, pad["height"] * 0.7)
    expect(page.locator(".layer-explorer .status")).to_have_text("The network says: 1.")
    page.locator(".grand-tour").scroll_into_view_if_needed()
    canvas = page.locator(".grand-tour .tour-canvas")
    canvas.wait_for()
    page.wait_for_timeout(300)
    box, before = canvas.bounding_box(), page.evaluate("scrollY")
    swipe(cdp, box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7, 0, -200)
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") > before + 50  # the page scrolled: the tour did not swallow it
    context.close()


def explorer_scores(page) -> list[float]:
    """The explorer's model's last layer on the example it shows."""
    return page.evaluate("""async () => {
        const explorer = await window.layerwise.explorers[0];
        const values = await explorer.run(explorer.example());
        return Array.from(values[explorer.layers.at(-1).name]);
    }""")


def test_the_attack_aims_at_a_wrong_class_refuses_the_answer_and_says_what_changed(page, server, built):
    """A misread held-out example: the default target is neither its label nor the network's
    answer; the answer itself is refused in words; pushed to its label, the account says it
    corrected a mistake, from which answer to which."""
    config, data = built
    examples = data.examples
    misread = [i for i, label in enumerate(examples["labels"]) if examples["predictions"]["cnn"][i] != label]
    assert misread, "the quick build's CNN gets every picker example right: nothing to test on"
    page.goto(server + "/mnist.html")
    explorer = page.locator(".layer-explorer").first
    explorer.scroll_into_view_if_needed()
    wait_for_the_network(page)
    explorer.locator(".picker button").nth(misread[0]).click()
    label = examples["labels"][misread[0]]
    scores = explorer_scores(page)
    order = sorted(range(len(scores)), key=lambda c: -scores[c])
    answer = order[0]
    expect(explorer.locator(".status")).to_have_text(f"The network says: {data.classes[answer]}.")
    towards = explorer.get_by_label("The class to push it towards")
    wrong = next(c for c in order if c not in (answer, label))
    expect(towards).to_have_value(str(wrong))

    towards.select_option(str(answer))
    explorer.get_by_role("button", name="Attack").click()
    said = explorer.locator(".attack-said")
    refusal = f" The network already reads {data.classes[answer]}: choose another class to push it towards."
    expect(said).to_have_text(refusal)
    assert page.evaluate("async () => Array.from((await window.layerwise.explorers[0]).example())") is not None

    towards.select_option(str(label))
    explorer.get_by_role("button", name="Attack").click()
    expect(said).to_contain_text(
        f"the network read this digit (labelled {data.classes[label]}) as {data.classes[answer]} and ", timeout=30_000
    )
    if said.text_content().startswith(" After"):
        assert said.text_content().endswith(
            f"now reads {data.classes[label]}, its label: that corrected a mistake rather than fooling the network."
        )
    assert page.console_errors == []


def test_a_drawing_has_no_label_the_attack_just_avoids_the_answer(page, server):
    page.goto(server + "/mnist.html")
    explorer = page.locator(".layer-explorer").first
    explorer.scroll_into_view_if_needed()
    wait_for_the_network(page)
    draw(page, ONE)
    expect(explorer.locator(".status")).to_have_text("The network says: 1.")
    scores = explorer_scores(page)
    runner_up = sorted(range(len(scores)), key=lambda c: -scores[c])[1]
    expect(explorer.get_by_label("The class to push it towards")).to_have_value(str(runner_up))


def test_the_example_read_at_load_is_on_the_pad_until_the_reader_draws(page, server):
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    ink = """() => { const c = document.querySelector('.layer-explorer .pad');
        const alpha = c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((v, i) => i % 4 === 3);
        return alpha.filter((v) => v > 0).length; }"""
    assert page.evaluate(ink) > 1000  # what the status reads is seen
    expect(page.locator(".layer-explorer .picker button").first).to_have_attribute("aria-pressed", "true")
    draw(page, ONE)  # the reader's own drawing starts on a clean pad
    expect(page.locator(".layer-explorer .status")).to_have_text("The network says: 1.")
    assert page.evaluate(ink) < 12_000


def test_keyboard_loads_a_mistake_and_selects_a_class_in_the_manifold_view(page, server, built):
    """The mistakes figure's buttons load a mistake by Enter (the label goes with it: the attack
    does not aim at it); the manifold view's class buttons select what a lasso would."""
    config, data = built
    page.goto(server + "/mnist.html")
    mistakes = page.locator(".figure-mistakes")
    mistakes.scroll_into_view_if_needed()
    name = "Load a mistaken digit into the layer explorer (its label → the model's answer)"
    group = mistakes.get_by_role("group", name=name)
    shown = data.models["softmax"].mistakes[:10]  # content/mnist.md: the figure's :count:
    buttons = group.get_by_role("button")
    expect(buttons).to_have_count(len(shown))
    expect(buttons.nth(3)).to_have_text(f"{data.classes[shown[3]['label']]} → {data.classes[shown[3]['predicted']]}")
    buttons.nth(3).focus()
    page.keyboard.press("Enter")
    wait_for_the_network(page)
    pixels = page.evaluate("async () => Array.from((await window.layerwise.explorers[0]).example())")
    assert np.allclose(np.asarray(pixels) * 255, np.ravel(shown[3]["pixels"]), atol=1e-3)
    expect(mistakes.locator(".plotly-figure")).to_have_attribute("data-selected", "1")
    towards = page.locator(".layer-explorer").first.get_by_label("The class to push it towards")
    assert towards.input_value() != str(shown[3]["label"])

    out = Path(config["out"]) / "mnist" / "tour" / "cnn"
    meta = json.loads((out / "meta.json").read_text())
    labels = (out / "sample.u8").read_bytes()[slice(meta["layout"]["labels"][0], sum(meta["layout"]["labels"]))]
    view = page.locator(".figure-manifold-views")
    view.scroll_into_view_if_needed()
    classes = view.get_by_role("group", name="Select the digits of a class")
    classes.get_by_role("button", name="4", exact=True).focus()
    page.keyboard.press("Enter")
    expect(classes.get_by_role("button", name="4", exact=True)).to_have_attribute("aria-pressed", "true")
    points = page.evaluate(  # every view's points, as positions in the sample
        "document.querySelector('.figure-manifold-views .plotly-figure').data.flatMap((t) => t.customdata ?? [])"
    )
    expect(view.locator(".plotly-figure")).to_have_attribute("data-selected", str(sum(labels[p] == 4 for p in points)))
    page.keyboard.press("Enter")  # pressed again: the selection is cleared
    expect(view.locator(".plotly-figure")).to_have_attribute("data-selected", "0")
    assert page.console_errors == []
