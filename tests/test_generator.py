"""Layerwise as a generator: an author's own colour images, a residual network from a factory,
a checkpoint and an ONNX file trained elsewhere, built into one site and run in Chromium."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from playwright.sync_api import expect

from conftest import ROOT, assert_detail_matches, build_into, detail_arithmetic, serving
from layerwise.config import load_config
from layerwise.errors import BuildError
from layerwise.model.data import load_dataset
from layerwise.model.export import weights_from_onnx
from layerwise.model.models import network_from_layers
from test_data import make_folder

FACTORY = '''"""A small residual network: a model that is not an nn.Sequential."""
import torch
from torch import nn


class Residual(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv_a = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.GELU()
        self.conv_b = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(channels)

    def forward(self, x):
        return x + self.norm(self.conv_b(self.act(self.conv_a(x))))


class Net(nn.Module):
    def __init__(self, shape, classes, width):
        super().__init__()
        self.stem = nn.Conv2d(shape[0], width, 3, padding=1)
        self.block = Residual(width)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(width * 16, classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.block(torch.relu(self.stem(x))))))


def make(shape, classes, width=8):
    return Net(shape, classes, width)
'''
SMALL_CNN = [  # other kernels, strides and padding than the default CNN's
    "conv: Conv2d(channels, 4, kernel_size=3, stride=2, padding=1)",
    "pool: MaxPool2d(3, stride=2, padding=1)",
    "relu: ReLU()",
    "flatten: Flatten()",
    "fc: Linear(auto, classes)",
    "softmax: Softmax(dim=1)",
]
SHOWN = ["stem", "block.conv_a", "block.act", "block.conv_b", "block.norm", "block", "pool", "flatten", "fc"]


def write_onnx_model(path: Path) -> list[str]:
    """A model exported elsewhere, as an author brings it: returns its inner tensors' names."""
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 5),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 28 * 28, 3),
        torch.nn.Softmax(dim=1),
    ).eval()
    torch.onnx.export(
        model,
        (torch.zeros(1, 3, 32, 32),),
        str(path),
        input_names=["pixels"],
        output_names=["probabilities"],
        dynamic_axes={"pixels": {0: "n"}},
        dynamo=False,
    )
    graph = onnx.load(str(path)).graph
    return [node.output[0] for node in graph.node if node.op_type in ("Conv", "Relu", "Gemm")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One site from an author's folder of 40x40 colour shapes (resized to 32x32) and four kinds of model."""
    tmp = tmp_path_factory.mktemp("generator")
    make_folder(tmp / "shapes", size=(40, 40), per_class=30)
    (tmp / "nets.py").write_text(FACTORY)
    checkpoint_net = network_from_layers(SMALL_CNN, shape=(3, 32, 32), n_classes=3)
    torch.save(checkpoint_net.module.state_dict(), tmp / "small.pt")
    tensors = write_onnx_model(tmp / "exported.onnx")
    (tmp / "content").mkdir()
    (tmp / "content" / "index.md").write_text(
        "---\ntitle: Shapes\n---\n\nOne {{ dataset.noun }} is {{ dataset.shape | join('×') }} numbers.\n\n"
        "```{figure} layer-explorer\n:model: res\n```\n\n```{figure} layer-explorer\n:model: small\n```\n\n"
        "```{figure} layer-explorer\n:model: exported\n```\n\n```{figure} grand-tour\n```\n\n"
        "```{figure} mistakes\n:model: small\n```\n\n```{figure} ladder-table\n```\n\n"
        "```{figure} confusion-matrix\n:model: res\n```\n\n```{figure} manifold-views\n```\n"
    )
    (tmp / "layerwise.toml").write_text(f"""
content = "{tmp / "content"}"
templates = "{ROOT / "templates"}"
node_modules = "{ROOT / "node_modules"}"
cache = "{tmp / "cache"}"
out = "{tmp / "site"}"
[data]
source = "folder"
root = "shapes"
size = [32, 32]
[train]
epochs = 2
seeds = 1
[record]
model = "res"
sample_size = 15
[analysis]
methods = ["pca"]
[models.res]
title = "A residual network"
factory = "nets.py:make"
args = {{ width = 6 }}
show = {json.dumps(SHOWN)}
[models.small]
title = "A CNN trained elsewhere"
layers = {json.dumps(SMALL_CNN)}
checkpoint = "small.pt"
[models.exported]
title = "An ONNX file"
onnx = "exported.onnx"
outputs = {json.dumps(tensors)}
""")
    config = load_config(tmp / "layerwise.toml")
    config["models"] = {k: v for k, v in config["models"].items() if k in ("res", "small", "exported")}
    return config, build_into(config), tmp


def test_the_data_and_every_kind_of_model_flow_into_the_result(generated):
    config, result, tmp = generated
    assert result.dataset.shape == (3, 32, 32) and result.classes == ["circle", "square", "triangle"]
    res = result.models["res"]
    assert [layer.name for layer in res.layers] == SHOWN
    assert res.layers[5].type == "Residual" and res.layers[5].shape == [6, 32, 32]  # the block's sum
    kinds = [layer.step["kind"] for layer in res.layers]  # how each computes, read from the ONNX graph
    assert kinds == ["conv", "conv", "activation", "conv", "batchnorm", "add", "avgpool", "flatten", "linear"]
    assert res.layers[1].step["reads"] == [next(iter(res.inner))]  # torch.relu(stem), exposed to the page
    assert res.inner[res.layers[1].step["reads"][0]]["reads"] == ["stem"]
    assert result.models["small"].origin == "trained elsewhere, brought in as small.pt"
    assert result.models["exported"].origin == "trained elsewhere, brought in as exported.onnx"
    assert len(result.models["small"].metrics["epochs"]) == 1  # measured, not trained
    assert result.tour["model"] == "res" and result.tour["epochs"][-1] == 2
    meta = json.loads(result.files["tour/res/meta.json"])
    assert meta["layout"]["thumbnails"][1] == meta["n"] * 3 * 32 * 32
    html = (Path(config["out"]) / "index.html").read_text()
    assert "One image is 3×32×32 numbers." in html  # the noun and the shape come from the data


def test_a_brought_in_checkpoint_is_measured_as_it_came(generated):
    config, result, tmp = generated
    network = network_from_layers(SMALL_CNN, shape=(3, 32, 32), n_classes=3)
    network.load_weights(torch.load(tmp / "small.pt"))
    onnx_bytes = result.files[result.models["small"].onnx]
    assert all(
        torch.equal(a, b)
        for a, b in zip(weights_from_onnx(network.module, onnx_bytes).values(), network.module.state_dict().values())
    )
    data = load_dataset(config["data"], config["node_modules"])
    with torch.no_grad():
        accuracy = (network.eval().module(data.test_x).argmax(1) == data.test_y).float().mean().item()
    assert result.models["small"].metrics["test_accuracy"] == pytest.approx(accuracy)


def test_every_shown_layer_of_the_residual_network_matches_torch_in_onnxruntime(generated):
    config, result, tmp = generated
    from layerwise.config import validated
    from layerwise.model.orchestrator import build_network
    from layerwise.model.sources import describe_source

    onnx_bytes = result.files[result.models["res"].onnx]
    network = build_network(validated(config)["res"], describe_source(config["data"], config["node_modules"]))
    network.load_weights(weights_from_onnx(network.module, onnx_bytes))
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        expected = network.eval().outputs(x)
    got = onnxruntime.InferenceSession(onnx_bytes).run(None, {"image": x.numpy()})
    for (name, want), value in zip(expected.items(), got):
        assert np.abs(value - want.numpy()).max() <= 1e-5, name


@pytest.mark.parametrize(
    "table,message",
    [
        ('factory = "nowhere.py:make"', "nowhere.py does not exist"),
        ('factory = "nets.py:missing"', "has no function 'missing'"),
        ('factory = "nets.py:make"\nshow = ["block.nope"]', "no submodule 'block.nope'"),
        ('factory = "nets.py:make"\nargs = { width = -1 }', "calling it fails"),
        ('layers = ["flatten: Flatten()", "fc: Linear(100, classes)"]', "layer fc: expects 100 inputs, gets 3072"),
        ('layers = ["conv: Conv2d(1, 4, 3)"]', "layer conv: expects 1 channels, gets 3 from the input"),
        ('layers = ["flatten: Flatten()", "fc: Linear(auto, 7)"]', "gives \\[7\\] per example but the data has 3"),
        (f'layers = {json.dumps(SMALL_CNN[:3])}\ncheckpoint = "small.pt"', "gives \\[4, 8, 8\\]"),
        (
            'layers = ["flatten: Flatten()", "fc: Linear(auto, classes)"]\ncheckpoint = "small.pt"',
            "does not fit the model \\(unexpected conv.weight, conv.bias; shapes differ: fc.weight \\[3, 256\\] vs "
            "\\[3, 3072\\]\\)",
        ),
    ],
)
def test_a_model_that_cannot_work_is_one_line_before_any_training(generated, table, message):
    from layerwise.config import validated
    from layerwise.model.orchestrator import build_network
    from layerwise.model.sources import describe_source

    config, result, tmp = generated
    (tmp / "bad.toml").write_text(
        f'[data]\nsource = "folder"\nroot = "shapes"\nsize = [32, 32]\n[record]\nmodel = "bad"\n[models.bad]\n{table}\n'
    )
    bad = load_config(tmp / "bad.toml")
    with pytest.raises(BuildError, match=message):  # a missing file when the config is checked, the rest on a dry run
        build_network(validated(bad)["bad"], describe_source(bad["data"], config["node_modules"]))


def torch_outputs(name: str, image, tmp: Path) -> dict | None:
    """Every shown layer of the brought-in checkpoint's CNN in PyTorch, for one image."""
    if name != "small":
        return None
    network = network_from_layers(SMALL_CNN, shape=(3, 32, 32), n_classes=3)
    network.load_weights(torch.load(tmp / "small.pt"))
    with torch.no_grad():
        return {k: v.numpy() for k, v in network.eval().outputs(torch.from_numpy(image.copy())[None]).items()}


@pytest.mark.browser
def test_the_generated_page_runs_every_model_in_chromium(generated, page):
    config, result, tmp = generated
    with serving(config["out"]) as url:
        page.goto(url + "/index.html")
        explorers = page.locator(".layer-explorer")
        for i, name in enumerate(["res", "small", "exported"]):
            explorers.nth(i).scroll_into_view_if_needed()
            expect(explorers.nth(i).locator(".status")).to_contain_text("The network says", timeout=60_000)
            python = onnxruntime.InferenceSession(result.files[result.models[name].onnx])
            pixels = np.asarray(result.examples["pixels"][::5], dtype=np.float32).reshape(-1, 3, 32, 32) / 255
            for image in pixels:
                in_page = page.evaluate(
                    """async ([i, pixels]) => {
                    const explorer = await window.layerwise.explorers[i];
                    const values = await explorer.run(Float32Array.from(pixels));
                    return Object.values(values).map((v) => Array.from(v));
                }""",
                    [i, image.ravel().tolist()],
                )
                for got, want in zip(in_page, python.run(None, {"image": image[None]})):
                    assert np.abs(np.asarray(got) - want.ravel()).max() <= 1e-5
            # Every layer's detail view redoes its arithmetic: against PyTorch too where the build
            # has the module (the CNN brought in as a checkpoint).
            assert_detail_matches(detail_arithmetic(page, name, image.ravel()), torch_outputs(name, image, tmp))
        assert explorers.first.locator(".pad").count() == 0  # colour data: no drawing pad, a file input

        # The reader's own image, converted and resized in the page exactly as the build does.
        image = next((tmp / "shapes" / "square").glob("*.png"))
        from PIL import Image

        from layerwise.model.data import to_shape

        with Image.open(image) as im:
            expected = to_shape(
                torch.from_numpy(np.asarray(im.convert("RGB"))).permute(2, 0, 1)[None].float() / 255, (3, 32, 32)
            )
        in_page = page.evaluate(
            """async (bytes) => {
            const explorer = await window.layerwise.explorers[0];
            return Array.from(await explorer.readImage(new Blob([new Uint8Array(bytes)], {type: 'image/png'})));
        }""",
            list(image.read_bytes()),
        )
        assert np.abs(np.asarray(in_page) - expected.numpy().ravel()).max() <= 1e-6
        explorers.first.locator("input[type=file]").set_input_files(str(image))
        expect(explorers.first.locator(".status")).to_contain_text("The network says")

        tour = page.locator(".grand-tour")
        tour.scroll_into_view_if_needed()
        expect(tour).to_have_attribute("data-frames", __import__("re").compile(r"[1-9]"), timeout=20_000)
        expect(tour.locator("output").nth(1)).to_contain_text("fc")
        for figure in page.locator(".plotly-figure").all():
            figure.scroll_into_view_if_needed()
            expect(figure.locator(".main-svg").first).to_be_attached()
    assert page.console_errors == [] and page.foreign_requests == []
