"""The page as readers meet it: phone width, dark mode, keyboard, print."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT
from layerwise.bench import axe_violations

pytestmark = pytest.mark.browser


def test_no_horizontal_scroll_on_a_360_px_phone(page, server):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(server + "/mnist.html")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360


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


def test_axe_finds_no_violations_on_the_whole_page_light_or_dark(browser, server):
    """axe-core (npm) on the article scrolled to its end, every lazy figure and widget drawn."""
    assert axe_violations(browser, f"{server}/mnist.html", ROOT / "node_modules") == {"light": [], "dark": []}


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
