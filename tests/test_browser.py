"""The real page in a real Chromium: onnxruntime-web runs the exported models."""

import numpy as np
import onnxruntime
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def wait_for_the_network(page):
    """Until the explorer has loaded onnxruntime-web and classified its first digit."""
    expect(page.locator(".layer-explorer .status")).to_contain_text("The network says", timeout=60_000)


def run_in_page(page, pixels):
    return page.evaluate("""async (pixels) => {
        const explorer = await window.layerwise.explorers[0];
        const values = await explorer.run(Float32Array.from(pixels));
        return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.from(v)]));
    }""", pixels)


def test_onnxruntime_web_matches_python_on_every_layer(page, server, built):
    _, data = built
    page.goto(server + "/index.html")
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    python = onnxruntime.InferenceSession(data["onnx"]["cnn"])
    names = [o.name for o in python.get_outputs()]
    digits = data["test_digits"]
    for pixels in digits["pixels"][::7]:
        image = np.asarray(pixels, dtype=np.float32) / 255
        expected = python.run(None, {"image": image.reshape(1, 1, 28, 28)})
        in_page = run_in_page(page, image.tolist())
        assert list(in_page) == names
        for name, want in zip(names, expected):
            got = np.asarray(in_page[name], dtype=np.float32)
            assert got.shape == (want.size,), name
            assert np.abs(got - want.ravel()).max() <= 1e-4, name
    assert page.console_errors == []
    assert page.foreign_requests == []


def test_wasm_is_not_fetched_before_the_explorer_is_near(page, server):
    page.set_viewport_size({"width": 1200, "height": 600})
    page.goto(server + "/index.html")
    page.wait_for_load_state("networkidle")
    assert not any(url.endswith(".wasm") for url in page.requested)
    page.locator(".layer-explorer").scroll_into_view_if_needed()
    wait_for_the_network(page)
    assert any(url.endswith(".wasm") for url in page.requested)
    assert page.console_errors == []
