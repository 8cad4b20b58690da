"""The folder source: one sub-folder of images per class (torchvision's ImageFolder layout), read by PIL."""

from pathlib import Path

import numpy as np

from . import MIN_CLASSES, DataError, Source, split_held_out

NAMES = {"folder": "folder"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm")
GREY_MODES = {"L", "1", "I", "I;16", "F", "LA"}  # PIL's modes of one channel (LA: with alpha)


def class_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise DataError(
            f"data.root = '{root}' is not a folder; for data.source = 'folder' put one sub-folder of "
            "images per class there (e.g. cats/001.png, dogs/002.png)"
        )
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def folder_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def images_by_class(root: Path) -> dict[Path, list[Path]]:
    """Each class folder's images; at least MIN_CLASSES folders, none empty."""
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
                f"data.root = '{root}': class folder '{folder.name}' has no images "
                f"({', '.join(IMAGE_SUFFIXES[:3])}, ...); add some or remove the folder"
            )
    return images


def sizes_and_modes(paths: list[Path]) -> tuple[dict, set]:
    """{(width, height): the first image of that size}, and every PIL mode, from headers alone."""
    from PIL import Image, UnidentifiedImageError

    sizes, modes = {}, set()
    for path in paths:
        try:
            with Image.open(path) as image:
                sizes.setdefault(image.size, path)
                modes.add(image.mode)
        except (UnidentifiedImageError, OSError) as e:
            raise DataError(f"{path}: not a readable image ({e}); remove or replace it") from None
    return sizes, modes


def describe(data: dict, node_modules) -> Source:
    """Classes from the folder names (or data.classes), the shape from the images' headers."""
    root = Path(data["root"])
    images = images_by_class(root)
    files = [p for paths in images.values() for p in paths]
    sizes, modes = sizes_and_modes(files)
    classes = [f.name for f in images]
    if data.get("classes"):
        if len(data["classes"]) != len(images):
            raise DataError(
                f"data.classes names {len(data['classes'])} classes but {root} has {len(images)} "
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
    channels = 1 if modes <= GREY_MODES else 3
    return Source(root.name or "images", (channels, height, width), classes, "image", "resize", files)


def labels(source: Source, data: dict) -> np.ndarray:
    """The class of each of the source's files: its class folder's place among them (sorted)."""
    root = Path(data["root"])
    return np.unique([f.relative_to(root).parts[0] for f in source.files], return_inverse=True)[1]


def load_image(path, mode: str):
    """One image in PIL's `mode`; a file that cannot be decoded (truncated, say: describing the
    folder reads only the headers) is one line naming it."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.convert(mode)
    except OSError as e:
        raise DataError(f"{path}: not a readable image ({e}); remove or replace it") from None


def load(source: Source, data: dict, node_modules):
    """Exactly the files the description lists (torchvision's ImageFolder would also take hidden
    folders for classes, and leave .gif files out), converted to the source's shape; greyscale by
    PIL's "L", colour by "RGB"; split here (a folder has no held-out split of its own)."""
    import torch

    from ..data import to_shape

    mode = "L" if source.shape[0] == 1 else "RGB"

    def read(path) -> torch.Tensor:
        pixels = np.asarray(load_image(path, mode), dtype=np.float32) / 255  # (H, W) or (H, W, 3)
        image = torch.from_numpy(pixels.reshape(*pixels.shape[:2], -1)).permute(2, 0, 1)  # (C, H, W)
        return to_shape(image[None], source.shape)[0]

    images = torch.stack([read(path) for path in source.files])  # (N, C, H, W)
    return split_held_out(images, torch.from_numpy(labels(source, data)).long(), data)
