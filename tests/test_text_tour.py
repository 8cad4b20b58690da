"""The Grand Tour and the manifold views over words (#24): a word at a layer is the layer's output
averaged over its letters (model/representation.py), recorded as PyTorch computes it, shown one
point per sampled word, and the reader's word from the text explorer placed the same way by the page."""

import json
import re
import tomllib

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from conftest import ROOT
from layerwise import contract
from layerwise.config import DEFAULTS, ModelSpecError
from layerwise.model.data import load_dataset
from layerwise.model.export import weights_from_onnx
from layerwise.model.models import network_from_layers
from layerwise.model.orchestrator import analysed_layers
from layerwise.model.representation import text_vectors
from layerwise.model.sources import describe_source
from layerwise.model.sources.text import tokenize

ARTICLE, MODEL = "languages", "transformer"  # content/languages.md and its recorded model
LINES = [
    "embed: Embedding(auto, 8)",
    "position: PositionalEmbedding(context, 8)",
    "block1: TransformerBlock(8, heads=2, causal=False)",
    "pool: Pool('mean')",
    "fc: Linear(auto, classes)",
]


def pooled_by_torch(network, tokens: list[int], vocabulary: int) -> dict[str, np.ndarray]:
    """One word alone through the network: each layer's output averaged over its letters."""
    x = torch.tensor([tokens])  # (1, T)
    with torch.no_grad():
        outputs = network.outputs(x)
    pooled = {"input": torch.nn.functional.one_hot(x[0], vocabulary).float().mean(0).numpy()}
    for name, value in outputs.items():
        if value.dim() <= 3:  # attention (1, H, T, T) is not one vector per word
            pooled[name] = (value[0].mean(0) if value.dim() == 3 else value[0]).numpy()
    return pooled


def test_words_of_every_length_are_their_layers_averaged_over_their_letters(tmp_path):
    for name, words in {"en": "a house mouse cheese tree waterfall", "de": "Haus Maus Käse Baum Wasserfall ab"}.items():
        (tmp_path / f"{name}.txt").write_text("\n".join(words.split() * 3), encoding="utf-8")
    data = {**DEFAULTS["data"], "source": "text", "root": str(tmp_path), "task": "classify", "context": 8}
    source = describe_source(data, None)
    dataset = load_dataset(data, None, source)
    torch.manual_seed(0)
    network = network_from_layers(LINES, source.shape, 2, "tiny", source.text)
    found = text_vectors(network, dataset.train_x, source, batch=4)  # lengths 1 to 8 (cut), mixed in batches
    assert set(found) == {"input", "embed", "position", "block1", "pool", "fc"}  # attention left out
    with pytest.raises(ModelSpecError, match="its layers: input, embed, position, block1, pool, fc$"):
        analysed_layers({"analysis": {"layers": ["block1.attention.probabilities"]}}, network, source)
    vocabulary = len(source.text.vocabulary)
    for i, row in enumerate(dataset.train_x.tolist()):
        expected = pooled_by_torch(network, [t for t in row if t >= 0], vocabulary)
        for name, vector in expected.items():
            assert np.allclose(found[name][i], vector, atol=1e-5), (i, name)


@pytest.fixture(scope="module")
def languages(site_build, server):
    """The session build's languages article: (its page's URL, its BuildResult, the tour's meta)."""
    result = site_build[1][ARTICLE]
    meta = json.loads(result.files[contract.site_path("tour_meta", model=MODEL)])
    return f"{server}/{ARTICLE}.html", result, meta


def trained_network(result):
    """The recorded model as PyTorch (content/languages.toml's lines), with the weights its page runs."""
    lines = tomllib.loads((ROOT / "content" / f"{ARTICLE}.toml").read_text())["models"][MODEL]["layers"]
    network = network_from_layers(lines, result.dataset.shape, len(result.classes), MODEL, result.dataset.text)
    network.load_weights(weights_from_onnx(network.module, result.files[result.models[MODEL].onnx]))
    return network


def recorded(result, meta: dict, layer: str) -> np.ndarray:
    """A layer's recorded points after training: (n, dims)."""
    info = next(entry for entry in meta["layers"] if entry["name"] == layer)
    values = np.frombuffer(result.files[contract.site_path("tour_layer", model=MODEL, layer=layer)], "<f2")
    return values.reshape(meta["snapshots"], meta["n"], info["dims"])[-1].astype(np.float32)


def reduced(result, meta: dict, layer: str, vector: np.ndarray) -> np.ndarray:
    """A vector as the build reduced that layer: minus the mean, onto the principal directions."""
    info = next(entry for entry in meta["layers"] if entry["name"] == layer)
    if not info["reduced"]:
        return vector
    basis = np.frombuffer(result.files[contract.site_path("tour_basis", model=MODEL, layer=layer)], "<f4")
    basis = basis.reshape(1 + info["dims"], info["width"])
    return (vector - basis[0]) @ basis[1:].T


# The page's own pooling of the explorer's run on a word, and the tour's point for it.
POOLED = """async ([word, layers]) => {
    const explorer = await window.layerwise['text-explorers'][0];
    const { textVector } = await import('./assets/representation.js');
    const { reading } = await import('./assets/text-explorer-state.js');
    const tokens = reading(word, explorer.info).tokens, outputs = await explorer.run(word);
    return layers.map((info) => Array.from(textVector(info, tokens, outputs)));
}"""
READER = "async () => { const r = (await window.layerwise.tours[0]).state.reader; return r && Array.from(r.point); }"


def polled(page, script, arg=None, tries=200):
    """page.evaluate until it gives something (the page's CSP refuses wait_for_function's eval)."""
    for _ in range(tries):
        found = page.evaluate(script, arg)
        if found:
            return found
        page.wait_for_timeout(100)
    raise AssertionError(f"never: {script}")


@pytest.mark.browser
def test_the_tour_shows_each_sampled_word_as_pytorch_places_it_and_the_readers_word_live(page, languages):
    url, result, meta = languages
    info = result.dataset.text
    network, vocabulary = trained_network(result), len(info.vocabulary)
    # One point per sampled word, each recorded after training as PyTorch computes that word alone.
    assert len(meta["texts"]) == meta["n"] == len(meta["examples"]) == result.tour["sample_size"]
    layers = ["input", "block1", "pool", "fc"]
    for p in range(0, meta["n"], meta["n"] // 4):
        expected = pooled_by_torch(network, tokenize(meta["texts"][p], info.vocabulary, info.unknown), vocabulary)
        for layer in layers:
            found, wanted = recorded(result, meta, layer)[p], reduced(result, meta, layer, expected[layer])
            assert np.allclose(found, wanted, atol=2e-2, rtol=1e-2), (meta["texts"][p], layer)  # float16

    page.goto(url)
    tour = page.locator(".grand-tour")
    tour.scroll_into_view_if_needed()
    assert polled(page, "async () => (await window.layerwise.tours[0]).renderer.positions.length / 2") == meta["n"]
    # The reader's word: the explorer's outputs pooled by the page as Python pools them, and its dot.
    word = "Wasserfall"
    page.locator("#fig-word .text-explorer textarea").fill(word)
    expect(page.locator("#fig-word .text-explorer")).to_have_attribute("data-drawn", word, timeout=60_000)
    expected = pooled_by_torch(network, tokenize(word, info.vocabulary, info.unknown), vocabulary)
    shown = [entry for entry in meta["layers"] if entry["name"] in layers]
    for entry, vector in zip(shown, page.evaluate(POOLED, [word, shown])):
        assert np.allclose(vector, expected[entry["name"]], atol=1e-5), entry["name"]
    # A word in the GRU's explorer (another model's, on the way down) leaves the tour, the
    # transformer's, on the reader's word from the transformer's explorer.
    page.locator("#fig-gru .text-explorer textarea").fill("Bahnhof")
    expect(page.locator("#fig-gru .text-explorer")).to_have_attribute("data-drawn", "Bahnhof", timeout=60_000)
    tour.scroll_into_view_if_needed()
    expect(tour).to_have_attribute("data-reader-point", re.compile(r"^-?\d+\.\d,-?\d+\.\d$"), timeout=20_000)
    assert np.allclose(polled(page, READER), expected["fc"], atol=1e-4)  # the tour opens at the scores
    assert page.console_errors == [] and page.foreign_requests == []


@pytest.mark.browser
def test_the_tour_coming_on_screen_after_both_explorers_shows_the_transformers_word(page, languages):
    """On a phone the tour mounts only when scrolled near, after the GRU's explorer (on the way
    down) has run its own word: the tour still takes the transformer's word, not none."""
    url, result, _ = languages
    info = result.dataset.text
    tokens = tokenize("Wasserfall", info.vocabulary, info.unknown)
    expected = pooled_by_torch(trained_network(result), tokens, len(info.vocabulary))
    page.goto(url)
    page.locator("#fig-word .text-explorer textarea").fill("Wasserfall")
    expect(page.locator("#fig-word .text-explorer")).to_have_attribute("data-drawn", "Wasserfall", timeout=60_000)
    page.locator("#fig-gru .text-explorer textarea").fill("Bahnhof")
    expect(page.locator("#fig-gru .text-explorer")).to_have_attribute("data-drawn", "Bahnhof", timeout=60_000)
    # The GRU has no attention heads: no Head box beside its layers (the transformer's has one).
    expect(page.locator("#fig-gru select").nth(2)).to_be_hidden()
    expect(page.locator("#fig-word select").nth(2)).to_be_visible()
    link = page.evaluate("location.hash")  # a classifier's link: its word and view, no sampler settings
    assert link.startswith("#fig-gru?text=Bahnhof") and "temperature" not in link and "seed" not in link
    tour = page.locator(".grand-tour")
    tour.scroll_into_view_if_needed()
    expect(tour).to_have_attribute("data-reader-point", re.compile(r"^-?\d+\.\d,-?\d+\.\d$"), timeout=20_000)
    assert np.allclose(polled(page, READER), expected["fc"], atol=1e-4)
    assert page.console_errors == [] and page.foreign_requests == []
