"""The page as readers meet it: phone width, dark mode, keyboard, print."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT
from layerwise.tools.bench import axe_violations

pytestmark = pytest.mark.browser


def test_no_horizontal_scroll_on_a_360_px_phone(page, server):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(server + "/mnist.html")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360


def test_the_first_tab_offers_to_skip_to_the_article_and_enter_goes_there(page, server):
    page.goto(server + "/transformer.html")  # its contents list: eight links before the text
    link = page.get_by_role("link", name="Skip to the article")
    assert link.bounding_box()["width"] <= 1  # out of sight until the keyboard reaches it
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    box = link.bounding_box()
    assert box["width"] > 100 and box["height"] >= 24 and box["y"] >= 0
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the next stop is in the article, not in the site bar or the contents
    assert page.evaluate("() => document.activeElement.closest('main')?.id") == "article"


def test_dark_mode_follows_the_system(browser, server):
    colours = {}
    for scheme in ("light", "dark"):
        page = browser.new_page(color_scheme=scheme)
        page.goto(server + "/mnist.html")
        colours[scheme] = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        page.close()
    assert colours["light"] == "rgb(255, 255, 255)" and colours["dark"] != colours["light"]


def test_landmarks_contents_and_keyboard_definitions(page, server):
    page.goto(server + "/mnist.html")
    for landmark in ("banner", "navigation", "main", "contentinfo"):
        expect(page.get_by_role(landmark).first).to_be_attached()
    toc = [a.get_attribute("href") for a in page.locator("nav.toc a").all()]
    assert "#the-ladder-of-models" in toc and "#references" in toc
    term = page.locator(".term").first
    expect(term.locator(".definition")).to_be_hidden()
    term.focus()  # keyboard users get the definition too
    expect(term.locator(".definition")).to_be_visible()
    for canvas in page.locator(".layer-explorer canvas.pad").all():
        assert canvas.get_attribute("aria-label")
    assert page.console_errors == [] and page.foreign_requests == []


def test_print_hides_the_live_widget(page, server):
    page.goto(server + "/mnist.html")
    page.emulate_media(media="print")
    expect(page.locator(".layer-explorer")).to_be_hidden()
    expect(page.locator("h1")).to_be_visible()


def test_figures_take_the_pages_colours_in_dark_mode(browser, server):
    page = browser.new_page(color_scheme="dark")
    page.goto(server + "/mnist.html")
    figure = page.locator(".figure-training-curves .plotly-figure")
    figure.scroll_into_view_if_needed()
    expect(figure.locator(".main-svg").first).to_be_attached()
    page.wait_for_timeout(300)
    colours = page.evaluate("""() => {
        const figure = document.querySelector('.figure-training-curves .plotly-figure');
        return {paper: figure.layout.paper_bgcolor, font: figure.layout.font.color,
                text: getComputedStyle(figure).color,
                tick: getComputedStyle(figure.querySelector('.xtick text')).fill};
    }""")
    page.close()
    assert colours["paper"] == "rgba(0,0,0,0)"  # the dark page shows through
    assert colours["font"] == colours["text"] == colours["tick"] != "rgb(0, 0, 0)"


@pytest.mark.parametrize("article", ["mnist", "fashion"])  # Fashion's class names are words: "T-shirt/top"
def test_axe_finds_no_violations_on_the_whole_page_light_or_dark(browser, server, article):
    """axe-core (npm) on the article scrolled to its end, every lazy figure and widget drawn."""
    assert axe_violations(browser, f"{server}/{article}.html", ROOT / "node_modules") == {"light": [], "dark": []}


def test_axe_finds_every_picture_named_before_it_is_drawn(browser, server):
    """A picture (role=img) is named from the start, not when its model has run: axe once found
    the text explorer's sequence unnamed in one run of two (the playground's output map too,
    had it looked early enough). Here no model ever arrives."""
    for article in ("transformer", "playground"):
        found = axe_violations(browser, f"{server}/{article}.html", ROOT / "node_modules", refuse="**/*.onnx*")
        assert found == {"light": [], "dark": []}, article


def test_without_javascript_or_from_a_file_each_figure_says_why_it_is_blank(browser, server, built):
    """No script runs in either case (file:// refuses module scripts): the placeholders speak."""
    site = Path(built[0]["out"])
    for context, url in [
        (browser.new_context(java_script_enabled=False), f"{server}/mnist.html"),
        (browser.new_context(), (site / "mnist.html").as_uri()),
    ]:
        page = context.new_page()
        page.goto(url)
        fallbacks = page.locator(".figure-ladder-chart .figure-fallback")
        expect(fallbacks).to_contain_text("needs JavaScript, and the site served over HTTP")
        assert page.locator(".plotly-figure").count() == page.locator(".plotly-figure .figure-fallback").count() > 5
        # Every widget too (a <noscript> shows nothing on file://, where scripts are on but refused).
        widgets = page.locator(".layer-explorer, .one-neuron, .grand-tour, .layer-detail")
        assert widgets.count() >= 7
        for widget in widgets.all():
            expect(widget.locator(".figure-fallback")).to_be_visible()
            expect(widget.locator(".figure-fallback")).to_contain_text(
                "in your browser: it needs JavaScript, and the site served over HTTP (by layerwise serve or any "
                "static server); opened from a file, browsers block what it loads."
            )
        numbers = page.locator(".figure-ladder-chart .figure-numbers")  # the chart's numbers, as a table
        numbers.locator("summary").click()
        expect(numbers.locator("tbody tr")).to_have_count(4)
        expect(numbers.locator("tbody tr").last).to_contain_text("cnn")
        # Figures no table would help (pictures, scatters) show a still picture the build drew.
        bare = page.evaluate("""() => [...document.querySelectorAll('.plotly-figure')].filter((f) =>
            !f.querySelector('img.figure-still') && !f.nextElementSibling?.classList.contains('figure-numbers'))
            .length""")
        assert bare == 0
        still = page.locator(".figure-manifold-views img.figure-still")
        still.scroll_into_view_if_needed()
        expect(still).to_be_visible()
        for _ in range(50):
            if still.evaluate("img => img.complete && img.naturalWidth") > 0:
                break
            page.wait_for_timeout(100)
        assert still.evaluate("img => img.naturalWidth") == 720
        context.close()


def test_a_widget_that_fails_says_why_inside_its_figure(page, server):
    """The shared lifecycle (templates/lifecycle.js) puts any widget's error into its figure."""
    page.route("**/figures/*.json", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(server + "/mnist.html")
    figure = page.locator(".figure-ladder-chart")
    figure.scroll_into_view_if_needed()
    expect(figure.locator(".figure-fallback")).to_have_text(
        re.compile(r"^This figure could not be shown: its data \(.*\.json\) answered 404\.$")
    )


def test_terms_and_claims_show_by_keyboard_and_escape_hides_them(page, server):
    page.goto(server + "/mnist.html")
    claim = page.locator(".claim").first
    expect(claim.locator(".tip")).to_be_hidden()
    claim.focus()  # a checked sentence says what was checked, to keyboard and touch too
    expect(claim.locator(".tip")).to_be_visible()
    expect(claim.locator(".tip")).to_contain_text("Checked by the build: ")
    page.keyboard.press("Escape")
    expect(claim.locator(".tip")).to_be_hidden()
    term = page.locator(".term").first
    term.focus()
    expect(term.locator(".definition")).to_be_visible()
    page.keyboard.press("Escape")
    expect(term.locator(".definition")).to_be_hidden()
    claim.focus()  # dismissed only until focus leaves
    expect(claim.locator(".tip")).to_be_visible()
    assert page.console_errors == []


def test_every_control_is_a_24_px_target_on_a_phone(browser, server):
    """WCAG 2.5.8 at 360 px with touch, every widget mounted (scrolled past); words in a
    sentence (terms, claim marks) are exempt as inline targets."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server + "/mnist.html")
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, 600):
        page.evaluate(f"scrollTo(0, {y})")
        page.wait_for_timeout(50)
    expect(page.locator(".grand-tour button").first).to_be_attached(timeout=30_000)
    expect(page.locator(".one-neuron button").first).to_be_attached()
    controls = "main :is(button, input, select, [role=button], [role=slider], [role=radio])"
    small = page.evaluate(
        """(controls) => [...document.querySelectorAll(controls)]
        .filter((e) => e.checkVisibility())
        .map((e) => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
        .filter(([, r]) => r.width < 24 || r.height < 24).map(([html, r]) => `${html} ${r.width}x${r.height}`)""",
        controls,
    )
    assert small == []
    assert page.locator("main button").count() > 40
    context.close()


def test_the_attribution_pictures_titles_fit_side_by_side_on_a_phone(browser, server):
    """Figure 17's three titles (the digit, towards 7, towards 1) at 360 px: each within its own
    picture's column, none running into the next (one-line titles overlapped there)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server + "/mnist.html")
    figure = page.locator(".figure-attribution-classes .plotly-figure")
    figure.scroll_into_view_if_needed()
    titles = figure.locator(".annotation-text")
    expect(titles).to_have_count(3, timeout=20_000)
    boxes = [t.bounding_box() for t in titles.all()]
    assert all(left["x"] + left["width"] <= right["x"] for left, right in zip(boxes, boxes[1:])), boxes
    context.close()


def test_a_table_wider_than_a_phone_shades_the_side_it_scrolls_to(browser, server):
    """The ladder's five columns at 360 px: the last, training time, was off the edge, the table
    cut as if it ended there. A shade down the whole right edge says there is more."""
    from io import BytesIO

    from PIL import Image

    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server + "/mnist.html")
    scroller = page.locator(".figure-ladder-table .table-scroll")
    scroller.scroll_into_view_if_needed()
    assert scroller.evaluate("(e) => e.scrollWidth > e.clientWidth")  # the phone's case: it scrolls
    box = scroller.bounding_box()
    clip = {"x": box["x"] + box["width"] - 3, "y": box["y"], "width": 1, "height": min(box["height"], 700)}
    edge = Image.open(BytesIO(page.screenshot(clip=clip))).convert("L").tobytes()
    assert sum(pixel < 240 for pixel in edge) > 0.6 * len(edge)  # shaded down the edge (text alone: under 0.1)
    context.close()


def ring_shows_below(page, button) -> bool:
    """Whether the focus ring's bottom edge (3-5 px under the button) is drawn, dark on the light
    page: the thumbnails after a focused one were painted over it."""
    from io import BytesIO

    from PIL import Image

    box = button.bounding_box()
    clip = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] + 3.5, "width": 1, "height": 1}
    return Image.open(BytesIO(page.screenshot(clip=clip))).convert("L").getpixel((0, 0)) < 100


def test_focus_and_selection_look_different(page, server):
    """A focused, selected button shows both: selection as a ring inside, focus one outside."""
    page.goto(server + "/mnist.html")
    explorer = page.locator(".layer-explorer")
    explorer.scroll_into_view_if_needed()
    expect(explorer.locator(".status")).to_contain_text("The network says", timeout=60_000)
    selected = explorer.locator('.picker button[aria-pressed="true"]')
    other = explorer.locator('.picker button[aria-pressed="false"]').first
    style = "(b) => { const s = getComputedStyle(b); return [s.outlineStyle, s.boxShadow]; }"
    assert selected.evaluate(style)[0] != "none" and selected.evaluate(style)[1] == "none"  # selected
    other.focus()
    assert other.evaluate(style)[0] == "none" and other.evaluate(style)[1] != "none"  # focused
    assert ring_shows_below(page, other)  # not hidden under the next row
    selected.focus()
    assert selected.evaluate(style)[0] != "none" and selected.evaluate(style)[1] != "none"  # both
    tour = page.locator(".grand-tour")
    tour.scroll_into_view_if_needed()
    for _ in range(300):  # the tour draws frames once its data is in and its controls are live
        if int(tour.get_attribute("data-frames") or 0) > 3:
            break
        page.wait_for_timeout(100)
    legend = tour.get_by_role("group", name="Highlight classes").get_by_role("button").first
    legend.focus()
    page.keyboard.press("Enter")
    expect(legend).to_have_attribute("aria-pressed", "true")
    outline, shadow = legend.evaluate(style)
    assert outline != "none" and shadow != "none"  # focus outside, the class's colour inside


def test_the_contents_number_sections_not_subsections(page, server):
    page.goto(server + "/mnist.html")
    sections = page.locator("nav.toc > ol > li > a")
    names = sections.all_text_contents()
    assert names.index("The Grand Tour") == names.index("The network, layer by layer") + 1
    expect(page.locator("nav.toc > ol > li > ol > li > a")).to_contain_text(["How each layer computes"])


def apart(a: dict, b: dict) -> bool:
    """Two bounding boxes that do not overlap."""
    return (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])  # fmt: skip


def labels_stand_clear(figure) -> None:
    """The ladder chart's four labels: clear of one another and of every interval's whisker, inside the chart."""
    labels = [t.bounding_box() for t in figure.locator(".textpoint text").all()]
    whiskers = [w.bounding_box() for w in figure.locator(".errorbar path").all()]
    chart = figure.locator(".main-svg").first.bounding_box()
    assert len(labels) == 4 and len(whiskers) == 4
    for i, a in enumerate(labels):
        assert all(apart(a, b) for b in labels[i + 1 :] + whiskers), (a, labels, whiskers)
        assert chart["x"] <= a["x"] and a["x"] + a["width"] <= chart["x"] + chart["width"], (a, chart)


def test_the_ladder_chart_labels_stand_clear_and_read_as_words_on_a_phone(browser, server):
    """At 360 px the labels sat above their bubbles, each crossed by its interval's whisker, and
    read 'one_neuron'."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server + "/mnist.html")
    figure = page.locator(".figure-ladder-chart .plotly-figure")
    figure.scroll_into_view_if_needed()
    expect(figure.locator(".main-svg").first).to_be_attached(timeout=20_000)
    page.wait_for_timeout(300)
    labels_stand_clear(figure)
    assert "one neuron" in figure.locator(".textpoint text").all_text_contents()
    context.close()


def test_the_ladder_chart_reads_in_dark_mode(browser, server):
    """Round ticks on its size axis (not one '10k'), labels that do not cover one another (two
    models of 7,850 weights), and no grid line left white on the dark page."""
    page = browser.new_page(color_scheme="dark")
    page.goto(server + "/mnist.html")
    figure = page.locator(".figure-ladder-chart .plotly-figure")
    figure.scroll_into_view_if_needed()
    expect(figure.locator(".main-svg").first).to_be_attached(timeout=20_000)
    page.wait_for_timeout(300)
    assert len(figure.locator(".xtick text").all_text_contents()) >= 3
    labels_stand_clear(figure)
    strokes = figure.evaluate(
        "f => [...f.querySelectorAll('path[class*=grid]')].map((p) => getComputedStyle(p).stroke)"
    )
    assert strokes and not any(s in ("rgb(255, 255, 255)", "rgb(238, 238, 238)") for s in strokes)
    page.close()


def test_the_softmax_detail_typesets_large_numbers_as_powers_of_ten(page, server):
    page.goto(server + "/mnist.html")
    tex = page.evaluate("""async () => (await import('./assets/detail-render.js')).scientific(
        String.raw`\\frac{2.63e+4}{1.05e+5} + 1e-5`)""")
    assert tex == r"\frac{2.63 \times 10^{4}}{1.05 \times 10^{5}} + 1 \times 10^{-5}"


def test_widgets_round_percentages_as_the_build_does(page, server):
    from layerwise.stats import percent

    page.goto(server + "/mnist.html")
    shares = [0.9855, 0.9515, 0.98549998, 0.95149999, 0.0015, 0.1235, 1.0, 0.0]
    shown = page.evaluate(
        "async (s) => { const { percent } = await import('./assets/runtime.js'); return s.map((x) => percent(x)); }",
        shares,
    )
    assert shown == [percent(s) for s in shares]
