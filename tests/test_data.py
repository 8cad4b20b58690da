import gzip
import struct

import numpy as np
import pytest

from conftest import ROOT
from layerwise import sources
from layerwise.data import DataError, load_dataset, stratified_split


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
    config = {"source": "embedded", "test_fraction": 0.2, "seed": 0, "limit": 0, "root": "", "download": False}
    ds = load_dataset(config, ROOT / "node_modules")
    assert ds.train_x.shape == (8000, 1, 28, 28) and ds.test_x.shape == (2000, 1, 28, 28)
    assert 0 <= ds.train_x.min() and ds.train_x.max() <= 1
    assert sorted(set(ds.test_y.tolist())) == list(range(10))
    assert ds.fingerprint() == load_dataset(config, ROOT / "node_modules").fingerprint()


def write_idx(path, images, labels, gz=False):
    opener = gzip.open if gz else open
    with opener(str(path[0]) + (".gz" if gz else ""), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(images), 28, 28) + images.tobytes())
    with opener(str(path[1]) + (".gz" if gz else ""), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(labels)) + labels.tobytes())


def make_raw(raw, n_train=30, n_test=10, gz=False):
    rng = np.random.default_rng(0)
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            (raw / f"{prefix}-images-idx3-ubyte", raw / f"{prefix}-labels-idx1-ubyte"),
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            (np.arange(n) % 10).astype(np.uint8),
            gz,
        )


@pytest.mark.parametrize("source,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_loader_reads_idx_files(tmp_path, monkeypatch, source, folder):
    monkeypatch.setattr(sources, "DEBIAN_FASHION", tmp_path / "no-debian-files")
    make_raw(tmp_path / folder / "raw")
    config = {"source": source, "root": str(tmp_path), "download": False, "test_fraction": 0.2, "seed": 0, "limit": 0}
    ds = load_dataset(config, ROOT / "node_modules")
    assert ds.train_x.shape == (30, 1, 28, 28) and ds.test_x.shape == (10, 1, 28, 28)
    assert ds.test_y.tolist() == list(range(10))
    assert len(ds.classes) == 10


def test_fashion_mnist_from_debians_gzipped_files(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    make_raw(debian, gz=True)
    monkeypatch.setattr(sources, "DEBIAN_FASHION", debian)
    config = {
        "source": "fashion-mnist",
        "root": str(tmp_path / "root"),
        "download": False,
        "test_fraction": 0.2,
        "seed": 0,
        "limit": 0,
    }
    ds = load_dataset(config, ROOT / "node_modules")
    assert ds.classes[0] == "T-shirt/top" and ds.train_x.shape[0] == 30


def test_missing_files_say_which_and_where(tmp_path):
    config = {"source": "mnist", "root": str(tmp_path), "download": False, "test_fraction": 0.2, "seed": 0, "limit": 0}
    with pytest.raises(DataError, match=r"Missing: train-images-idx3-ubyte.*Put the IDX files") as e:
        load_dataset(config, ROOT / "node_modules")
    assert str(tmp_path / "MNIST" / "raw") in str(e.value)
