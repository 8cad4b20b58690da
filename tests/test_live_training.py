"""Live training (#23 item 6): the exported SGD step of a linear model against PyTorch's own
nn.Linear + loss + optim.SGD, in Python's onnxruntime and in the page's onnxruntime-web, for both
losses; the widget training in the page by keyboard to well above chance within an epoch, pausing
off screen; axe on it. The graphs and examples are the session build's (content/mnist.md)."""

import html
import json
import re
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
import torch.nn.functional as F
from playwright.sync_api import expect

from layerwise.contract import live_layout, site_path
from layerwise.model import live_training as lt
from layerwise.page.figures import FIGURES, FigureError
from layerwise.stats import percent

ROOT = Path(__file__).resolve().parent.parent
STEPS = 25  # batches of the first epoch, then two of the second (its own order)


@pytest.fixture(scope="module")
def article(built):
    """(the graphs' paths, the examples: train pixels and labels, test pixels and labels, classes)."""
    config, result = built
    out = Path(config["out"])
    page = (out / "mnist.html").read_text()
    figure = page[page.index('class="live-training"') :]
    graphs = {name: out / path for name, path in re.findall(r'data-graph-(\w+)="([^"]+)"', figure[:2000])}
    data = (out / "mnist" / site_path("live_examples")).read_bytes()
    layout = live_layout(result.dataset.n_train, result.dataset.n_test, result.dataset.shape)
    parts = {name: np.frombuffer(data, np.uint8, length, offset) for name, (offset, length) in layout.items()}
    size = int(np.prod(result.dataset.shape))
    examples = (
        parts["train_pixels"].reshape(-1, size),
        parts["train_labels"],
        parts["test_pixels"].reshape(-1, size),
        parts["test_labels"],
    )
    return graphs, examples, len(result.classes)


def batches_for(n: int, steps: int) -> list[np.ndarray]:
    """The page's first `steps` batches: epoch 0's in its order, then epoch 1's."""
    found, epoch = [], 0
    while len(found) < steps:
        found += lt.batches(n, epoch)
        epoch += 1
    return found[:steps]


def pytorch_run(examples, classes: int, loss: str, steps: int = STEPS, initial=None) -> np.ndarray:
    """PyTorch's own way, written apart from the exported function: nn.Linear from `initial`
    (zero by default), the model's loss averaged over the batch, torch.optim.SGD."""
    pixels, labels = (
        torch.from_numpy(examples[0].astype(np.float32) / 255),
        torch.from_numpy(examples[1].astype(np.int64)),
    )
    linear = torch.nn.Linear(pixels.shape[1], classes)
    with torch.no_grad():
        flat = (
            torch.zeros(lt.parameter_count(pixels.shape[1], classes)) if initial is None else torch.from_numpy(initial)
        )
        linear.weight.copy_(flat[:-classes].reshape(classes, -1))
        linear.bias.copy_(flat[-classes:])
    optimiser = torch.optim.SGD(linear.parameters(), lr=lt.LEARNING_RATE)
    for indices in batches_for(len(labels), steps):
        z = linear(pixels[indices])  # (B, K)
        if loss == "softmax":
            value = F.cross_entropy(z, labels[indices])
        else:  # one sigmoid neuron per class: each neuron's binary cross-entropy, summed over classes
            value = F.binary_cross_entropy_with_logits(z, F.one_hot(labels[indices], classes).float(), reduction="sum")
            value = value / len(indices)
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
    return torch.cat([linear.weight.detach().ravel(), linear.bias.detach()]).numpy()


@pytest.mark.parametrize("loss", lt.LOSSES)
def test_exported_step_is_pytorchs_sgd_step(article, loss):
    """The build's graph in Python's onnxruntime, step after step, equals PyTorch's autograd and
    SGD on the same linear model (from random weights, so every parameter moves): <= 1e-5."""
    graphs, examples, classes = article
    session = onnxruntime.InferenceSession(graphs["step"])
    initial = np.random.default_rng(0).normal(0, 0.01, lt.parameter_count(examples[0].shape[1], classes))
    params = initial.astype(np.float32)
    for indices in batches_for(len(examples[1]), STEPS):
        batch = lt.padded(examples[0][indices], examples[1][indices], classes)
        params, value = session.run(None, {"params": params, "hyper": lt.hyper(loss), **batch})
    expected = pytorch_run(examples, classes, loss, initial=initial.astype(np.float32))
    assert np.abs(params - expected).max() <= 1e-5
    assert np.abs(expected - initial).max() > 1e-3  # it trained
    scores = onnxruntime.InferenceSession(graphs["scores"]).run(
        None, {"params": params, "pixels": examples[2][:5].astype(np.float32)}
    )[0]
    assert scores.shape == (5, classes)


def test_each_figure_trains_its_model_with_its_loss_towards_its_accuracy(built):
    """The article's two live figures: softmax regression and the one-vs-rest neurons, each with
    the step's loss for its model and the build's own accuracy for it as the target."""
    config, result = built
    page = (Path(config["out"]) / "mnist.html").read_text()
    for label, model in (("fig-live", "softmax"), ("fig-live-neurons", "one_neuron")):
        found = re.search(f'id="{label}"><div class="live-training" data-model="([^"]+)"', page)
        described = json.loads(html.unescape(found.group(1)))
        assert described["model"] == model and described["loss"] == model
        assert described["hyper"] == lt.hyper(model).tolist()
        assert described["target"] == result.models[model].metrics["test_accuracy"]


def test_a_model_that_cannot_train_live_is_one_line(built):
    with pytest.raises(FigureError) as error:
        FIGURES["live-training"].render(built[1], model="cnn")
    said = str(error.value)
    assert (
        "'cnn' is not one linear layer" in said and "choose :model: one_neuron or softmax" in said and "\n" not in said
    )


def test_the_examples_are_published_only_for_a_page_with_the_figure(site_build):
    """contract.ON_DEMAND: the MNIST article shows live training, the Fashion-MNIST one does not."""
    out = Path(site_build[0]["out"])
    assert (out / "mnist" / site_path("live_examples")).stat().st_size > 0
    assert not (out / "fashion" / f"{site_path('live_examples')}.gz").exists()
    assert not (out / "fashion" / site_path("live_examples")).exists()
    assert site_path("live_examples") in site_build[1]["fashion"].files  # made by the pipeline, left out by render


def open_live(page, url):
    """The article's live-training figure, once its graphs and examples are loaded."""
    page.goto(url)
    root = page.locator("#fig-live .live-training")
    root.scroll_into_view_if_needed()
    expect(root).to_have_attribute("data-ready", "1", timeout=60_000)
    return root


def test_page_steps_match_pytorch_for_both_losses(page, server, article):
    """25 steps in the page's onnxruntime-web, on the batches the page makes (its shuffle, its
    padding), from zero, against PyTorch's: within 1e-5 per parameter, softmax and one-vs-rest."""
    _, examples, classes = article
    open_live(page, f"{server}/mnist.html")
    for loss in lt.LOSSES:
        params = page.evaluate(
            """async ([hyper, steps, classes]) => {
                const state = await import("./assets/live-training-state.js");
                const { trainer } = await import("./assets/live-training.js");
                const shown = document.querySelector("#fig-live .live-training");
                const index = [...document.querySelectorAll(".live-training")].indexOf(shown);
                const widget = await window.layerwise["live-training"][index];
                const tools = await trainer({ ...widget.model, hyper }, classes);
                const run = state.newRun(widget.model.parameters, widget.examples.trainLabels.length);
                for (let i = 0; i < steps; i++) {
                    const indices = state.nextIndices(run, widget.model.batch);
                    const batch = state.batchOf(widget.examples, indices, widget.model.batch, classes);
                    const result = await tools.step(run.params, batch);
                    state.advance(run, result.params, result.loss, indices.length);
                }
                return Array.from(run.params);
            }""",
            [lt.hyper(loss).tolist(), STEPS, classes],
        )
        expected = pytorch_run(examples, classes, loss)
        assert np.abs(np.array(params) - expected).max() <= 1e-5, loss
    # The page's second epoch is shuffled as Python shuffles it.
    order = page.evaluate(
        "async (n) => (await import('./assets/live-training-state.js')).epochOrder(n, 1)", len(examples[1])
    )
    assert order == lt.epoch_order(len(examples[1]), 1).tolist()
    assert page.console_errors == []


def test_the_reader_trains_it_by_keyboard_above_chance_within_an_epoch(page, server, built):
    """Ten Steps by keyboard (640 examples, a tenth of an epoch) take the held-out accuracy from
    chance to well above it and draw the templates; Play and Pause by keyboard; off screen it pauses."""
    root = open_live(page, f"{server}/mnist.html")
    result = built[1]
    state = """() => { const r = document.querySelector('#fig-live .live-training');
        return [r.dataset.epoch, Number(r.dataset.accuracy)]; }"""
    assert page.evaluate(state)[1] < 2 / len(result.classes)  # every weight zero: one class for all
    root.get_by_role("button", name="Step").focus()
    for presses in range(1, 11):
        page.keyboard.press("Enter")
        expect(root.locator(".live-seen")).to_have_text(f"{presses * lt.BATCH:,}")
    epoch, accuracy = page.evaluate(state)
    assert epoch == "0" and accuracy > 0.6, accuracy  # chance is 1 / classes
    ink = page.evaluate("""() => { const c = document.querySelector('#fig-live canvas.live-template');
        return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 < 3 && v < 200); }""")
    assert ink  # the templates formed: no longer white
    root.get_by_role("button", name="Play").focus()
    page.keyboard.press(" ")
    expect(root).not_to_have_attribute("data-epoch", "0")  # an epoch or more: a fast machine passes 1 between polls
    page.keyboard.press(" ")
    expect(root.get_by_role("button", name="Play")).to_be_focused()
    root.get_by_role("button", name="Play").click()
    # Off screen it pauses: nothing more is seen until it is back.
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # the frame under way finishes
    seen = root.locator(".live-seen").text_content()
    page.wait_for_timeout(700)
    assert root.locator(".live-seen").text_content() == seen
    root.scroll_into_view_if_needed()
    expect(root.locator(".live-seen")).not_to_have_text(seen)
    assert root.locator(".live-target").text_content() == percent(result.models["softmax"].metrics["test_accuracy"])
    # Paused, it says where; reset, the old run's "paused at" is gone.
    root.get_by_role("button", name="Pause").click()
    expect(root.locator(".live-status")).to_contain_text("paused at")
    root.get_by_role("button", name="Reset").click()
    expect(root.locator(".live-seen")).to_have_text("0")
    expect(root.locator(".live-status")).to_have_text("")
    assert page.console_errors == []


def test_axe_finds_no_violations_on_the_live_figure(browser, server):
    """axe-core on the figure, trained a step, light and dark."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    root = open_live(page, f"{server}/mnist.html")
    root.get_by_role("button", name="Step").click()
    expect(root.locator(".live-seen")).not_to_have_text("0")
    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found = page.evaluate("""async () => (await axe.run("#fig-live", { resultTypes: ["violations"] }))
            .violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) }))""")
        assert found == [], scheme
    context.close()
