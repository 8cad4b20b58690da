"""Every data source on real files written here: IDX, CIFAR pickles, SVHN .mat, PNG folders."""

import copy
import gzip
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT
from layerwise.config import DEFAULTS
from layerwise.model import sources
from layerwise.model.data import DataError, load_dataset, stratified_split, to_shape
from layerwise.model.sources import torchvision_named


def data_config(**settings) -> dict:
    return {**copy.deepcopy(DEFAULTS["data"]), **settings}


def test_split_is_stratified_and_deterministic():
    labels = np.repeat(np.arange(10), [100, 120, 90, 110, 100, 80, 95, 105, 100, 100])
    train, test = stratified_split(labels, 0.2, seed=0)
    again = stratified_split(labels, 0.2, seed=0)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert not set(train) & set(test) and len(train) + len(test) == len(labels)
    for c in range(10):
        share = (labels[test] == c).sum() / (labels == c).sum()
        assert abs(share - 0.2) < 0.01
    assert len(stratified_split(labels, 1000 / 1000 * 0.333, seed=0)[1]) == 333  # exact, not 330
    assert not np.array_equal(test, stratified_split(labels, 0.2, seed=1)[1])


def test_embedded_digits_are_the_real_ten_thousand():
    ds = load_dataset(data_config(), ROOT / "node_modules")
    assert ds.train_x.shape == (8000, 1, 28, 28) and ds.test_x.shape == (2000, 1, 28, 28)
    assert 0 <= ds.train_x.min() and ds.train_x.max() <= 1
    assert sorted(set(ds.test_y.tolist())) == list(range(10))
    assert ds.source.noun == "digit" and ds.source.preprocessing == "fit-and-centre"
    assert ds.fingerprint() == load_dataset(data_config(), ROOT / "node_modules").fingerprint()


def write_idx(images_path, labels_path, images, labels, gz=False):
    opener = gzip.open if gz else open
    n, h, w = images.shape
    with opener(str(images_path) + (".gz" if gz else ""), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, h, w) + images.tobytes())
    with opener(str(labels_path) + (".gz" if gz else ""), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels.tobytes())


def make_raw(raw, n_train=30, n_test=10, gz=False, prefix="", parts=("train", "t10k")):
    rng = np.random.default_rng(0)
    raw.mkdir(parents=True, exist_ok=True)
    for part, n in zip(parts, (n_train, n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(
            raw / f"{prefix}{part}-images-idx3-ubyte",
            raw / f"{prefix}{part}-labels-idx1-ubyte",
            images,
            (np.arange(n) % 10).astype(np.uint8),
            gz,
        )
    return images


@pytest.mark.parametrize(
    "source,folder,noun",
    [("MNIST", "MNIST", "digit"), ("fashion-mnist", "FashionMNIST", "garment"), ("KMNIST", "KMNIST", "character")],
)
def test_torchvision_loaders_read_idx_files(tmp_path, monkeypatch, source, folder, noun):
    monkeypatch.setattr(torchvision_named, "DEBIAN_FASHION", tmp_path / "no-debian-files")
    make_raw(tmp_path / folder / "raw", gz=source == "KMNIST")  # gzipped files are unpacked first
    ds = load_dataset(data_config(source=source, root=str(tmp_path)), ROOT / "node_modules")
    assert ds.train_x.shape == (30, 1, 28, 28) and ds.test_x.shape == (10, 1, 28, 28)
    assert ds.test_y.tolist() == list(range(10))
    assert len(ds.classes) == 10 and ds.source.noun == noun


def test_emnist_digits_are_turned_upright(tmp_path):
    images = make_raw(tmp_path / "EMNIST" / "raw", prefix="emnist-digits-", parts=("train", "test"))
    ds = load_dataset(data_config(source="EMNIST", root=str(tmp_path), split="digits"), ROOT / "node_modules")
    assert ds.classes == [str(d) for d in range(10)]
    assert torch.equal((ds.test_x[0, 0] * 255).round().byte(), torch.from_numpy(images[0]).T)  # stored transposed


def test_cifar10_from_its_python_pickles(tmp_path, monkeypatch):
    import torchvision.datasets.cifar

    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a: True)  # our files have other md5s
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        batch = {"data": rng.integers(0, 256, (10, 3 * 32 * 32), dtype=np.uint8), "labels": list(range(10))}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": torchvision_named.NAMED["cifar10"].classes}))
    ds = load_dataset(data_config(source="CIFAR10", root=str(tmp_path)), ROOT / "node_modules")
    assert ds.train_x.shape == (50, 3, 32, 32) and ds.test_x.shape == (10, 3, 32, 32)
    assert ds.classes[0] == "airplane" and ds.source.preprocessing == "resize"
    grey = load_dataset(
        data_config(source="CIFAR10", root=str(tmp_path), channels=1, size=[16, 16]), ROOT / "node_modules"
    )
    assert grey.test_x.shape == (10, 1, 16, 16)


def test_svhn_from_its_mat_files(tmp_path, monkeypatch):
    import scipy.io
    import torchvision.datasets.svhn

    monkeypatch.setattr(torchvision.datasets.svhn, "check_integrity", lambda *a: True)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        scipy.io.savemat(
            tmp_path / f"{split}_32x32.mat",
            {
                "X": rng.integers(0, 256, (32, 32, 3, 10), dtype=np.uint8),
                "y": np.array([10, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=np.uint8)[:, None],  # SVHN writes 0 as 10
            },
        )
    ds = load_dataset(data_config(source="svhn", root=str(tmp_path)), ROOT / "node_modules")
    assert ds.test_x.shape == (10, 3, 32, 32) and sorted(ds.test_y.tolist()) == list(range(10))


def test_fashion_mnist_from_debians_gzipped_files(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    make_raw(debian, gz=True)
    monkeypatch.setattr(torchvision_named, "DEBIAN_FASHION", debian)
    ds = load_dataset(data_config(source="FashionMNIST", root=str(tmp_path / "root")), ROOT / "node_modules")
    assert ds.classes[0] == "T-shirt/top" and ds.train_x.shape[0] == 30


def test_missing_files_say_which_and_where(tmp_path):
    with pytest.raises(DataError, match=r"missing train-images-idx3-ubyte.*put the files there") as e:
        load_dataset(data_config(source="mnist", root=str(tmp_path)), ROOT / "node_modules")
    assert str(tmp_path / "MNIST" / "raw") in str(e.value)


def test_a_malformed_idx_file_is_one_line_naming_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision_named, "DEBIAN_FASHION", tmp_path / "none")
    make_raw(tmp_path / "MNIST" / "raw")
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    with pytest.raises(DataError, match="cannot be read .*replace them with the original dataset files"):
        load_dataset(data_config(source="mnist", root=str(tmp_path)), ROOT / "node_modules")


def make_folder(root, classes=("circle", "square", "triangle"), size=(32, 32), mode="RGB", per_class=12):
    """Coloured shapes, one class per folder, as an author would bring them."""
    from PIL import ImageDraw

    colours = {"circle": (220, 40, 40), "square": (40, 160, 60), "triangle": (40, 70, 220)}
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            image = Image.new("RGB", size, (255, 255, 255))
            draw = ImageDraw.Draw(image)
            x, y = rng.integers(2, max(3, size[0] // 3), 2)  # 8x8 images too
            box = [x, y, x + size[0] // 2, y + size[1] // 2]
            colour = colours.get(name, tuple(int(v) for v in rng.integers(0, 255, 3)))
            {"circle": draw.ellipse, "square": draw.rectangle}.get(name, draw.ellipse)(box, fill=colour)
            if name == "triangle":
                image = Image.new("RGB", size, (255, 255, 255))
                ImageDraw.Draw(image).polygon([(x, box[3]), (box[2], box[3]), ((x + box[2]) // 2, y)], fill=colour)
            image.convert(mode).save(root / name / f"{i:03}.png")
    return root


def test_an_image_folder_in_colour_with_its_class_names(tmp_path):
    make_folder(tmp_path / "shapes")
    ds = load_dataset(data_config(source="folder", root=str(tmp_path / "shapes")), ROOT / "node_modules")
    assert ds.classes == ["circle", "square", "triangle"] and ds.shape == (3, 32, 32)
    assert len(ds.train_y) + len(ds.test_y) == 36 and sorted(set(ds.test_y.tolist())) == [0, 1, 2]
    assert ds.source.noun == "image"
    named = load_dataset(
        data_config(
            source="folder",
            root=str(tmp_path / "shapes"),
            classes=["o", "[]", "^"],
            size=[16, 24],
            channels=1,
            noun="shape",
        ),
        ROOT / "node_modules",
    )
    assert named.classes == ["o", "[]", "^"] and named.shape == (1, 16, 24) and named.source.noun == "shape"


def test_an_image_folder_loads_exactly_the_images_it_was_described_by(tmp_path):
    """A .gif is an image, and a hidden folder (.ipynb_checkpoints) is no class: the split that
    planning works out before loading is the one loaded."""
    make_folder(tmp_path / "shapes", per_class=5)
    Image.open(tmp_path / "shapes" / "circle" / "000.png").save(tmp_path / "shapes" / "circle" / "extra.gif")
    (tmp_path / "shapes" / ".ipynb_checkpoints").mkdir()
    data = data_config(source="folder", root=str(tmp_path / "shapes"))
    source = sources.describe_source(data, ROOT / "node_modules")
    ds = load_dataset(data, ROOT / "node_modules", source)
    assert ds.classes == ["circle", "square", "triangle"] and len(ds.train_y) + len(ds.test_y) == 16
    counts, _, _ = sources.held_out_counts(data, source)
    assert counts.tolist() == np.bincount(ds.test_y.numpy(), minlength=3).tolist()


def test_conversion_is_luma_and_area_averaging():
    image = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]], [[0.0] * 2] * 2, [[0.5] * 2] * 2]])  # (1, 3, 2, 2)
    grey = to_shape(image, (1, 1, 1))
    assert grey.shape == (1, 1, 1, 1)
    assert grey.item() == pytest.approx((0.299 * 2 + 0.114 * 0.5 * 4) / 4, abs=1e-6)


@pytest.mark.parametrize(
    "setup,message",
    [
        (lambda root: None, "images' is not a folder"),
        (lambda root: make_folder(root, classes=("only",)), "has 1 class folder"),
        (lambda root: (make_folder(root, classes=("a", "b")), (root / "c").mkdir()), "class folder 'c' has no images"),
        (
            lambda root: (make_folder(root, classes=("a", "b")), (root / "a" / "bad.png").write_text("no")),
            "bad.png: not a readable image",
        ),
        (
            lambda root: (
                make_folder(root, classes=("a",)),
                make_folder(root.parent / "x", classes=("b",), size=(20, 20)),
                (root.parent / "x" / "b").rename(root / "b"),
            ),
            "differ in size; set data.size",
        ),
        (lambda root: make_folder(root, classes=("a", "b"), size=(100, 100)), "set data.size = \\[H, W\\]"),
    ],
)
def test_bad_image_folders_say_what_to_do_and_which_file_set_them(tmp_path, setup, message):
    setup(tmp_path / "images")
    data = data_config(source="folder", root=str(tmp_path / "images"))
    config = {"data": data, "node_modules": ROOT / "node_modules", "source_file": "proj/layerwise.toml"}
    with pytest.raises(DataError, match=message) as raised:
        sources.describe_configured(config)
    assert str(raised.value).startswith("proj/layerwise.toml: ")


def test_an_unknown_dataset_lists_the_known_ones():
    with pytest.raises(
        DataError, match="'cifar100' is not a dataset Layerwise reads; use one of embedded, folder, MNIST"
    ):
        sources.describe_source(data_config(source="cifar100"), ROOT / "node_modules")
