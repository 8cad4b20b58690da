"""The text explorer (#24, the page half): the page tokenizes as the build does, runs a text model
as Python's onnxruntime does, draws attention per head on the reader's text, and generates
reproducibly from a link; the figure refuses an article whose data is not text."""

import html
import re

import numpy as np
import onnxruntime
import pytest
import torch
from playwright.sync_api import expect

from layerwise.model.sources.text import tokenize
from layerwise.page.articles import plan_site
from layerwise.page.figures import FIGURES, FigureError
from layerwise.page.figures.text_explorer import shown
from layerwise.tools.bench import pytorch_twin

ARTICLE = "transformer"  # content/transformer.md: next-token on the fortunes, in the session's build
MODEL = "transformer"  # its one model, which its explorer shows


@pytest.fixture(scope="module")
def text_site(site_build, server):
    """The session build's text article: (its page's URL, its BuildResult)."""
    _, results = site_build
    return f"{server}/{ARTICLE}.html", results[ARTICLE]


def explorer_ready(page, url: str, fragment: str = "") -> None:
    """The page open and its explorer's first picture drawn (onnxruntime-web loaded)."""
    page.goto(url + fragment)
    page.locator(".text-explorer").scroll_into_view_if_needed()
    expect(page.locator(".text-explorer")).to_have_attribute("data-drawn", re.compile(".*"), timeout=60_000)


def attention_layers(result) -> list:
    return [layer for layer in result.models[MODEL].layers if layer.type == "Attention"]


EXPLORER = "(await window.layerwise['text-explorers'][0])"  # the page's first text explorer
# The focused control's label's first word (a button's own).
FOCUSED = "() => (document.activeElement.closest('label') ?? document.activeElement).textContent.split(' ')[0]"
IN_PAGE = """async (text) => {
    const explorer = await window.layerwise['text-explorers'][0];
    const { tokenize } = await import('./assets/text-explorer-state.js');
    const { vocabulary, unknown } = explorer.info;
    const outputs = await explorer.run(text);
    return { tokens: tokenize(text, vocabulary, unknown),
             outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, Array.from(v)])) };
}"""


@pytest.fixture(scope="module")
def twin(site_build, text_site):
    """The text article's model rebuilt in PyTorch with the weights its page runs (as the bench's parity)."""
    config, _ = site_build
    _, result = text_site
    article = next(a for a in plan_site(config)[1] if a.slug == ARTICLE)
    return pytorch_twin(article, MODEL, result.files[result.models[MODEL].onnx])


@pytest.mark.browser
def test_the_page_tokenizes_and_runs_the_model_as_pytorch_does_and_typing_redraws_attention(page, text_site, twin):
    url, result = text_site
    explorer_ready(page, url)
    fits = page.locator(".text-head.chosen").evaluate(
        "(e) => [e.scrollWidth <= e.clientWidth, getComputedStyle(e).maskImage]"
    )
    assert fits == [True, "none"], fits  # at 1280 px the chosen map fits, and does not fade
    info = result.dataset.text
    python = onnxruntime.InferenceSession(result.files[result.models[MODEL].onnx])
    names = [layer.name for layer in result.models[MODEL].layers]  # every shown layer, attention included
    held_out = " ".join(info.examples)[-info.context :]
    for text in ["très bien, e\u0301 😀 中文", "Ωmega ж?", "the lazy dog", held_out]:  # accents, combining, emoji, CJK
        found = page.evaluate(IN_PAGE, text)
        tokens = tokenize(text, info.vocabulary, info.unknown)
        assert found["tokens"] == tokens and len(tokens) == len(list(text))
        python_outputs = python.run(names, {"tokens": np.asarray([tokens], dtype=np.int64)})
        with torch.no_grad():
            pytorch_outputs = twin.outputs(torch.tensor([tokens]))  # (1, T)
        assert set(names) <= set(found["outputs"]) and attention_layers(result)[0].name in names
        for name, want in zip(names, python_outputs):
            # #24's parity on every shown layer, the residual streams included (post-norm: under 10)
            web = np.asarray(found["outputs"][name], dtype=np.float32)
            assert np.abs(web - pytorch_outputs[name].numpy().ravel()).max() <= 1e-5, (name, "PyTorch")
            assert np.abs(web - want.ravel()).max() <= 1e-5, (name, "onnxruntime")
    assert tokenize("中😀", info.vocabulary, info.unknown) == [info.unknown] * 2  # never seen: one token each

    # Typing redraws every head's map on the new text; a text past the context says where it is cut.
    head = page.locator(".text-head canvas").first
    before = head.get_attribute("aria-label")
    box = page.get_by_label("Your text")
    box.fill("")
    box.type("naïve 😀 fox")
    expect(page.locator(".text-explorer")).to_have_attribute("data-drawn", "naïve 😀 fox")
    assert head.get_attribute("aria-label") != before
    expect(page.locator(".text-said")).to_contain_text(
        re.compile("never saw .*“😀”.* in training")
    )  # the unknown token
    attention = attention_layers(result)[0]
    drawn = page.evaluate(f"async ([name]) => {EXPLORER}.outputs()[name].length", [attention.name])
    assert drawn == attention.shape[0] * 11 * 11  # every head over 11 code points (12 UTF-16 units)
    box.fill("x" * 70 + "the end")
    expect(page.locator(".text-said")).to_contain_text(f"reads the last {info.context}, from character 14")
    assert page.console_errors == [] and page.foreign_requests == []


@pytest.mark.browser
def test_every_control_is_labelled_reachable_by_keyboard_and_fits_a_phone(page, text_site):
    url, result = text_site
    page.set_viewport_size({"width": 360, "height": 740})
    explorer_ready(page, url)
    controls = page.locator(".text-explorer :is(textarea, select, input, button)")
    labelled = page.evaluate(
        """() => [...document.querySelectorAll('.text-explorer :is(textarea, select, input, button)')]
            .map((c) => (c.labels?.[0]?.textContent || c.textContent || '').trim())"""
    )
    assert len(labelled) == controls.count() >= 9 and all(labelled), labelled
    page.get_by_label("Your text").focus()
    reached = []
    for _ in range(controls.count() + 1):
        reached.append(page.evaluate(FOCUSED))
        page.keyboard.press("Tab")
    every = {"Your", "A", "Layer", "Head", "Query", "Generate", "temperature", "top-k", "seed"}
    assert every <= set(reached), reached
    # A 50-character text's chosen map is never shrunk below its drawn size (its labels are drawn
    # 10 px high: on screen at least 10 CSS px); wider than the phone, it scrolls in its own box.
    text = "the quick brown fox jumps over the lazy dog, again"
    page.get_by_label("Your text").fill(text)
    expect(page.locator(".text-explorer")).to_have_attribute("data-drawn", text)
    drawn, shown, box, scrolled = page.locator(".text-head.chosen canvas").evaluate(
        "(c) => [c.width, c.clientWidth, c.parentNode.clientWidth, c.parentNode.scrollWidth]"
    )
    assert len(text) == 50 and shown >= drawn and scrolled > box, (drawn, shown, box, scrolled)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # It says so: its right side fades until scrolled to the end (a table's shade would lie under the map).
    chosen = page.locator(".text-head.chosen")
    assert "gradient" in chosen.evaluate("(e) => getComputedStyle(e).maskImage")
    chosen.evaluate("(e) => { e.scrollLeft = e.scrollWidth; }")
    for _ in range(50):
        if chosen.evaluate("(e) => getComputedStyle(e).maskImage") == "none":
            break
        page.wait_for_timeout(20)
    assert chosen.evaluate("(e) => getComputedStyle(e).maskImage") == "none"
    # Each select shows its chosen option whole ("block1.attention.probabilities" was cut short).
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.text-explorer select')].filter((s) => s.offsetParent).map((s) => {
            const style = getComputedStyle(s), context = document.createElement('canvas').getContext('2d');
            context.font = style.font;
            const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20; // arrow
            return [s.selectedOptions[0].text, context.measureText(s.selectedOptions[0].text).width, room];
        }).filter(([, needs, room]) => needs > room)"""
    )
    assert cut == [], cut
    # The keyboard chooses a layer: the attention maps give way to the layer's heatmap.
    listed = [layer.name for layer in result.models[MODEL].layers if layer.type != "Lens"]
    first = attention_layers(result)[0].name
    assert page.get_by_label("Layer").input_value() == first
    page.get_by_label("Layer").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Layer")).to_have_value(listed[listed.index(first) + 1])
    expect(page.locator(".text-sequence")).to_be_visible()
    for target in page.locator(".text-explorer :is(select, input, button)").all():
        assert target.bounding_box()["height"] >= 24
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.browser
def test_generation_adds_its_characters_and_a_link_reproduces_it(page, browser, text_site):
    """200 characters, one at a time from the seed; the fragment it leaves opens on the same text."""
    url, result = text_site
    explorer_ready(page, url)
    # A temperature out of range is said, and not taken.
    page.get_by_label("temperature").fill("99")
    page.get_by_label("temperature").dispatch_event("change")
    expect(page.locator(".text-progress")).to_contain_text("The temperature 99 is not taken")
    assert "temperature=99" not in page.evaluate("location.hash")
    page.get_by_label("seed").fill("7")
    page.get_by_label("seed").dispatch_event("change")
    page.get_by_role("button", name="Generate 200 characters").click()
    expect(page.locator(".text-progress")).to_have_text("Generated 200 of 200 characters.", timeout=60_000)
    generated = page.evaluate(f"async () => {EXPLORER}.state().generated")
    expect(page.locator(".text-continued mark")).to_have_text(generated)
    assert len(list(generated)) == 200 and result.dataset.text.vocabulary[result.dataset.text.unknown] not in generated
    link = page.evaluate("location.hash")
    assert "seed=7" in link and "generate=200" in link
    again = browser.new_page()
    explorer_ready(again, url, link)
    expect(again.locator(".text-progress")).to_have_text("Generated 200 of 200 characters.", timeout=60_000)
    assert again.evaluate(f"async () => {EXPLORER}.state().generated") == generated
    again.close()
    assert page.console_errors == []


def test_the_figure_says_what_it_needs_and_its_still_is_the_models_answer(text_site):
    """Image data, an unknown model or a link's value out of range: one line saying what is allowed.
    Without JavaScript, the build's own reading of a held-out example is there."""
    import dataclasses

    _, result = text_site
    figure = FIGURES["text-explorer"]
    images = dataclasses.replace(result, dataset=dataclasses.replace(result.dataset, text=None))
    with pytest.raises(FigureError, match="'text-explorer' shows text data, and this article's is image: use one of"):
        figure.check_options({}, images)
    with pytest.raises(FigureError, match="'layer-explorer' shows image data, and this article's is text: .*text-"):
        FIGURES["layer-explorer"].check_options({}, result)
    with pytest.raises(FigureError, match=f"one of {MODEL}"):
        figure.check_options({"model": ("gpt", 3)}, result)
    with pytest.raises(ValueError, match="'temperature' must be a number from 0.05 to 5"):
        figure.check_state("temperature=9&seed=3", result)
    assert figure.check_state("head=1&text=caf%C3%A9", result) == {"head": 1, "text": "café"}

    info = result.dataset.text
    session = onnxruntime.InferenceSession(result.files[result.models[MODEL].onnx])
    tokens = tokenize(info.examples[0], info.vocabulary, info.unknown)
    (logits,) = session.run(["output"], {"tokens": np.asarray([tokens], dtype=np.int64)})  # (1, T, V)
    ranked = [i for i in np.argsort(-logits[0, -1]) if i != info.unknown]
    still = figure.render(result, model=MODEL)
    likeliest = info.vocabulary[ranked[0]]
    answer = f"“{html.escape(info.examples[0])}”, it expects next: “{html.escape(shown(likeliest))}”"
    assert f"Given the held-out {result.dataset.noun} {answer}" in still


@pytest.mark.browser
def test_the_history_slider_shows_each_snapshots_bits_attention_and_lens(page, text_site):
    """The training-history figure: at the slider's first snapshot, the bits the build measured
    then, every head's map of the build's attention file, and the lens's readings then."""
    from layerwise import contract

    url, result = text_site
    history = result.tour["history"]
    page.goto(url)
    root = page.locator(".training-history")
    root.scroll_into_view_if_needed()
    last = len(history["bits"]) - 1
    expect(root).to_have_attribute("data-snapshot", str(last), timeout=60_000)
    # On the widgets' panel in their sans-serif, as the text explorer (it had no style: Georgia).
    assert "system-ui" in root.evaluate("(r) => getComputedStyle(r).fontFamily")
    root.get_by_role("slider", name="Snapshot").fill("0")  # a range input: set and an input event
    expect(root).to_have_attribute("data-snapshot", "0")
    expect(root.locator("output")).to_contain_text(f"Before training: {history['bits'][0]:.2f} bits per character")
    assert history["bits"][0] > history["bits"][-1] + 1  # what the prose claims, on this build
    heads = sum(a["heads"] for a in history["attention"])
    expect(root.locator(".text-heads canvas")).to_have_count(heads)
    T = len(history["sentence"])
    stored = np.frombuffer(result.files[contract.site_path("history_attention", model=MODEL)], np.uint8)
    first = stored[: heads * T * T] / 255  # snapshot 0, every layer's heads in order
    shown_maps = page.evaluate("""async () => {
        const history = await window.layerwise['training-histories'][0];
        return Object.values(history.maps(0)).flatMap((m) => Array.from(m));
    }""")
    assert np.abs(np.asarray(shown_maps) - first).max() <= 1e-6
    output_row = root.locator(".text-lens tbody tr").last.locator("td")
    expected = page.evaluate(  # the output's readings before training, as the page writes a character
        "async (cs) => { const r = await import('./assets/text-explorer-render.js'); return cs.map(r.visible); }",
        history["lens"][-1]["predicted"][0],
    )
    assert output_row.all_text_contents() == expected and len(expected) == T
    assert page.console_errors == []
