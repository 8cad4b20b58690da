"""Torchvision datasets by name (MNIST, FashionMNIST, KMNIST, EMNIST, CIFAR10, SVHN), read by
torchvision's own loader from local files under data.root (downloaded when data.download is on).
What sets one apart from the others (EMNIST's splits and transposed images, SVHN's split argument,
Debian's Fashion-MNIST files) is a field of its record here."""

import gzip
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import DIGITS, MAX_CLASSES, MNIST_SHAPE, DataError, Source, canonical

# Where Debian's `dataset-fashion-mnist` puts the gzipped IDX files.
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_files(folder: str) -> tuple[str, ...]:
    """Where torchvision's MNIST-family loaders read the four IDX files."""
    return tuple(f"{folder}/raw/{name}" for name in IDX)


def debian_fashion() -> list[Path]:
    return sorted(DEBIAN_FASHION.glob("*-ubyte.gz")) if DEBIAN_FASHION.exists() else []


@dataclass(frozen=True)
class Named:
    """A torchvision dataset, read from local files under data.root."""

    title: str
    torchvision: str  # the class in torchvision.datasets
    shape: tuple[int, int, int]
    classes: list[str]
    noun: str
    preprocessing: str
    files: tuple[str, ...]  # relative to root; {split} is data.split (EMNIST)
    splits: dict | None = None  # data.split -> its classes, where the loader takes a split (EMNIST)
    transposed: bool = False  # its files store each image transposed (EMNIST)
    split_argument: bool = False  # the loader takes split="train"/"test", not train=True/False (SVHN)
    also: Callable[[], list[Path]] | None = None  # copies found elsewhere on the machine (gzipped IDX)


NAMED = {
    "mnist": Named("MNIST", "MNIST", MNIST_SHAPE, DIGITS, "digit", "fit-and-centre", idx_files("MNIST")),
    "fashionmnist": Named(
        "Fashion-MNIST",
        "FashionMNIST",
        MNIST_SHAPE,
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        "garment",
        "resize",
        idx_files("FashionMNIST"),
        also=debian_fashion,
    ),
    "kmnist": Named(
        "Kuzushiji-MNIST",
        "KMNIST",
        MNIST_SHAPE,
        ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
        "character",
        "fit-and-centre",
        idx_files("KMNIST"),
    ),
    "emnist": Named(
        "EMNIST",
        "EMNIST",
        MNIST_SHAPE,
        DIGITS,
        "character",
        "fit-and-centre",
        tuple(
            f"EMNIST/raw/emnist-{{split}}-{part}"
            for part in (
                "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte",
                "test-images-idx3-ubyte",
                "test-labels-idx1-ubyte",
            )
        ),
        splits={"digits": DIGITS, "mnist": DIGITS},  # the splits with at most MAX_CLASSES classes (others: 26-62)
        transposed=True,
    ),
    "cifar10": Named(
        "CIFAR-10",
        "CIFAR10",
        (3, 32, 32),
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
        "image",
        "resize",
        tuple(
            f"cifar-10-batches-py/{f}"
            for f in (
                "data_batch_1",
                "data_batch_2",
                "data_batch_3",
                "data_batch_4",
                "data_batch_5",
                "test_batch",
                "batches.meta",
            )
        ),
    ),
    "svhn": Named(
        "SVHN",
        "SVHN",
        (3, 32, 32),
        DIGITS,
        "digit",
        "resize",
        ("train_32x32.mat", "test_32x32.mat"),
        split_argument=True,
    ),
}
NAMES = {name: named.title for name, named in NAMED.items()}


def describe(data: dict, node_modules) -> Source:
    named = NAMED[canonical(data["source"])]
    classes = named.classes
    if named.splits is not None:
        if data["split"] not in named.splits:
            raise DataError(
                f"data.split = '{data['split']}': {named.title} is read with split {' or '.join(named.splits)} "
                f"(the other splits have more than {MAX_CLASSES} classes)"
            )
        classes = named.splits[data["split"]]
    files = [Path(data["root"]) / f.format(split=data["split"]) for f in named.files]
    files += named.also() if named.also else []
    return Source(named.title, named.shape, classes, named.noun, named.preprocessing, files)


def labels(source: Source, data: dict) -> None:
    return None  # known only once the files are read


def unpack_gzipped(files: list[Path], root: Path) -> list[Path]:
    """torchvision reads IDX files un-gzipped: for each file under `root` that is missing, unpack
    a gzipped copy found beside it or among `files` (e.g. Debian's Fashion-MNIST). Returns the
    files under `root`."""
    local = [p for p in files if p.is_relative_to(root)]
    for target in local:
        gzipped = [target.with_name(target.name + ".gz")] + [p for p in files if p.name == target.name + ".gz"]
        found = next((p for p in gzipped if p.exists()), None)
        if not target.exists() and found:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            with gzip.open(found, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            tmp.replace(target)
    return local


def as_tensors(images, labels, channels_last: bool):
    """A loader's uint8 images and labels -> (N, C, H, W) float32 in [0, 1], (N,) int64."""
    import torch

    images = torch.as_tensor(np.asarray(images))
    if images.ndim == 3:
        images = images.unsqueeze(1)  # (N, 1, H, W)
    elif channels_last:
        images = images.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    return images.float() / 255.0, torch.as_tensor(np.asarray(labels)).long()


def read_parts(named: Named, root: Path, data: dict):
    """The train and test sets through torchvision's loader, as (images, labels) tensors."""
    from torchvision import datasets

    cls = getattr(datasets, named.torchvision)
    if named.split_argument:
        parts = [cls(str(root), split=split, download=data["download"]) for split in ("train", "test")]
        return [as_tensors(p.data, p.labels, channels_last=False) for p in parts]
    kwargs = {"split": data["split"]} if named.splits is not None else {}
    parts = [cls(str(root), train=train, download=data["download"], **kwargs) for train in (True, False)]
    return [as_tensors(p.data, p.targets, channels_last=True) for p in parts]


def load(source: Source, data: dict, node_modules):
    """Its own train and test sets (unpacking gzipped IDX files first); one line naming the
    folder where files are missing or cannot be read."""
    named = NAMED[canonical(data["source"])]
    root = Path(data["root"])
    local = unpack_gzipped(source.files, root)
    missing = [p for p in local if not p.exists()]
    if missing and not data["download"]:
        raise DataError(
            f"data.source = '{data['source']}': missing {', '.join(p.name for p in missing)} in {missing[0].parent}; "
            "put the files there (IDX files may stay gzipped), or set data.download = true when online"
        )
    try:
        (train_x, train_y), (test_x, test_y) = read_parts(named, root, data)
    except (RuntimeError, AssertionError, ValueError, OSError, EOFError) as e:
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(
            f"data.source = '{data['source']}': the files in {local[0].parent} cannot be read "
            f"({detail}); replace them with the original dataset files"
        ) from None
    if named.transposed:
        train_x, test_x = train_x.transpose(2, 3), test_x.transpose(2, 3)  # (N, C, W, H) -> (N, C, H, W)
    return train_x, train_y, test_x, test_y
