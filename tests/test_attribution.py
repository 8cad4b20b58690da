"""Attribution: each model's exported gradient graph is PyTorch's autograd, in Python's and the
page's onnxruntime; the page's saliency, integrated gradients and occlusion on the reader's example."""

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from layerwise.model.gradients import class_scores, export_gradients
from layerwise.model.models import network_from_layers

ROOT = Path(__file__).resolve().parent.parent

# A small net with every op whose backward needed help: a convolution, max-pooling, a softmax head.
CONV_POOL = [
    "conv: Conv2d(channels, 4, kernel_size=3, padding=1)",
    "pool: MaxPool2d(2)",
    "relu: ReLU()",
    "flatten: Flatten()",
    "fc: Linear(auto, classes)",
    "softmax: Softmax(dim=1)",
]


def autograd(network, images: torch.Tensor, weights: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(scores, d sum(weights . scores) / d images) as PyTorch computes them."""
    x = images.clone().requires_grad_()
    scores = class_scores(network, x)
    (gradient,) = torch.autograd.grad((weights * scores).sum(), x)
    return scores.detach().numpy(), gradient.numpy()


def test_the_gradient_graph_is_autograd_for_a_conv_and_maxpool_net():
    """Any number of rows (the batch is dynamic), on a 3-channel 8x10 input: both outputs equal
    PyTorch's within 1e-6; the scores are the logits before the softmax."""
    torch.manual_seed(0)
    network = network_from_layers(CONV_POOL, shape=(3, 8, 10), n_classes=5).eval()
    exported = export_gradients(network, (3, 8, 10))
    assert exported["reason"] == "" and exported["graph"]
    session = onnxruntime.InferenceSession(exported["graph"])
    for rows in (1, 7):
        images, weights = torch.rand(rows, 3, 8, 10), torch.randn(rows, 5)
        scores, gradient = session.run(["scores", "gradient"], {"image": images.numpy(), "weights": weights.numpy()})
        want_scores, want_gradient = autograd(network, images, weights)
        assert gradient.shape == (rows, 3, 8, 10)
        assert np.abs(scores - want_scores).max() < 1e-6
        assert np.abs(gradient - want_gradient).max() < 1e-6
        assert np.abs(gradient).max() > 1e-3  # not trivially zero
    logits = network.logits_and_output(images)[0].detach().numpy()
    assert np.abs(scores - logits).max() < 1e-6


# --- in the page ------------------------------------------------------------------------------


def trained_network(config: dict, data, name: str):
    """The build's model `name` in PyTorch, with the weights the page runs."""
    from layerwise.model.export import weights_from_onnx

    network = network_from_layers(config["models"][name]["layers"], shape=tuple(data.dataset.shape), name=name)
    network.load_weights(weights_from_onnx(network.module, data.files[data.models[name].onnx]))
    return network.eval()


IN_PAGE = """async ([model, pixels, weights, target]) => {
    const { loadGradients } = await import('./assets/gradients.js');
    const { exactSign } = await import('./assets/attack.js');
    const { integratedGradients } = await import('./assets/attribution-state.js');
    const gradients = await loadGradients(model), x = Float32Array.from(pixels);
    const found = await gradients(x, Float32Array.from(weights), 1);
    const integrated = await integratedGradients(gradients, x, null, weights.length); // the class it reads
    return { scores: Array.from(found.scores), gradient: Array.from(found.gradient), completeness: integrated.error,
        sign: Array.from(await exactSign(gradients, x, target)) };
}"""


@pytest.mark.browser
def test_the_pages_gradients_are_pytorchs_for_every_model(page, server, built):
    """onnxruntime-web's gradient graph of every model of the build equals PyTorch's autograd
    within 1e-5 on a held-out example; integrated gradients' completeness (for the class read)
    is within 1% at 32 steps; the attack's step signs are autograd's cross-entropy gradient's."""
    config, data = built
    assert all(m.gradients for m in data.models.values()), "every model here is trained here"
    page.goto(server + "/mnist.html")
    shape, K = tuple(data.dataset.shape), len(data.classes)
    pixels = np.asarray(data.examples["pixels"][4], dtype=np.float32) / 255
    image = torch.from_numpy(pixels).reshape(1, *shape)
    weights = torch.linspace(-1, 1, K).reshape(1, K)  # every class weighed, none alike
    target = (data.examples["labels"][4] + 1) % K
    for name in data.models:
        network = trained_network(config, data, name)
        found = page.evaluate(IN_PAGE, [name, pixels.tolist(), weights.ravel().tolist(), target])
        scores, gradient = autograd(network, image, weights)
        assert np.abs(np.asarray(found["scores"]) - scores.ravel()).max() <= 1e-5, name
        assert np.abs(np.asarray(found["gradient"]) - gradient.ravel()).max() <= 1e-5, name
        assert np.abs(gradient).max() > 1e-3, name
        assert found["completeness"] < 0.01, name
        x = image.clone().requires_grad_()
        logits, _ = network.logits_and_output(x)
        (descent,) = torch.autograd.grad(torch.nn.functional.cross_entropy(logits, torch.tensor([target])), x)
        clear = descent.abs().ravel() > 1e-6  # where float noise cannot flip a sign
        assert (np.asarray(found["sign"])[clear] == -np.sign(descent.ravel()[clear].numpy())).all(), name
    assert page.console_errors == []


OVERLAY = (
    "() => Array.from(document.querySelector('.attribution-over').getContext('2d').getImageData(0, 0, 28, 28).data)"  # noqa: E501
)


@pytest.mark.browser
def test_the_figure_follows_the_example_works_by_keyboard_and_axe_finds_nothing(browser, server, built):
    """The figure draws the explorer's example, redraws when another is picked (its class named),
    switches method and class by keyboard, and axe-core finds no violation in it."""
    from playwright.sync_api import expect

    config, data = built
    examples, classes = data.examples, data.classes
    right = [i for i, label in enumerate(examples["labels"]) if examples["predictions"]["cnn"][i] == label]
    first, second = right[0], next(i for i in right if examples["labels"][i] != examples["labels"][right[0]])
    # axe is injected as a script of its own, which the page's CSP refuses.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/mnist.html")
    explorer, figure = page.locator(".layer-explorer"), page.locator(".attribution")
    said = figure.locator(".attribution-said")
    explorer.scroll_into_view_if_needed()
    expect(explorer.locator(".status")).to_contain_text("The network says", timeout=60_000)
    explorer.locator(".picker button").nth(first).click()
    figure.scroll_into_view_if_needed()
    reads = classes[examples["labels"][first]]
    expect(said).to_contain_text(f"Integrated gradients for {reads}, from a blank", timeout=30_000)
    expect(said).to_contain_text("completeness is off by")
    before = page.evaluate(OVERLAY)
    assert any(before[3::4]), "nothing drawn over the example"

    explorer.locator(".picker button").nth(second).click()  # the reader picks another example
    figure.scroll_into_view_if_needed()  # and looks at the figure again (it is paused off screen)
    expect(said).to_contain_text(f"Integrated gradients for {classes[examples['labels'][second]]}, from a blank")
    assert page.evaluate(OVERLAY) != before

    figure.locator('input[value="integrated"]').focus()
    page.keyboard.press("ArrowDown")  # the next method: occlusion
    expect(said).to_contain_text(f"Occlusion for {classes[examples['labels'][second]]}: each of 49 squares")
    towards = figure.get_by_label("Explain the score of")
    towards.focus()
    towards.select_option(str((examples["labels"][second] + 1) % len(classes)))
    expect(said).to_contain_text(f"Occlusion for {classes[(examples['labels'][second] + 1) % len(classes)]}:")

    page.add_script_tag(path=str(ROOT / "node_modules" / "axe-core" / "axe.min.js"))
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found = page.evaluate("""async () => (await axe.run('.attribution', { resultTypes: ['violations'] }))
            .violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)""")
        assert found == [], scheme
    assert errors == []
    context.close()


@pytest.mark.browser
def test_a_model_without_a_gradient_graph_gets_occlusion_and_the_reason(page, built, tmp_path):
    """As for a model brought in as ONNX: the exact methods are offered disabled, the reason is
    said, occlusion draws from forward runs alone (on the first held-out example: no explorer
    on this page), and no gradient graph is fetched."""
    import dataclasses

    from playwright.sync_api import expect

    from conftest import render_with, serving

    config, data = built
    reason = "it was brought in as ONNX, so the build has no autograd for it"
    models = {**data.models, "cnn": dataclasses.replace(data.models["cnn"], gradients=None, no_gradients=reason)}
    config = {**config, "content": str(tmp_path / "content"), "out": str(tmp_path / "site")}
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "index.md").write_text("# Where it looks\n\n```{figure} attribution\n:model: cnn\n```\n")
    render_with(config, dataclasses.replace(data, models=models))
    with serving(tmp_path / "site") as url:
        page.goto(url + "/index.html")
        figure = page.locator(".attribution")
        figure.scroll_into_view_if_needed()
        expect(figure.locator(".attribution-note")).to_contain_text(reason)
        expect(figure.locator('input[value="integrated"]')).to_be_disabled()
        expect(figure.locator('input[value="occlusion"]')).to_be_checked()
        first = data.classes[data.examples["predictions"]["cnn"][0]]
        expect(figure.locator(".attribution-said")).to_contain_text(f"Occlusion for {first}:", timeout=60_000)
        assert not any(request.endswith(".gradients.onnx") for request in page.requested)
    assert page.console_errors == []
