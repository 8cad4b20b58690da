"""The Grand Tour: recorded activations (build side) and the rotating view (in Chromium)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from layerwise.config import CNN_LAYERS
from layerwise.model.export import weights_from_onnx
from layerwise.model.models import network_from_layers
from layerwise.model.record import alignments, layer_outputs, record_activations


def test_recorded_activations_match_a_recomputation_from_the_weights():
    torch.manual_seed(0)
    layers = [
        "conv: Conv2d(1, 4, kernel_size=5)",
        "relu: ReLU()",
        "flatten: Flatten()",
        "fc: Linear(2304, 3)",
        "softmax: Softmax(dim=1)",
    ]
    model = network_from_layers(layers, n_classes=3)
    snapshots = []
    for _ in range(3):  # three "epochs" of different weights
        for p in model.module.parameters():
            p.data.normal_(0, 0.1)
        snapshots.append({k: v.clone() for k, v in model.module.state_dict().items()})
    images, labels = torch.rand(50, 1, 28, 28), torch.arange(50) % 10
    recorded = record_activations(network_from_layers(layers, n_classes=3), snapshots, images, labels, dims=5)
    shapes = {name: info["values"].shape for name, info in recorded["layers"].items()}
    assert shapes == {
        "input": (3, 50, 5),
        "conv": (3, 50, 5),
        "relu": (3, 50, 5),
        "flatten": (3, 50, 5),
        "fc": (3, 50, 3),
        "softmax": (3, 50, 3),
    }
    assert recorded["predictions"].shape == (3, 50)
    for epoch, state in enumerate(snapshots):
        model.load_weights(state)
        direct = layer_outputs(model, images)
        # Narrow layers are kept as they are (float16).
        assert np.allclose(recorded["layers"]["softmax"]["values"][epoch], direct["softmax"], atol=1e-3)
        # Wide ones go through the fixed basis of the last epoch.
        basis = recorded["layers"]["relu"]["basis"]
        expected = (direct["relu"] - basis["mean"]) @ basis["components"].T
        assert np.allclose(recorded["layers"]["relu"]["values"][epoch], expected, atol=2e-2, rtol=1e-2)
        assert (recorded["predictions"][epoch] == direct["softmax"].argmax(1)).all()
    components = recorded["layers"]["conv"]["basis"]["components"]
    assert np.allclose(components @ components.T, np.eye(5), atol=1e-5)


def test_layer_alignment_removes_rotations_and_keeps_scalings():
    """What the page's layer changes follow: a layer that only rotates (or flips) its input moves
    no point; one that only scales it moves points along the scaled axes only."""
    rng = np.random.default_rng(0)
    centred = rng.normal(size=(400, 4))
    centred -= centred.mean(0)
    a = np.linalg.qr(centred)[0] * [60.0, 40.0, 20.0, 10.0]  # uncorrelated axes, as the build's PCA gives
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    q[:, 0] *= -1  # a sign flip too
    scaled = a * [1.0, 1.0, 1.0, 4.0]  # the last axis stretched
    layer = lambda v: {"values": v[None].astype(np.float16), "scale": [1.0]}  # noqa: E731
    turn = alignments({"a": layer(a), "rotated": layer(a @ q), "scaled": layer(scaled)})  # (1, 2, 4, 4)
    shown_before = a
    rotated_as_shown = (a @ q) @ turn[0, 0].T  # the page shows a layer under R^T times the view
    assert np.abs(rotated_as_shown - shown_before).max() < 0.02  # float16 values: no motion
    stretch = turn[0, 1]  # from the rotated layer to the scaled one: undoes the rotation, nothing more
    scaled_as_shown = scaled @ stretch.T @ turn[0, 0].T
    moved = np.abs(scaled_as_shown - shown_before).max(0)
    assert moved[:3].max() < 0.05 and moved[3] > 1  # only the stretched axis moves


def test_the_built_tour_files_are_consistent(built):
    config, data = built
    folder = Path(config["out"]) / "mnist" / "tour" / "cnn"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["n"] == config["record"]["sample_size"] == data.tour["sample_size"]
    # Weights kept 8 times in the first epoch, then after each: 0, 0.13, ..., 0.88, 1, 2, ...
    epochs, first = config["train"]["epochs"], config["train"]["first_epoch_snapshots"]
    assert meta["snapshots"] == len(meta["epochs"]) == first + epochs
    assert all(abs(meta["epochs"][k] - k / first) <= 0.01 for k in range(first))  # batches need not divide
    assert meta["epochs"][first:] == list(range(1, epochs + 1))
    assert meta["seen"][first] == data.dataset.n_train and sorted(meta["seen"]) == meta["seen"]
    layers = data.models["cnn"].layers
    assert [layer["name"] for layer in meta["layers"]] == ["input"] + [layer.name for layer in layers]
    for layer in meta["layers"]:
        size = (folder / f"{layer['name']}.f16").stat().st_size
        assert size == meta["snapshots"] * meta["n"] * layer["dims"] * 2
        assert layer["dims"] == min(layer["width"], config["record"]["dims"])
    assert (folder / "sample.u8").stat().st_size == meta["n"] * (1 + meta["snapshots"] + 784)
    dims = max(layer["dims"] for layer in meta["layers"])  # a rotation per snapshot and pair of layers
    assert (folder / "align.f32").stat().st_size == meta["snapshots"] * (len(meta["layers"]) - 1) * dims * dims * 4
    assert meta["layout"]["thumbnails"] == [meta["n"] * (1 + meta["snapshots"]), meta["n"] * 784]
    assert all((folder / f"snapshot-{k}.onnx").exists() for k in range(meta["snapshots"]))


@pytest.mark.browser
def test_the_rotation_stays_orthonormal(page, server):
    page.goto(server + "/mnist.html")
    errors = page.evaluate("""async () => {
        const { Rotation } = await import('./assets/tour-projection.js');
        const r = new Rotation(10);
        for (let i = 0; i < 5000; i++) r.step(0.016);
        const afterSteps = r.maxError();
        for (let i = 0; i < 200; i++) r.drag(i % 10, Math.cos(i) * 0.7, Math.sin(i) * 0.7);
        const [x, y] = r.handle(9);
        return [afterSteps, r.maxError(), Math.hypot(x - Math.cos(199) * 0.7, y - Math.sin(199) * 0.7)];
    }""")
    assert errors[0] < 1e-9 and errors[1] < 1e-9
    assert errors[2] < 1e-9  # the dragged handle lands exactly under the pointer


@pytest.mark.browser
def test_the_tour_animates_responds_and_shows_the_readers_digit(page, server):
    page.goto(server + "/mnist.html")
    tour = page.locator(".grand-tour")
    tour.scroll_into_view_if_needed()
    canvas = tour.locator(".tour-canvas")
    page.wait_for_timeout(500)
    first = canvas.screenshot()
    page.wait_for_timeout(300)
    assert canvas.screenshot() != first  # the points move between frames
    frames = int(tour.get_attribute("data-frames"))
    page.wait_for_timeout(300)
    assert int(tour.get_attribute("data-frames")) > frames

    tour.get_by_role("button", name="Pause").click()
    label = tour.locator("output").nth(1)
    expect(label).to_contain_text("softmax")
    layer = tour.get_by_role("slider", name="Layer")
    layer.fill("1")  # conv1
    expect(label).to_contain_text("conv1 (5760 → 10 dims by PCA)")
    page.wait_for_timeout(200)
    paused = canvas.screenshot()
    tour.get_by_role("slider", name="Training time").fill("1")  # the first snapshot within epoch 1
    expect(tour.locator("output").first).to_contain_text(re.compile(r"after 0\.1\d of 2 epochs \([\d,]+ digits seen\)"))
    page.wait_for_timeout(300)
    assert canvas.screenshot() != paused  # another moment, other positions

    # The reader's digit: the explorer shows a test digit once it has loaded, and the tour plots it.
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    expect(page.locator(".layer-explorer .status")).to_contain_text("The network says", timeout=60_000)
    tour.scroll_into_view_if_needed()
    expect(tour).to_have_attribute("data-reader-point", re.compile(r"^-?\d+\.\d,-?\d+\.\d$"), timeout=20_000)
    expect(tour).to_have_attribute("data-running", "true")
    page.evaluate("window.scrollTo(0, 0)")  # off screen, the animation loop stops
    expect(tour).to_have_attribute("data-running", "false")
    assert page.console_errors == [] and page.foreign_requests == []


@pytest.mark.browser
def test_reduced_motion_starts_the_tour_still_and_sliders_speak_names(browser, server):
    page = browser.new_page(reduced_motion="reduce")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + "/mnist.html")
    tour = page.locator(".grand-tour")
    tour.scroll_into_view_if_needed()
    play = tour.get_by_role("button", name="Play", exact=True)
    expect(play).to_have_attribute("aria-pressed", "false")
    layer = tour.get_by_role("slider", name="Layer")
    expect(layer).to_have_attribute("aria-valuetext", "softmax")
    # Wholly in view first: a screenshot that has to scroll to its element may catch it mid-paint.
    tour.locator(".tour-canvas").scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    first = tour.locator(".tour-canvas").screenshot()
    page.wait_for_timeout(400)
    assert tour.locator(".tour-canvas").screenshot() == first  # nothing spins
    layer.fill("1")
    expect(layer).to_have_attribute("aria-valuetext", "conv1")
    expect(tour.get_by_role("slider", name="Training time")).to_have_attribute(
        "aria-valuetext", re.compile(r"^after 2 of 2 epochs \([\d,]+ digits seen\)$")
    )
    canvas = tour.locator(".tour-canvas")
    expect(canvas).to_have_attribute("aria-label", re.compile(r"^Grand Tour of layer conv1 after 2 of 2 epochs"))
    still = canvas.screenshot()
    canvas.focus()  # steering by keyboard: the chosen axis's handle moves with the arrows
    for key in ["]", "ArrowRight", "ArrowRight", "ArrowUp"]:
        canvas.press(key)
    expect(tour.locator(".tour-status")).to_have_text("Steering the axis PC2.")
    assert canvas.screenshot() != still
    # A tap (a touch has no hover) on a dot shows its example (test_tour_reader.py: and keeps it shown).
    tapped = page.evaluate("""() => {
        const canvas = document.querySelector('.grand-tour .tour-canvas'), box = canvas.getBoundingClientRect();
        const tip = document.querySelector('.grand-tour .tour-tooltip');
        for (let i = 1; i < 40; i++) for (let j = 1; j < 40; j++) {
            const at = { clientX: box.left + (box.width * i) / 40, clientY: box.top + (box.height * j) / 40 };
            canvas.dispatchEvent(new PointerEvent('pointerdown', { ...at, pointerType: 'touch', bubbles: true }));
            canvas.dispatchEvent(new PointerEvent('pointerup', { ...at, pointerType: 'touch', bubbles: true }));
            if (!tip.hidden) return tip.textContent;
        }
        return null;
    }""")
    assert tapped and tapped.startswith("label ")
    canvas.press(" ")  # Space plays
    expect(tour.get_by_role("button", name="Pause")).to_have_attribute("aria-pressed", "true")
    assert errors == []
    page.close()


@pytest.mark.browser
def test_a_link_restores_the_tours_view_and_the_tour_writes_its_own(page, browser, server):
    """Layer, epoch, selected classes and the projection live in the URL fragment."""
    page.goto(server + "/mnist.html#fig-tour?layer=fc1&epoch=1&select=4,9&play=0")
    tour = page.locator(".grand-tour")
    expect(tour.locator("output").nth(1)).to_contain_text("fc1 (50 → 10 dims by PCA)")
    expect(tour.locator("output").first).to_contain_text("1 of")
    expect(tour.locator('.tour-legend [aria-pressed="true"]')).to_have_text(["4", "9"])
    expect(tour.get_by_role("button", name="Play", exact=True)).to_have_attribute("aria-pressed", "false")
    canvas = tour.locator(".tour-canvas")
    canvas.focus()
    for key in ["]", "ArrowRight", "ArrowUp"]:  # steer: the fragment follows
        canvas.press(key)
    expect(page).to_have_url(re.compile(r"#fig-tour\?layer=fc1&epoch=1&select=4,9&play=0&view=[-0-9.,]+$"))
    # The fragment is written a quarter second after each change: read it once the last key's is in.
    shared = None
    while shared != page.url:
        shared = page.url
        page.wait_for_timeout(600)
    handles = """(async () => {
        const tour = await window.layerwise.tours[0];
        return [0, 1, 2].map((a) => tour.state.rotation.handle(a));
    })()"""
    expected = page.evaluate(handles)
    again = browser.new_page()
    again.goto(shared)
    expect(again.locator(".grand-tour output").nth(1)).to_contain_text("fc1")
    assert np.abs(np.asarray(again.evaluate(handles)) - np.asarray(expected)).max() < 1e-3
    again.close()
    # Between layers: the slider scrubs, and the label says where.
    layer = tour.get_by_role("slider", name="Layer")
    layer.fill("9.5")
    expect(layer).to_have_attribute("aria-valuetext", "relu3 → fc2 (50%)")
    # A link followed while the attack plays sets the view too.
    tour.get_by_role("button", name="Play attack").click()
    page.evaluate("location.hash = '#fig-tour?layer=conv1&epoch=0'")
    expect(tour.locator("output").nth(1)).to_contain_text("conv1")
    assert page.console_errors == []


@pytest.mark.browser
def test_links_in_todays_format_decode_and_encode_back_with_the_keys_python_declares(page, server):
    """tour-state.js reads and writes the link through the schema the contract hands it (the
    figure's STATE, declared once in Python), and a link written before the split still reads."""
    import base64
    import zlib

    from layerwise.page.figures.grand_tour import STATE

    page.goto(server + "/mnist.html#fig-tour?play=0")
    expect(page.locator(".grand-tour output").nth(1)).to_contain_text("dims")
    sizes = "(async () => { const t = await window.layerwise.tours[0]; return [t.state.rotation.n, t.sample.n]; })()"
    dims, n = page.evaluate(sizes)
    text = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")  # noqa: E731
    bits = bytearray((n + 7) // 8)
    for p in (3, 7, 11):
        bits[p >> 3] |= 1 << (p & 7)
    squeeze = zlib.compressobj(wbits=-15)
    example = squeeze.compress(bytes(784)) + squeeze.flush()
    view = ",".join(f"{float(k == c):.4f}" for k in range(dims) for c in (0, 1))  # the first two axes
    brushed = f"layer=fc1&t=0.500&epoch=1&mistakes=1&play=0&view={view}&points={text(bits)}&example={text(example)}"
    classes = f"layer=relu3&epoch=0&select=4,9&play=0&view={view}"
    found = page.evaluate(
        """async ([queries, exampleText]) => {
        const tour = await window.layerwise.tours[0], link = await import('./assets/tour-state.js');
        const { contract } = await import('./assets/runtime.js'), keys = contract().link_state['grand-tour'];
        const { sample } = tour, dims = tour.state.rotation.n;
        return { keys, read: queries.map((query) => {
            const read = link.decode(query, sample, keys), state = link.initialState({ dims, snapshot: 0, still: 1 });
            link.apply(state, sample, read, true);
            const mask = state.mask && [...state.mask.keys()].filter((p) => state.mask[p]);
            return { layer: sample.layers[state.layer].name, t: state.t, selected: [...state.selected], mask,
                     mistakes: state.mistakes, example: read.example && Array.from(read.example),
                     again: link.encode(state, sample, keys, read.example && exampleText) };
        }) };
    }""",
        [[brushed, classes], text(example)],
    )
    assert found["keys"] == {key: convert.schema for key, convert in STATE.items()}  # in order
    assert list(found["keys"]) == list(STATE)
    points, picked = found["read"]
    assert (points["layer"], points["t"], points["mask"], points["mistakes"]) == ("fc1", 0.5, [3, 7, 11], True)
    assert bytes(points["example"]) == example
    assert points["again"] == brushed
    assert (picked["layer"], picked["selected"], picked["mistakes"]) == ("relu3", [4, 9], False)
    assert picked["example"] is None
    assert picked["again"] == classes
    assert page.console_errors == []


@pytest.mark.browser
def test_brushing_links_the_tour_and_the_manifold_views_and_a_click_loads_the_explorer(page, browser, server):
    page.goto(server + "/mnist.html#fig-tour?layer=fc1&play=0")
    manifold = page.locator(".figure-manifold-views .plotly-figure")
    manifold.scroll_into_view_if_needed()
    expect(manifold.locator(".main-svg").first).to_be_attached(timeout=20_000)
    tour = page.locator(".grand-tour")
    canvas = tour.locator(".tour-canvas")
    canvas.scroll_into_view_if_needed()
    expect(tour.locator("output").nth(1)).to_contain_text("fc1")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=4)
    page.mouse.up()
    selected = """(async () => {
        const tour = await window.layerwise.tours[0];
        return tour.state.mask ? [...tour.state.mask.keys()].filter((p) => tour.state.mask[p]) : [];
    })()"""
    brushed = page.evaluate(selected)
    assert 0 < len(brushed) < 500
    expect(manifold).to_have_attribute("data-selected", str(len(brushed)))  # the same examples there
    # A lasso in the manifold figure selects those examples in the tour.
    page.evaluate("""() => document.querySelector('.figure-manifold-views .plotly-figure')
        .emit('plotly_selected', { points: [{ customdata: 3 }, { customdata: 7 }, { customdata: 11 }] })""")
    assert page.evaluate(selected) == [3, 7, 11]
    # A click on a point loads its example into the explorer, whose digit the tour then plots.
    point = page.evaluate("""(async () => {
        const tour = await window.layerwise.tours[0], r = tour.renderer, canvas = r.canvas;
        const [x, y] = r.toCanvas(r.positions[0], r.positions[1]), scale = canvas.clientWidth / canvas.width;
        return [x * scale, y * scale];
    })()""")
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    expect(page.locator(".layer-explorer .status")).to_contain_text("The network says", timeout=60_000)
    expect(tour).to_have_attribute("data-reader-point", re.compile(r"^-?\d+\.\d,-?\d+\.\d$"), timeout=20_000)
    assert page.console_errors == []
    # The link keeps the brushed points and the explorer's example (page.url lags replaceState).
    example = "async () => Array.from((await window.layerwise.explorers[0]).example())"
    expect(page).to_have_url(re.compile(r"&points=[\w-]+&example=[\w-]+$"))
    shared, shown = page.evaluate("location.href"), page.evaluate(example)
    again = browser.new_page()
    again.goto(shared)
    expect(again.locator(".layer-explorer .status")).to_contain_text("The network says", timeout=60_000)
    assert again.evaluate(selected) == [3, 7, 11]
    assert again.evaluate(example) == shown
    again.close()


@pytest.mark.browser
def test_adversarial_files_hold_every_step_and_fool_onnxruntime_in_python_and_in_the_page(built, page, server):
    """The paper's 8 -> 0: the final images are read as the target wherever the build says so."""
    import onnxruntime

    config, data = built
    folder = Path(config["out"]) / "mnist" / "tour" / "cnn"
    meta = json.loads((folder / "meta.json").read_text())
    attacks, summary = meta["attacks"], data.tour["adversarial"]
    assert (data.classes[attacks["source"]], data.classes[attacks["target"]]) == ("8", "0")
    for method, found in attacks["methods"].items():
        size = sum((found["steps"] + 1) * attacks["count"] * layer["dims"] for layer in meta["layers"])
        assert (folder / f"attack-{method}.f16").stat().st_size == 2 * size
        assert len(found["predictions"]) == found["steps"] + 1 and found["success"][0] == 0  # all read as 8 at first
    pgd = attacks["methods"]["pgd"]
    assert pgd["steps"] == config["adversarial"]["steps"] and summary["pgd_success"] == pgd["success"]
    images = np.frombuffer((folder / "attack-pgd.u8").read_bytes(), np.uint8).reshape(attacks["count"], 1, 28, 28)
    images = images.astype(np.float32) / 255
    python = onnxruntime.InferenceSession(data.files[data.models["cnn"].onnx]).run(["softmax"], {"image": images})[0]
    assert (python.argmax(1) == pgd["predictions"][-1]).all()
    assert (python.argmax(1) == attacks["target"]).mean() == pgd["success"][-1] > 0.5
    page.goto(server + "/mnist.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    expect(page.locator(".layer-explorer .status")).to_contain_text("The network says", timeout=60_000)
    in_page = page.evaluate(
        """async (images) => {
        const explorer = await window.layerwise.explorers[0];
        const said = [];
        for (const image of images) {
            const out = (await explorer.run(Float32Array.from(image))).softmax;
            said.push(out.indexOf(Math.max(...out)));
        }
        return said;
    }""",
        images.reshape(len(images), -1).tolist(),
    )
    assert in_page == pgd["predictions"][-1]


@pytest.mark.browser
def test_the_reader_attacks_their_own_example_in_the_page(built, page, server):
    """Finite differences in the page agree with PyTorch's gradient, and the attacked example
    stays within epsilon on the 1/255 grid and is read as the page says by onnxruntime in Python."""
    import onnxruntime

    config, data = built
    page.goto(server + "/mnist.html#fig-tour?layer=softmax&play=0")  # the tour first, to watch the attack
    expect(page.locator(".grand-tour output").nth(1)).to_contain_text("softmax")
    explorer = page.locator(".layer-explorer").first
    explorer.scroll_into_view_if_needed()
    expect(explorer.locator(".status")).to_contain_text("The network says", timeout=60_000)
    original = np.asarray(data.examples["pixels"][0], dtype=np.float32) / 255  # the first held-out, shown at load
    target = 0 if data.examples["predictions"]["cnn"][0] != 0 else 1  # a class the CNN does not read it as

    # The page's gradient signs against autograd's, on the exported CNN.
    signs = page.evaluate(
        """async ([image, target]) => {
        const { gradientSign } = await import('./assets/attack.js');
        const { loadModel, sitePath } = await import('./assets/runtime.js');
        const model = await loadModel(sitePath('model', { model: 'cnn' }));
        const score = (images, count) => model.output('fc2', images, count);
        return Array.from(await gradientSign(score, Float32Array.from(image), target, false));
    }""",
        [original.tolist(), target],
    )
    network = network_from_layers(CNN_LAYERS)
    network.load_weights(weights_from_onnx(network.module, data.files[data.models["cnn"].onnx]))
    x = torch.from_numpy(original.reshape(1, 1, 28, 28)).requires_grad_(True)
    logits, _ = network.logits_and_output(x)
    (grad,) = torch.autograd.grad(torch.log_softmax(logits, 1)[0, target], x)
    grad = grad.flatten().numpy()
    strong = np.abs(grad) > np.quantile(np.abs(grad), 0.5)  # the half that moves log p the most
    assert (np.sign(grad[strong]) == np.asarray(signs)[strong]).mean() > 0.95

    explorer.get_by_label("The class to push it towards").select_option(str(target))
    explorer.get_by_role("button", name="Attack").click()
    said = explorer.locator(".attack-said")
    expect(said).to_contain_text(re.compile(r"^ (After|\d+ steps)"), timeout=30_000)
    final = np.asarray(page.evaluate("async () => Array.from((await window.layerwise.explorers[0]).example())"))
    settings = data.tour["attack"]
    assert np.abs(final - original).max() <= settings["epsilon"] + 1e-6  # within the bound
    assert np.allclose(final * 255, np.round(final * 255), atol=1e-3)  # on the grid
    python = onnxruntime.InferenceSession(data.files[data.models["cnn"].onnx])
    scores = python.run(["softmax"], {"image": final.astype(np.float32).reshape(1, 1, 28, 28)})[0][0]
    reads = data.classes[int(scores.argmax())]
    assert f"reads {reads}" in said.text_content() and explorer.locator(".status").text_content().endswith(f"{reads}.")
    if said.text_content().startswith(" After"):
        assert reads == data.classes[target]
    # The tour drew the example's path: where it was before each step, then where it is.
    trail = "(async () => (await window.layerwise.tours[0]).state.reader.trail.length)()"
    assert 1 <= page.evaluate(trail) <= 12
    assert page.console_errors == []


@pytest.mark.browser
def test_the_mistakes_figure_is_linked_by_held_out_example(built, page, server):
    """Views link by held-out example: classes picked in the tour's legend dim the mistakes outside
    them; a click on a mistake selects that example in the tour and loads it into the explorer."""
    config, data = built
    meta = json.loads((Path(config["out"]) / "mnist" / "tour" / "cnn" / "meta.json").read_text())
    position = {example: p for p, example in enumerate(meta["examples"])}
    shown = data.models["softmax"].mistakes[:10]  # content/mnist.md: the figure's :count:
    k, clicked = next((k, m) for k, m in enumerate(shown) if m["example"] in position)
    page.goto(server + "/mnist.html#fig-tour?layer=fc1&play=0")
    mistakes = page.locator(".figure-mistakes .plotly-figure")
    mistakes.scroll_into_view_if_needed()
    expect(mistakes.locator(".main-svg").first).to_be_attached(timeout=20_000)
    tour = page.locator(".grand-tour")
    tour.scroll_into_view_if_needed()
    expect(tour.locator("output").nth(1)).to_contain_text("fc1")
    label = clicked["label"]
    legend = tour.get_by_role("group", name="Highlight classes")
    legend.get_by_role("button", name=data.classes[label], exact=True).click()
    in_class = [m for m in shown if m["example"] in position and m["label"] == label]
    expect(mistakes).to_have_attribute("data-selected", str(len(in_class)))
    page.evaluate(
        "(k) => document.querySelector('.figure-mistakes .plotly-figure')"
        ".emit('plotly_click', { points: [{ curveNumber: k }] })",
        k,
    )
    selected = page.evaluate("""(async () => {
        const tour = await window.layerwise.tours[0];
        return [...tour.state.mask.keys()].filter((p) => tour.state.mask[p]);
    })()""")
    assert selected == [position[clicked["example"]]]
    expect(mistakes).to_have_attribute("data-selected", "1")
    expect(page.locator(".layer-explorer .status")).to_contain_text("The network says", timeout=60_000)
    shown_pixels = page.evaluate("async () => Array.from((await window.layerwise.explorers[0]).example())")
    assert np.allclose(np.asarray(shown_pixels) * 255, np.ravel(clicked["pixels"]), atol=1e-3)
    assert page.console_errors == []
