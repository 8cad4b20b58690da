"""Attention's arithmetic on the reader's text (#24): the build reads q, k, v, the masked scores and
each head's output from the ONNX graph and exposes them by the contract's names; the page redoes
q·k/√d, the mask, the softmax and the weighted sum for one query, equal to the model's numbers."""

import re

import numpy as np
import onnxruntime
import pytest
import torch
from playwright.sync_api import expect

from layerwise import contract
from layerwise.model import anatomy
from layerwise.model.export import export_onnx
from layerwise.model.models import network_from_layers
from layerwise.model.sequence import transformer_lines
from layerwise.model.sources.text import TextInfo

ARTICLE, MODEL = "transformer", "transformer"  # the session build's next-token article and its model


def test_the_page_model_exposes_q_k_v_scores_and_head_outputs_equal_to_pytorchs():
    info = TextInfo("next-token", list("abcdefgh é"), None, 24, [])
    network = network_from_layers(transformer_lines(blocks=1, heads=2, width=16), (24,), 0, "t", info).eval()
    layers = [type("Layer", (), {"name": n, "type": network.layer_type(n)}) for n in network.layer_names]
    described = anatomy.describe(export_onnx(network, (24,)), layers)
    layer = "block1.attention.probabilities"
    step = described.steps[layer]
    names = {part: contract.attention_part(layer, part) for part in contract.ATTENTION_PARTS}
    assert step.kind == "attention" and step.settings["parts"] == names and step.reads == list(names.values())
    assert step.settings["scale"] == pytest.approx(np.sqrt(8))  # d = 16 / 2 heads
    assert not set(names.values()) & set(described.inner)  # described by the attention step, not walked

    seen = {}
    attention = network.module.get_submodule("block1.attention")
    handle = attention.register_forward_pre_hook(lambda module, args: seen.update(x=args[0]))
    tokens = torch.tensor([[1, 2, 3, 4, 5, 0, 7]])  # (1, T)
    with torch.no_grad():
        shown = network.outputs(tokens)
        handle.remove()
        q, k, v = (
            attention.qkv(seen["x"]).unflatten(-1, (3, 2, -1)).permute(2, 0, 3, 1, 4).unbind(0)
        )  # each (1, H, T, d)
    session = onnxruntime.InferenceSession(described.page_onnx)
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"tokens": tokens.numpy()})))
    for part, want in (("q", q), ("k", k), ("v", v), ("heads", shown[layer] @ v)):
        assert np.abs(got[names[part]] - want.numpy()).max() <= 1e-5, part
    scores = got[names["scores"]]  # (1, H, T, T): -inf after each query
    assert (np.isneginf(scores) == np.triu(np.ones((7, 7), bool), 1)).all()
    expected = (q @ k.transpose(-2, -1) / np.sqrt(8)).numpy()
    assert np.abs(np.where(np.isneginf(scores), 0, scores - expected)).max() <= 1e-5


@pytest.fixture(scope="module")
def text_site(site_build, server):
    _, results = site_build
    return f"{server}/{ARTICLE}.html", results[ARTICLE]


ARITHMETIC = """async () => {
    const a = (await window.layerwise['text-explorers'][0]).arithmetic();
    return a && { head: a.head, query: a.query, scaled: a.scaled, weights: a.weights, output: a.output,
                  removed: a.removed, errors: a.errors };
}"""


@pytest.mark.browser
def test_pressing_a_query_shows_its_arithmetic_equal_to_the_exported_numbers(page, text_site):
    url, result = text_site
    page.goto(url)
    page.locator(".text-explorer").scroll_into_view_if_needed()
    expect(page.locator(".text-explorer")).to_have_attribute("data-drawn", re.compile(".*"), timeout=60_000)
    text = "the cat sat on the mat"
    page.get_by_label("Your text").fill(text)
    expect(page.locator(".text-explorer")).to_have_attribute("data-drawn", text)
    details = page.locator(".attention-arithmetic")
    expect(details).to_be_hidden()

    # The keyboard: on the first head's map, up twice moves the query, Enter opens its arithmetic.
    page.locator(".text-head canvas").first.focus()
    for key in ("ArrowUp", "ArrowUp", "Enter"):
        page.keyboard.press(key)
    expect(details).to_be_visible()
    T, query = len(text), len(text) - 3
    found = page.evaluate(ARITHMETIC)
    assert (found["head"], found["query"]) == (0, query)
    layer = next(layer for layer in result.models[MODEL].layers if layer.type == "Attention")
    python = onnxruntime.InferenceSession(result.files[contract.site_path("model", model=MODEL)])
    tokens = np.asarray([[result.dataset.text.vocabulary.index(c) for c in text]], dtype=np.int64)  # (1, T)
    parts = layer.step["settings"]["parts"]
    probabilities, scores, heads = python.run([layer.name, parts["scores"], parts["heads"]], {"tokens": tokens})
    kept = ~np.isneginf(scores[0, 0, query])  # (T,): the keys the mask keeps
    assert found["removed"] == list(~kept) and kept.sum() == query + 1  # causal: the keys after the query
    errors = {
        "q·k/√d": np.abs(np.asarray(found["scaled"])[kept] - scores[0, 0, query][kept]).max(),
        "softmax row": np.abs(np.asarray(found["weights"]) - probabilities[0, 0, query]).max(),
        "weighted sum": np.abs(np.asarray(found["output"]) - heads[0, 0, query]).max(),
    }
    print("max differences from the exported numbers:", errors, "page's own:", found["errors"])
    assert max(errors.values()) <= 1e-5, errors
    keys = details.locator("table").first.locator("thead th").all_inner_texts()
    assert keys == ["key", *text.replace(" ", "␣")]  # the tokens label the keys, a space shown as ␣
    expect(details).to_contain_text(f"removes the {T - query - 1} keys after the query")

    # The mouse (a tap is the same click): row 5 of the second head's map.
    canvas = page.locator(".text-head canvas").nth(1)
    box, height = canvas.bounding_box(), canvas.evaluate("c => c.height")
    label, row = 18, 12  # px of the map's label gutter and of a row (text-explorer-render.js)
    canvas.click(position={"x": box["width"] / 2, "y": (label + 4.5 * row) * box["height"] / height})
    expect(details.locator("h3")).to_contain_text("Head 2: the arithmetic of the query at position 5")
    found = page.evaluate(ARITHMETIC)
    assert (found["head"], found["query"]) == (1, 4) and max(found["errors"].values()) <= 1e-5
    details.get_by_role("button", name="Close the arithmetic").click()
    expect(details).to_be_hidden()
    assert page.evaluate("document.activeElement.dataset.head") == "1"
    assert page.console_errors == []


def gru_step_in_numpy(W, R, B, x, before):
    """ONNX's GRU (gates z, r, h; linear_before_reset) for one step: (z, r, n, h), each (H,)."""
    H = R.shape[1]
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    fromInput, fromState = W @ x + B[: 3 * H], R @ before + B[3 * H :]  # (3H,) each
    z, r = sigmoid(fromInput[:H] + fromState[:H]), sigmoid(fromInput[H : 2 * H] + fromState[H : 2 * H])
    n = np.tanh(fromInput[2 * H :] + r * fromState[2 * H :])
    return z, r, n, (1 - z) * n + z * before


def test_a_grus_step_is_read_from_the_graph_with_torchs_weights():
    info = TextInfo("classify", list("abcdefgh é"), None, 24, [])
    lines = ["embed: Embedding(auto, 8)", "gru: GRU(auto, 12)", "last: Pool('last')", "out: Linear(auto, classes)"]
    network = network_from_layers(lines, (24,), 3, "g", info).eval()
    layers = [type("Layer", (), {"name": n, "type": network.layer_type(n)}) for n in network.layer_names]
    described = anatomy.describe(export_onnx(network, (24,)), layers)
    step = described.steps["gru"]
    assert (step.kind, step.reads, step.settings["hidden"], step.settings["linear_before_reset"]) == (
        "gru",
        ["embed"],
        12,
        True,
    )
    stored = np.frombuffer(described.weights, dtype="<f4")
    W, R, B = (stored[o : o + np.prod(shape)].reshape(shape) for o, shape in (step.weights[k] for k in "WRB"))
    gru = network.module.get_submodule("gru.gru")  # torch's r, z, n order: the graph's is z, r, n
    r_, z_, n_ = gru.weight_ih_l0.detach().numpy().reshape(3, 12, 8)
    assert np.array_equal(W, np.concatenate([z_, r_, n_]))
    with torch.no_grad():
        shown = network.outputs(torch.tensor([[1, 2, 3, 4, 5]]))
    x, states = shown["embed"][0].numpy(), shown["gru"][0].numpy()  # (T, 8), (T, 12)
    before = np.zeros(12, np.float32)
    for t in range(5):
        before = gru_step_in_numpy(W, R, B, x[t], before)[3]
        assert np.abs(before - states[t]).max() <= 1e-5


@pytest.mark.browser
def test_pressing_a_letter_of_the_grus_layer_shows_its_gates_equal_to_the_models_state(page, site_build, server):
    _, results = site_build
    result = results["languages"]
    page.goto(f"{server}/languages.html")
    explorer = page.locator('.text-explorer[data-model="gru"]')
    explorer.scroll_into_view_if_needed()
    expect(explorer).to_have_attribute("data-drawn", re.compile(".*"), timeout=60_000)
    word = "bonjour"
    explorer.get_by_label("Your text").fill(word)
    explorer.get_by_label("Layer").select_option("gru")
    expect(explorer).to_have_attribute("data-drawn", word)
    details = explorer.locator(".attention-arithmetic")

    # The mouse: row 4 of the GRU's heatmap (rows of 12 px from the top) opens the step at "j".
    canvas = explorer.locator(".text-sequence")
    box, height = canvas.bounding_box(), canvas.evaluate("c => c.height")
    canvas.click(position={"x": box["width"] / 2, "y": 3.5 * 12 * box["height"] / height})
    expect(details.locator("h3")).to_have_text("The GRU's step at position 4 (“j”)")
    # The keyboard: closed, the focus is back on the heatmap; down, then Enter opens position 5.
    details.get_by_role("button", name="Close the arithmetic").click()
    expect(details).to_be_hidden()
    for key in ("ArrowDown", "Enter"):
        page.keyboard.press(key)
    expect(details.locator("h3")).to_have_text("The GRU's step at position 5 (“o”)")

    found = page.evaluate("""async () => {
        const all = await Promise.all(window.layerwise['text-explorers']);
        const a = all.find((e) => e.root.dataset.model === 'gru').arithmetic();
        return { t: a.t, z: a.z, r: a.r, n: a.n, h: a.h, error: a.error };
    }""")
    step = next(layer.step for layer in result.models["gru"].layers if layer.name == "gru")
    stored = np.frombuffer(result.files[contract.site_path("weights", model="gru")], dtype="<f4")
    W, R, B = (stored[o : o + np.prod(shape)].reshape(shape) for o, shape in (step["weights"][k] for k in "WRB"))
    python = onnxruntime.InferenceSession(result.files[contract.site_path("model", model="gru")])
    tokens = np.asarray([[result.dataset.text.vocabulary.index(c) for c in word]], dtype=np.int64)  # (1, T)
    embedded, states = python.run(["embed", "gru"], {"tokens": tokens})  # (1, T, D), (1, T, H)
    expected = gru_step_in_numpy(W, R, B, embedded[0, 4], states[0, 3])
    errors = {name: np.abs(np.asarray(found[name]) - want).max() for name, want in zip("zrnh", expected)}
    errors["h vs the model's"] = np.abs(np.asarray(found["h"]) - states[0, 4]).max()
    print("GRU step, max differences:", errors)
    assert found["t"] == 4 and max(errors.values()) <= 1e-5 and found["error"] <= 1e-5, errors
    assert page.console_errors == []


LSTM_LINES = ["embed: Embedding(auto, 8)", "lstm: LSTM(auto, 12)", "last: Pool('last')", "out: Linear(auto, classes)"]


def lstm_steps_in_numpy(W, R, B, x):
    """ONNX's LSTM (gates i, o, f, c; no peepholes) over every position of x (T, D): per position
    (i, f, o, g, c, h), each (H,)."""
    H, sigmoid = R.shape[1], lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h, c, steps = np.zeros(H, np.float32), np.zeros(H, np.float32), []
    for x_t in x:
        i, o, f, g = np.split(W @ x_t + B[: 4 * H] + R @ h + B[4 * H :], 4)  # each (H,)
        i, o, f, g = sigmoid(i), sigmoid(o), sigmoid(f), np.tanh(g)
        c = f * c + i * g
        h = o * np.tanh(c)
        steps.append((i, f, o, g, c, h))
    return steps


def described_lstm():
    """A tiny LSTM classifier, its shown outputs on five tokens and its step's W, R, B from the anatomy."""
    info = TextInfo("classify", list("abcdefgh é"), None, 24, [])
    network = network_from_layers(LSTM_LINES, (24,), 3, "l", info).eval()
    layers = [type("Layer", (), {"name": n, "type": network.layer_type(n)}) for n in network.layer_names]
    described = anatomy.describe(export_onnx(network, (24,)), layers)
    step = described.steps["lstm"]
    stored = np.frombuffer(described.weights, dtype="<f4")
    W, R, B = (stored[o : o + np.prod(shape)].reshape(shape) for o, shape in (step.weights[k] for k in "WRB"))
    with torch.no_grad():
        shown = network.outputs(torch.tensor([[1, 2, 3, 4, 5]]))
    return network, step, (W, R, B), shown


def test_an_lstms_step_is_read_from_the_graph_with_torchs_weights():
    network, step, (W, R, B), shown = described_lstm()
    assert (step.kind, step.reads, step.settings) == ("lstm", ["embed"], {"hidden": 12, "gates": "iofc"})
    lstm = network.module.get_submodule("lstm.lstm")  # torch's i, f, g, o order: the graph's is i, o, f, c
    i_, f_, g_, o_ = lstm.weight_ih_l0.detach().numpy().reshape(4, 12, 8)
    assert np.array_equal(W, np.concatenate([i_, o_, f_, g_]))
    x, states = shown["embed"][0].numpy(), shown["lstm"][0].numpy()  # (T, 8), (T, 12)
    found = np.stack([step[5] for step in lstm_steps_in_numpy(W, R, B, x)])  # (T, 12)
    assert np.abs(found - states).max() <= 1e-5


@pytest.mark.browser
def test_the_pages_lstm_step_equals_the_models_gates(page, site_build, server):
    """The page's LSTM arithmetic (templates/text-recurrent.js) in Chromium, on a tiny LSTM's
    outputs and weights: each gate, the cell and h equal numpy's, and h the model's."""
    network, step, (W, R, B), shown = described_lstm()
    page.goto(f"{server}/languages.html")
    found = page.evaluate(
        """async ({ layer, outputs, weights }) => {
            const { RECURRENT } = await import('./assets/text-recurrent.js');
            const floats = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Float32Array.from(v)]));
            const a = RECURRENT.lstm.arithmetic(layer, floats(outputs), floats(weights), 3);
            return { t: a.t, i: a.i, f: a.f, o: a.o, g: a.g, c: a.c, h: a.h, error: a.error };
        }""",
        {
            "layer": {"name": "lstm", "step": {"reads": step.reads, "settings": step.settings}},
            "outputs": {name: shown[name][0].flatten().tolist() for name in ("embed", "lstm")},
            "weights": {"W": W.flatten().tolist(), "R": R.flatten().tolist(), "B": B.flatten().tolist()},
        },
    )
    expected = lstm_steps_in_numpy(W, R, B, shown["embed"][0].numpy())[3]
    errors = {name: np.abs(np.asarray(found[name]) - want).max() for name, want in zip("ifogch", expected)}
    print("LSTM step, max differences:", errors)
    assert found["t"] == 3 and max(errors.values()) <= 1e-5 and found["error"] <= 1e-5, errors
    assert page.console_errors == []
