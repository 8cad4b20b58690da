"""What each data source is before it is loaded: shape, classes, noun, and the files it reads.

Enough to check a config, dry-run every model and hash a build's inputs without reading a pixel.
A source is the embedded MNIST digits, a torchvision dataset by name, or a class-per-folder
image directory (torchvision's ImageFolder layout).
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .assets import EMBEDDED_DIGITS
from .errors import BuildError

# Where Debian's `dataset-fashion-mnist` puts the gzipped IDX files.
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm")
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
    shape: tuple[int, int, int]  # (C, H, W) of one example, after any size/channels conversion
    classes: list[str]
    noun: str  # what the page calls one example: "digit", "garment", "image"
    # How the page turns a drawing into an input: "fit-and-centre" (MNIST's own recipe: the ink
    # fitted into five sevenths of the frame, centred by mass) or "resize" (area-averaged, as the
    # build does).
    preprocessing: str
    files: list[Path] = field(default_factory=list)  # every file it reads (for the cache key)


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


IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_files(folder: str) -> tuple[str, ...]:
    """Where torchvision's MNIST-family loaders read the four IDX files."""
    return tuple(f"{folder}/raw/{name}" for name in IDX)


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
    "svhn": Named("SVHN", "SVHN", (3, 32, 32), DIGITS, "digit", "resize", ("train_32x32.mat", "test_32x32.mat")),
}
# EMNIST splits with at most MAX_CLASSES classes (the others have 26 to 62).
EMNIST_SPLITS = {"digits": DIGITS, "mnist": DIGITS}
SOURCE_NAMES = ["embedded", "folder", *(n.title for n in NAMED.values())]


def canonical(name: str) -> str:
    """'Fashion-MNIST', 'fashion_mnist' and 'FashionMNIST' all name one dataset."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def embedded_folder(node_modules) -> Path:
    return Path(node_modules) / EMBEDDED_DIGITS


def describe_source(data: dict, node_modules) -> Source:
    """The configured source's shape, classes and noun, from metadata only (no pixels read)."""
    name = canonical(data["source"])
    if name == "embedded":
        folder = embedded_folder(node_modules)
        source = Source(
            "MNIST (embedded)",
            MNIST_SHAPE,
            DIGITS,
            "digit",
            "fit-and-centre",
            sorted(folder.glob("*.json")) if folder.exists() else [],
        )
    elif name == "folder":
        source = describe_folder(data)
    elif name in NAMED:
        source = describe_named(NAMED[name], data)
    else:
        raise DataError(
            f"data.source = '{data['source']}' is not a dataset Layerwise reads; use one of {', '.join(SOURCE_NAMES)}"
        )
    return converted(source, data)


def describe_named(named: Named, data: dict) -> Source:
    root = Path(data["root"])
    classes = named.classes
    if named.torchvision == "EMNIST":
        if data["split"] not in EMNIST_SPLITS:
            raise DataError(
                f"data.split = '{data['split']}': EMNIST is read with split digits or mnist "
                f"(the other splits have more than {MAX_CLASSES} classes)"
            )
        classes = EMNIST_SPLITS[data["split"]]
    files = [root / f.format(split=data["split"]) for f in named.files]
    if named.torchvision == "FashionMNIST" and DEBIAN_FASHION.exists():
        files += sorted(DEBIAN_FASHION.glob("*-ubyte.gz"))
    return Source(named.title, named.shape, classes, named.noun, named.preprocessing, files)


def class_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DataError(
            f"data.root = '{root}' is not a folder; for data.source = 'folder' put one sub-folder of "
            "images per class there (e.g. cats/001.png, dogs/002.png)"
        )
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def describe_folder(data: dict) -> Source:
    """A class-per-folder image directory: classes from the folder names (or data.classes)."""
    from PIL import Image, UnidentifiedImageError

    root = Path(data["root"])
    folders = class_folders(root)
    if len(folders) < MIN_CLASSES:
        raise DataError(
            f"data.root = '{root}' has {len(folders)} class folder(s); a classifier needs at least "
            f"{MIN_CLASSES}: put each class's images in a sub-folder named after it"
        )
    images = {}
    for folder in folders:
        images[folder] = folder_images(folder)
        if not images[folder]:
            raise DataError(
                f"{folder}: this class has no images ({', '.join(IMAGE_SUFFIXES[:3])}, ...); "
                "add some or remove the folder"
            )
    sizes, modes = {}, set()
    for paths in images.values():
        for path in paths:
            try:
                with Image.open(path) as image:
                    sizes.setdefault(image.size, path)
                    modes.add(image.mode)
            except (UnidentifiedImageError, OSError) as e:
                raise DataError(f"{path}: not a readable image ({e}); remove or replace it") from None
    classes = [f.name for f in folders]
    if data.get("classes"):
        if len(data["classes"]) != len(folders):
            raise DataError(
                f"data.classes names {len(data['classes'])} classes but {root} has {len(folders)} "
                f"folders ({', '.join(classes)}); name one class per folder, in that order"
            )
        classes = [str(c) for c in data["classes"]]
    if data.get("size"):
        height, width = data["size"]
    elif len(sizes) > 1:
        (a, path_a), (b, path_b) = list(sizes.items())[:2]
        raise DataError(
            f"{path_a} is {a[0]}x{a[1]} but {path_b} is {b[0]}x{b[1]}: images differ in size; "
            "set data.size = [H, W] to resize them all"
        )
    else:
        width, height = next(iter(sizes))
    channels = 1 if modes <= {"L", "1", "I", "I;16", "F", "LA"} else 3
    files = [p for paths in images.values() for p in paths]
    return Source(root.name or "images", (channels, height, width), classes, "image", "resize", files)


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


def folder_labels(source: Source, root: Path) -> np.ndarray:
    """The class of each of a folder source's files: its class folder's place among them (sorted)."""
    return np.unique([f.relative_to(root).parts[0] for f in source.files], return_inverse=True)[1]


def held_out_counts(data: dict, source: Source) -> tuple[np.ndarray | None, str, str]:
    """(how many held-out examples of each class the build will have, the setting that decides it,
    what to change), from the data's description: exact for a folder (split and limited as
    load_dataset does), about even under data.limit otherwise; None where thousands are held out."""
    if canonical(data["source"]) == "folder":
        root = Path(data["root"])
        labels = folder_labels(source, root)
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
