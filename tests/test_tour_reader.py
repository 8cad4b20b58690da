"""The Grand Tour as a reader meets it: a finger on a phone, the keyboard alone, reduced motion,
and the text drawn on its canvas (where axe cannot check it), in light and dark mode."""

import re

import pytest
from playwright.sync_api import expect

from conftest import ROOT
from test_browser import swipe

pytestmark = pytest.mark.browser

EXAMPLE = "async () => Array.from((await window.layerwise.explorers[0]).example())"
# A dot to touch, the canvas centred first: on the canvas in the viewport below `top`, clear of
# every axis handle (a finger there steers instead), as [CSS x, CSS y, the point the tour finds there].
FREE_DOT = """async (top) => {
    const tour = await window.layerwise.tours[0], r = tour.renderer, canvas = r.canvas;
    canvas.scrollIntoView({ block: 'center' });
    const box = canvas.getBoundingClientRect(), scale = box.width / canvas.width;
    const rotation = tour.state.rotation;
    const handles = Array.from({ length: rotation.n }, (_, a) => r.toCanvas(...rotation.handle(a)));
    for (let p = 0; p < r.positions.length / 2; p++) {
        const [x, y] = r.toCanvas(r.positions[2 * p], r.positions[2 * p + 1]);
        const [cx, cy] = [Math.round(box.left + x * scale), Math.round(box.top + y * scale)];
        const nearHandle = handles.some(([hx, hy]) => Math.hypot(hx - x, hy - y) < 30 / scale);
        if (cy < top || cy > innerHeight - 20 || nearHandle || document.elementFromPoint(cx, cy) !== canvas) continue;
        return [cx, cy, r.pointAt((cx - box.left) / scale, (cy - box.top) / scale, 20 / scale)];
    }
    return null;
}"""
# Point p's example, as the tour's sample holds it (uint8).
THUMBNAIL = """async (p) => {
    const { loadSample } = await import('./assets/runtime.js');
    return Array.from((await loadSample((await window.layerwise.tours[0]).root.dataset.model)).thumbnail(p));
}"""


# [the dot the tour's tooltip shows (found by its picture among the sample's; -1: none), the dot
# the tour finds under the CSS point (cx, cy) now]; a one-channel sample (MNIST's).
HOVERED = """async ([cx, cy]) => {
    const tour = await window.layerwise.tours[0], r = tour.renderer, canvas = r.canvas;
    const { loadSample } = await import('./assets/runtime.js');
    const sample = await loadSample(tour.root.dataset.model);
    const thumb = tour.root.querySelector('.tour-tooltip canvas');
    const ink = thumb.getContext('2d').getImageData(0, 0, thumb.width, thumb.height).data;
    let shown = -1;
    for (let p = 0; p < tour.sample.n && shown < 0; p++)
        if (sample.thumbnail(p).every((v, i) => 255 - ink[4 * i] === v)) shown = p;
    const box = canvas.getBoundingClientRect(), scale = box.width / canvas.width;
    return [shown, r.pointAt((cx - box.left) / scale, (cy - box.top) / scale, 8 * devicePixelRatio)];
}"""


def wait_for(page, script, arg=None, predicate=bool, tries=200):
    """Poll page.evaluate (the page's CSP refuses wait_for_function's eval) until predicate holds."""
    for _ in range(tries):
        value = page.evaluate(script, arg)
        if predicate(value):
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script[:80]} -> {value!r}")


def explorer_ready(page):
    """Scroll to the layer explorer and wait for it to read its first example; that example."""
    page.locator(".layer-explorer").first.scroll_into_view_if_needed()
    expect(page.locator(".layer-explorer .status").first).to_contain_text("The network says", timeout=60_000)
    return page.evaluate(EXAMPLE)


def test_on_a_phone_a_swipe_scrolls_without_picking_and_a_tap_pins_a_tooltip_that_loads_on_request(browser, server):
    """Issue #28: at 360 x 740 with touch, a swipe that starts on a dot scrolls the page and leaves
    the explorer's example alone; a tap shows the dot's example, still there a second later, and
    only its button loads it."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True, reduced_motion="reduce", bypass_csp=True
    )  # still dots; axe injected below
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + "/mnist.html#fig-tour?layer=fc1")  # a spread-out cloud (the softmax's sits on its handles)
    before = explorer_ready(page)
    tour = page.locator(".grand-tour")
    expect(tour.locator("output").nth(1)).to_contain_text("fc1")
    x, y, _ = wait_for(page, FREE_DOT, 300)  # room above for the swipe

    scrolled = page.evaluate("scrollY")
    swipe(context.new_cdp_session(page), x, y, 0, -240)  # up, from the dot
    wait_for(page, "scrollY", predicate=lambda now: now > scrolled + 100)  # the page scrolled
    page.wait_for_timeout(500)
    assert page.evaluate(EXAMPLE) == before  # and the reader's example stayed
    expect(tour.locator(".tour-tooltip")).to_be_hidden()

    x, y, p = wait_for(page, FREE_DOT, 60)
    page.touchscreen.tap(x, y)
    tooltip = tour.locator(".tour-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(re.compile(r"^label \S+, predicted \S+"))
    page.wait_for_timeout(1000)
    expect(tooltip).to_be_visible()  # a lifted finger does not lose it
    assert page.evaluate(EXAMPLE) == before  # a tap shows; it does not load
    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    violations = page.evaluate("""async () => (await axe.run('.grand-tour', { resultTypes: ['violations'] }))
        .violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '))""")
    assert violations == []
    # The PCA side view keeps its outermost dots off its edges (they sat 1 px from the panel's edge).
    margin = page.evaluate("""() => {
        const side = document.querySelector('.tour-side'), { width, height } = side;
        const alpha = side.getContext('2d').getImageData(0, 0, width, height).data;
        let near = Infinity;
        for (let y = 0; y < height; y++)
            for (let x = 0; x < width; x++)
                if (alpha[4 * (y * width + x) + 3]) near = Math.min(near, x, y, width - 1 - x, height - 1 - y);
        return near;
    }""")
    assert 8 <= margin < 100, margin
    tooltip.get_by_role("button", name="Load into the explorer").tap()
    expected = [v / 255 for v in page.evaluate(THUMBNAIL, p)]
    loaded = wait_for(page, EXAMPLE, predicate=lambda shown: shown != before)
    assert max(abs(a - b) for a, b in zip(loaded, expected)) < 1e-6  # the very dot tapped
    expect(tooltip).to_be_hidden()
    expect(tour.locator(".tour-status")).to_contain_text("into the explorer")
    assert errors == []
    context.close()


def test_a_click_loads_the_dot_its_tooltip_shows_though_the_dots_have_moved_since(page, server):
    """The tour plays: between the tooltip appearing and the click, its dot rotates from under the
    pointer. The click loads the dot the tooltip shows, not whatever is under the pointer now."""
    page.goto(server + "/mnist.html#fig-tour?layer=fc1")
    explorer_ready(page)
    # What the tour hands the explorer (the explorer's first example may be that very dot's).
    page.evaluate(
        "() => addEventListener('layerwise:pick', (e) => (window.picked ??= []).push(Array.from(e.detail.pixels)))"
    )
    tooltip = page.locator(".grand-tour .tour-tooltip")
    for _ in range(20):  # the dots move while the mouse gets there: again until it lands on one
        x, y, _ = wait_for(page, FREE_DOT, 0)
        page.mouse.move(x, y)
        if tooltip.is_visible():
            break
    shown, _ = page.evaluate(HOVERED, [x, y])
    assert shown >= 0
    wait_for(page, HOVERED, [x, y], predicate=lambda now: now[1] != shown)  # rotated from under the pointer
    assert page.evaluate(HOVERED, [x, y])[0] == shown  # the tooltip still shows it
    page.mouse.down()
    page.mouse.up()
    assert wait_for(page, "window.picked ?? []") == [page.evaluate(THUMBNAIL, shown)]
    assert page.console_errors == []


def test_a_shared_link_with_play_does_not_override_reduced_motion(browser, server):
    page = browser.new_page(reduced_motion="reduce")
    page.goto(server + "/mnist.html#fig-tour?layer=fc1&play=1")
    tour = page.locator(".grand-tour")
    expect(tour.locator("output").nth(1)).to_contain_text("fc1")
    play = tour.get_by_role("button", name="Play", exact=True)
    expect(play).to_have_attribute("aria-pressed", "false")
    handles = "(async () => (await window.layerwise.tours[0]).state.rotation.matrix.map((row) => [row[0], row[1]]))()"
    still = page.evaluate(handles)
    page.wait_for_timeout(400)
    assert page.evaluate(handles) == still  # nothing turns
    play.click()  # the reader may still play it
    expect(tour.get_by_role("button", name="Pause")).to_have_attribute("aria-pressed", "true")
    wait_for(page, handles, predicate=lambda now: now != still)
    page.close()


def test_the_tours_numbers_are_grouped_as_the_prose_groups_them(built, page, server):
    """'1,000 held-out digits', as {{ ... | number }} writes it in the article, not '1000'."""
    config, data = built
    page.goto(server + "/mnist.html#fig-tour?layer=fc1&play=0")
    tour = page.locator(".grand-tour")
    n = config["record"]["sample_size"]
    expect(tour.locator(".tour-help")).to_contain_text(re.compile(rf"^{n:,} held-out digits, recorded \d+ times"))
    seen = data.dataset.n_train * config["train"]["epochs"]  # after the last epoch
    expect(tour.locator("output").first).to_contain_text(f"({seen:,} digits seen)")
    assert seen >= 1000 and "," in f"{seen:,}"


def test_the_keyboard_steps_through_dots_loads_one_and_brushes_around_it(page, server):
    """Issue #28: the tour's dots without a mouse. , and . step through them showing the same
    tooltip, its button is the next tab stop, Enter loads, + and - brush; all said in a live region."""
    page.goto(server + "/mnist.html#fig-tour?layer=fc1&play=0")
    before = explorer_ready(page)
    tour = page.locator(".grand-tour")
    canvas, tooltip, status = tour.locator(".tour-canvas"), tour.locator(".tour-tooltip"), tour.locator(".tour-status")
    expect(status).to_have_attribute("role", "status")  # a polite live region
    expect(tour.locator(".tour-help")).to_contain_text(", and . step through the dots")
    canvas.focus()
    canvas.press(".")
    said = r"^digit 1 of [\d,]+: label \S+, predicted \S+( ✗)?\. Enter loads it into the explorer\.$"
    expect(status).to_have_text(re.compile(said))
    expect(tooltip).to_be_visible()
    canvas.press(".")
    expect(status).to_contain_text("digit 2 of")
    canvas.press(",")
    canvas.press(",")  # back past the first: the last
    expect(status).to_contain_text(re.compile(r"^digit ([\d,]+) of \1:"))

    canvas.press("+")  # a brush around the last dot, growing
    expect(status).to_contain_text("brushed around this one")
    selected = """(async () => {
        const tour = await window.layerwise.tours[0];
        return tour.state.mask ? [...tour.state.mask.keys()].filter((p) => tour.state.mask[p]) : [];
    })()"""
    first = page.evaluate(selected)
    for _ in range(3):
        canvas.press("+")
    grown = page.evaluate(selected)
    assert 1 <= len(first) < len(grown) and set(first) <= set(grown)
    expect(status).to_contain_text(f"{len(grown):,} digits brushed")
    canvas.press(".")  # now only through the brushed dots
    expect(status).to_contain_text(re.compile(rf"^Selected digit \d+ of {len(grown):,}: "))
    shown = grown[int(re.match(r"Selected digit (\d+)", status.text_content()).group(1)) - 1]

    page.keyboard.press("Tab")  # the tooltip's button is the next stop
    load = tooltip.get_by_role("button", name="Load into the explorer")
    expect(load).to_be_focused()
    page.keyboard.press("Enter")
    expect(canvas).to_be_focused()  # focus goes back to the view, not lost with the tooltip
    loaded = wait_for(page, EXAMPLE, predicate=lambda now: now != before)
    expected = [v / 255 for v in page.evaluate(THUMBNAIL, shown)]  # the very dot shown
    assert max(abs(a - b) for a, b in zip(loaded, expected)) < 1e-6
    expect(status).to_contain_text("Loaded the digit")

    canvas.press(",")
    canvas.press("Enter")  # Enter on the view loads the dot shown too
    again = wait_for(page, EXAMPLE, predicate=lambda now: now != loaded)
    assert again != loaded
    canvas.press(".")
    canvas.press("Escape")
    expect(tooltip).to_be_hidden()
    assert page.console_errors == []


def contrast(a, b):
    """WCAG 2 contrast ratio of two sRGB colours (0-255)."""

    def luminance(rgb):
        linear = [c / 255 / 12.92 if c <= 0.04045 * 255 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_text_drawn_on_the_tours_canvas_is_readable_and_never_overlaps(built, browser, server, scheme):
    """Issue #28: the class labels were drawn in their class colours (an '8' at 2.0:1 in light mode)
    and on top of each other. Read back from the canvas's own pixels: every label is at least
    4.5:1 against what it sits on, which is the page's background, and no two labels touch."""
    page = browser.new_page(color_scheme=scheme, reduced_motion="reduce")
    page.goto(server + "/mnist.html")
    explorer_ready(page)  # so the tour draws the reader's digit, labelled too
    page.goto(server + "/mnist.html#fig-tour?layer=softmax&select=4,9&play=0")  # ten class axes and a selection
    tour = page.locator(".grand-tour")
    expect(tour).to_have_attribute("data-reader-point", re.compile(r"^-?\d"), timeout=20_000)
    page.wait_for_timeout(300)  # still: the last frame holds
    labels = page.evaluate("""(async () => {
        const tour = await window.layerwise.tours[0], canvas = tour.renderer.canvas, ctx = canvas.getContext('2d');
        const page = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number);
        return { page, labels: tour.renderer.labels.map(({ text, box }) => {
            const [x, y, w, h] = [Math.ceil(box[0]), Math.ceil(box[1]), Math.floor(box[2]) - 1, Math.floor(box[3]) - 1];
            return { text, box, pixels: Array.from(ctx.getImageData(x, y, w, h).data) };
        }) };
    })()""")
    page_colour, found = labels["page"], labels["labels"]
    texts = [label["text"] for label in found]
    assert set(built[1].classes) <= set(texts) and "your digit" in texts and "selection" in texts
    for label in found:
        pixels = [tuple(label["pixels"][i : i + 4]) for i in range(0, len(label["pixels"]), 4)]
        plate = max(set(pixels), key=pixels.count)  # what most of the box is: behind the text
        assert plate[3] == 255 and max(abs(a - b) for a, b in zip(plate, page_colour)) <= 2, (label["text"], plate)
        ink = max(pixels, key=lambda rgba: contrast(rgba[:3], plate[:3]))  # the text's own colour
        assert ink[3] == 255 and contrast(ink[:3], plate[:3]) >= 4.5, (scheme, label["text"], ink, plate)
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            (ax, ay, aw, ah), (bx, by, bw, bh) = a["box"], b["box"]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a["text"], b["text"])
    page.close()
