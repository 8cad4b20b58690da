"""A generator's users at the edges: 8x8 and 64x64 images with the default ladder, a plain
nn.Sequential from a factory, paths relative to the file that wrote them, and data too small to
analyse or unreadable refused in one line before anything trains.

One tiny real build (two articles of 60 images each, two models, one epoch, one seed, PCA only)
serves the first tests; the refusals build nothing."""

import io
import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from PIL import Image

from conftest import ROOT, toml_text
from layerwise.config import CNN_LAYERS, load_config
from layerwise.contract import site_path
from layerwise.model.data import load_dataset
from layerwise.model.export import weights_from_onnx
from layerwise.model.models import network_from_layers
from layerwise.page.articles import plan_site
from layerwise.tools.build import build
from layerwise.tools.cli import main
from test_data import make_folder

SEQUENTIAL = '''"""A model as many write it: a plain nn.Sequential, its layers named 0, 1, 2, 3."""
from torch import nn


def make(shape, classes):
    channels, height, width = shape
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, 16), nn.ReLU(), nn.Linear(16, classes))
'''
QUICK = {
    "train": {"epochs": 1, "seeds": 1},
    "record": {"sample_size": 12},
    "analysis": {"layers": ["input", "relu3"], "methods": ["pca"]},
}
ARTICLE = "---\ntitle: {title}\n{extra}---\n\n```{{figure}} layer-explorer\n:model: cnn\n```\n"


def write_project(tmp: Path, config: dict, article_config: str | None = None) -> Path:
    """conf/layerwise.toml (site folders relative to it), conf/nets.py and conf/content/ with an
    article on the build's data and, given `article_config`, one with its own content/own.toml."""
    conf = tmp / "conf"
    (conf / "content").mkdir(parents=True)
    (conf / "nets.py").write_text(SEQUENTIAL)
    (conf / "content" / "small.md").write_text(ARTICLE.format(title="Small", extra=""))
    if article_config is not None:
        (conf / "content" / "own.toml").write_text(article_config)
        (conf / "content" / "large.md").write_text(ARTICLE.format(title="Large", extra="config: own.toml\n"))
    places = {"content": "content", "out": "site", "cache": "cache"}  # relative to conf/
    tools = {"templates": str(ROOT / "templates"), "node_modules": str(ROOT / "node_modules")}
    (conf / "layerwise.toml").write_text(toml_text({**places, **tools, **config}) + "\n")
    return conf / "layerwise.toml"


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    """One site: 8x8 grey shapes (the build's config) and 64x64 colour ones (an article's own
    config in content/), each with the default CNN and a plain nn.Sequential from conf/nets.py."""
    tmp = tmp_path_factory.mktemp("edges")
    make_folder(tmp / "conf" / "small", size=(8, 8), mode="L", per_class=20)
    make_folder(tmp / "conf" / "large", size=(64, 64), per_class=20)
    data = {"data": {"source": "folder", "root": "small"}, "models": {"seq": {"factory": "nets.py:make"}}}
    path = write_project(tmp, {**QUICK, **data}, '[data]\nroot = "../large"\n')
    config = load_config(path)
    config["models"] = {name: config["models"][name] for name in ("cnn", "seq")}
    results, _ = build(config)
    return config, results


def page_outputs(result, model: str, count: int = 6) -> tuple[list, list, np.ndarray]:
    """(onnxruntime's outputs of the page's model for a few of the picker's examples, their names,
    the examples)."""
    session = onnxruntime.InferenceSession(result.files[result.models[model].onnx])
    pixels = np.asarray(result.examples["pixels"][:count], dtype=np.float32) / 255
    images = pixels.reshape(-1, *result.dataset.shape)
    return session.run(None, {"image": images}), [o.name for o in session.get_outputs()], images


def test_the_default_cnn_at_28x28_is_the_classic_one():
    assert CNN_LAYERS == [
        "conv1: Conv2d(channels, 10, kernel_size=5)",
        "pool1: MaxPool2d(2)",
        "relu1: ReLU()",
        "conv2: Conv2d(10, 20, kernel_size=5)",
        "pool2: MaxPool2d(2)",
        "relu2: ReLU()",
        "flatten: Flatten()",
        "fc1: Linear(auto, 50)",
        "relu3: ReLU()",
        "fc2: Linear(50, classes)",
        "softmax: Softmax(dim=1)",
    ]
    network = network_from_layers(CNN_LAYERS)
    assert network.module.conv2.kernel_size == (5, 5) and network.module.fc1.in_features == 320


@pytest.mark.parametrize(
    "article,shapes",
    [
        ("small", {"conv1": [10, 8, 8], "pool1": [10, 4, 4], "conv2": [20, 4, 4], "pool2": [20, 2, 2], "fc1": [50]}),
        ("large", {"conv1": [10, 60, 60], "pool1": [10, 30, 30], "conv2": [20, 26, 26], "flatten": [3380]}),
    ],
)
def test_the_default_cnn_fits_8x8_and_64x64_and_the_page_runs_it(edges, article, shapes):
    config, results = edges
    result = results[article]
    layers = {layer.name: layer.shape for layer in result.models["cnn"].layers}
    assert {name: layers[name] for name in shapes} == shapes
    outputs, names, _ = page_outputs(result, "cnn")
    for name, shape in layers.items():  # the page's model gives every layer in its shape
        assert list(outputs[names.index(name)].shape[1:]) == shape, name
    said = outputs[names.index("softmax")].argmax(1)
    assert said.tolist() == result.examples["predictions"]["cnn"][: len(said)]
    assert result.manifold["layers"]["input"]["folds"] == 4  # four held out of each class: four folds


def test_a_plain_sequential_from_a_factory_shows_its_layers(edges):
    config, results = edges
    result = results["small"]
    assert [layer.name for layer in result.models["seq"].layers] == ["layer_0", "layer_1", "layer_2", "layer_3"]
    assert [layer.type for layer in result.models["seq"].layers] == ["Flatten", "Linear", "ReLU", "Linear"]
    outputs, names, images = page_outputs(result, "seq")
    namespace = {}
    exec(SEQUENTIAL, namespace)
    module = namespace["make"]((1, 8, 8), 3)
    module.load_state_dict(weights_from_onnx(module, result.files[result.models["seq"].onnx]))
    with torch.no_grad():
        expected = module.eval()(torch.from_numpy(images))
    assert np.abs(outputs[names.index("layer_3")] - expected.numpy()).max() <= 1e-5


def test_an_article_with_its_own_config_finds_the_builds_factory_beside_the_builds_config(edges):
    config, results = edges
    # content/own.toml wrote only data.root (relative to content/); nets.py is beside conf/layerwise.toml.
    assert results["large"].dataset.shape == (3, 64, 64) and "seq" in results["large"].models
    assert Path(config["out"]) == Path(config["factory_bases"]["seq"]) / "site"  # site folders too


def test_a_checkpoint_in_the_builds_config_is_found_beside_it_for_every_article(tmp_path):
    layers = ["flatten: Flatten()", "fc: Linear(pixels, classes)"]
    network = network_from_layers(layers)
    models = {"models": {"brought": {"layers": layers, "checkpoint": "w.pt"}}}
    path = write_project(tmp_path, models, "[train]\nepochs = 1\n")
    torch.save(network.module.state_dict(), tmp_path / "conf" / "w.pt")
    _, articles = plan_site(load_config(path))  # plans only: nothing loads or trains
    assert [a.specs["brought"].checkpoint for a in articles] == [(tmp_path / "conf" / "w.pt").resolve()] * 2


def refused(path: Path, capsys) -> str:
    """Build as a user does; the one error line, after checking that nothing trained and the
    previous site/ is as it was."""
    site = path.parent / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text("<p>the previous site</p>")
    code = main(["build", "--config", str(path)])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 1 and len(errors) == 1 and "Traceback" not in err, err
    assert not (path.parent / "cache" / "train").exists()  # nothing trained
    assert (site / "index.html").read_text() == "<p>the previous site</p>"
    return errors[0]


def test_a_missing_factory_in_the_builds_config_is_one_line_naming_it_before_training(tmp_path, capsys):
    path = write_project(tmp_path, {**QUICK, "models": {"seq": {"factory": "gone.py:make"}}}, "[train]\nepochs = 1\n")
    line = refused(path, capsys)
    assert line == (
        f"error: {path}: models.seq.factory: {(tmp_path / 'conf' / 'gone.py').resolve()} does not exist; "
        "put the file there or fix the path"
    )


@pytest.mark.parametrize(
    "data,record,message",
    [
        (
            {"source": "folder", "root": "few"},
            {},
            "data.root = '{conf}/few' (15 images, data.test_fraction = 0.2): 3 held out, 1 of class 'circle'; the "
            "analysis needs 10 held out and 2 of each class: add images or raise data.test_fraction",
        ),
        (
            {"limit": 20},
            {},
            "data.limit = 20: 4 held out, 0 of class '4'; the analysis needs 10 held out and 2 of each class: "
            "set data.limit to at least 100 (or 0 for every one)",
        ),
        (
            {},
            {"sample_size": 10},
            "record.sample_size = 10 takes 1 of class '0'; the analysis needs 2 of each class: set "
            "record.sample_size to at least 20",
        ),
    ],
    ids=["few images per class", "a tiny limit", "a tiny sample"],
)
def test_data_too_small_to_analyse_is_one_line_naming_the_file_and_setting_before_anything_loads(
    tmp_path, capsys, data, record, message
):
    make_folder(tmp_path / "conf" / "few", per_class=5)
    path = write_project(tmp_path, {**QUICK, "data": data, "record": {**QUICK["record"], **record}})
    assert refused(path, capsys) == f"error: {path}: " + message.format(conf=tmp_path / "conf")


def test_a_truncated_image_is_one_line_naming_it_before_training(tmp_path, capsys):
    make_folder(tmp_path / "conf" / "shapes", per_class=20)
    broken = tmp_path / "conf" / "shapes" / "square" / "003.png"
    broken.write_bytes(broken.read_bytes()[:-40])  # the header is whole: describing the folder passes
    path = write_project(tmp_path, {**QUICK, "data": {"source": "folder", "root": "shapes"}})
    line = refused(path, capsys)
    assert line.startswith(f"error: {broken}: not a readable image (") and line.endswith("; remove or replace it")


def test_every_conv_channel_and_dense_unit_gets_its_examples_at_8x8_grey_and_64x64_colour(edges):
    """units.py on other shapes: crops the size of each receptive field (part outside an 8x8
    image, transparent), in colour for colour data, and a plain nn.Sequential's Linear layers."""
    config, results = edges
    for article, mode_channels in (("small", 1), ("large", 3)):
        result = results[article]
        ranked = {layer.name: layer for layer in result.models["cnn"].layers if layer.units}
        assert list(ranked) == ["conv1", "conv2", "fc1", "fc2"], article
        assert [layer.name for layer in result.models["seq"].layers if layer.units] == ["layer_1", "layer_3"]
        conv1 = ranked["conv1"]
        h, w = conv1.units["crop"]
        assert [h, w] == conv1.step["receptive_field"]["size"]
        found = json.loads(result.files[site_path("units", model="cnn", layer="conv1")])
        sprite = np.asarray(Image.open(io.BytesIO(result.files[site_path("unit_crops", model="cnn", layer="conv1")])))
        columns = conv1.units["top"] + conv1.units["bottom"] + bool(conv1.units["optimized"])  # and its optimized input
        assert sprite.shape == (conv1.shape[0] * h, columns * w, 4) and len(found["units"]) == conv1.shape[0]
        grey = (sprite[..., 0] == sprite[..., 1]).all() and (sprite[..., 1] == sprite[..., 2]).all()
        assert grey == (mode_channels == 1), article
    # The 8x8 maps keep their size (kernel 3, padding 1): a crop at the edge reaches past the image.
    small = json.loads(results["small"].files[site_path("units", model="cnn", layer="conv1")])
    data = load_dataset(config["data"], config["node_modules"])
    crops = results["small"].files[site_path("unit_crops", model="cnn", layer="conv1")]
    sprite = np.asarray(Image.open(io.BytesIO(crops)))
    field = small["receptive_field"]
    for unit, found in enumerate(small["units"]):
        for column, (example, (row, col)) in enumerate(zip(found["examples"], found["positions"])):
            crop = sprite[unit * 3 : unit * 3 + 3, column * 3 : column * 3 + 3]  # (3, 3, 4)
            padded = np.pad(255 - (data.test_x[example, 0].numpy() * 255).round(), 1, constant_values=-1)
            top, left = (1 + field["start"][a] + (row, col)[a] * field["jump"][a] for a in (0, 1))  # padded by 1
            expected = padded[top : top + 3, left : left + 3]
            assert np.array_equal(crop[..., 3] == 0, expected < 0), (unit, column)
            assert np.array_equal(crop[..., 0][expected >= 0], expected[expected >= 0]), (unit, column)
