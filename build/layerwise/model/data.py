"""Datasets -> tensors: images as float32 in [0, 1] shaped (N, C, H, W), text as int64 tokens (N, T), labels as int64.

Each kind of source loads its own examples (sources/: embedded, torchvision_named, folder, text); here
they become one shape. Sets without a held-out split of their own are split deterministically
and stratified (sources.split_held_out). Converting to data.size and data.channels is one
function, mirrored exactly by the page.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from . import sources
from .sources import DataError, Source, every_nth, stratified_split  # noqa: F401 (DataError, stratified_split: for callers)


@dataclass
class Dataset:
    source: Source
    train_x: torch.Tensor  # (N, C, H, W) float32 in [0, 1]; text: (N, T) int64 tokens
    train_y: torch.Tensor  # (N,) int64; next-token text: (N, T), the token after each position
    test_x: torch.Tensor
    test_y: torch.Tensor
    # The document each held-out target comes from, where examples are cut from documents
    # (next-token text, (N, T)): intervals resample documents, not overlapping windows.
    test_groups: torch.Tensor | None = None

    @property
    def classes(self) -> list[str]:
        return self.source.classes

    @property
    def shape(self) -> tuple:
        return self.source.shape

    def fingerprint(self) -> str:
        """A hash of every pixel and label: the cache key of everything trained on it."""
        h = hashlib.sha256(json.dumps([self.source.name, self.source.classes]).encode())
        for t in (self.train_x, self.train_y, self.test_x, self.test_y):
            h.update(t.numpy().tobytes())
        return h.hexdigest()[:16]


def to_shape(images: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """(N, C, H, W) in [0, 1] -> (N, C', H', W'): channels by ITU-R 601 luma (as PIL's "L") or
    by repeating grey, size by area averaging (the page does the same, pixel for pixel). Only
    images have a size to convert: tokens come as they are."""
    if images.dim() != 4:
        return images
    channels, height, width = shape
    if images.shape[1] == 3 and channels == 1:
        luma = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype).view(1, 3, 1, 1)
        images = (images * luma).sum(1, keepdim=True)  # (N, 1, H, W)
    elif images.shape[1] == 1 and channels == 3:
        images = images.expand(-1, 3, -1, -1)  # (N, 3, H, W)
    if images.shape[2:] != (height, width):
        images = F.interpolate(images, size=(height, width), mode="area")
    return images.contiguous()


def load_dataset(data: dict, node_modules: Path, source: Source | None = None) -> Dataset:
    """The configured data as tensors (`source`: its description, if the caller has it)."""
    source = source or sources.describe_source(data, node_modules)
    train_x, train_y, test_x, test_y, *groups = sources.kind_of(data).load(source, data, node_modules)
    test_groups = groups[0] if groups else None
    train_x, test_x = to_shape(train_x, source.shape), to_shape(test_x, source.shape)
    limit = data["limit"]
    if limit:  # an evenly spaced subset of each split keeps the stratification
        train_x, train_y = train_x[every_nth(len(train_x), limit)], train_y[every_nth(len(train_y), limit)]
        kept = every_nth(len(test_x), sources.held_out_limit(data))
        test_x, test_y = test_x[kept], test_y[kept]
        test_groups = None if test_groups is None else test_groups[kept]
    present = set(test_y.unique().tolist()) | set(train_y.unique().tolist())
    if source.classes and (len(present) < len(source.classes) or int(max(present)) >= len(source.classes)):
        raise DataError(
            f"data.source = '{data['source']}': labels {sorted(present)[:12]} do not match the "
            f"{len(source.classes)} classes {', '.join(source.classes[:12])}"
        )
    return Dataset(source, train_x, train_y, test_x, test_y, test_groups)
