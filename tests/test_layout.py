"""The package's folders are its halves, and imports point one way: tools -> page -> model -> shared."""

from layerwise.cache import PACKAGE, imported_files

# What each folder may import, besides itself and the shared modules at the package's top.
MAY_IMPORT = {"model": set(), "page": {"model"}, "tools": {"model", "page"}, "": set()}


def half(path) -> str:
    """The folder a package file belongs to ("model", "page", "tools"), or "" for the shared top."""
    parts = path.relative_to(PACKAGE).parts
    if parts == ("__main__.py",):
        return "tools"  # `python -m layerwise` runs the command line
    return parts[0] if len(parts) > 1 else ""


def test_imports_point_one_way():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = half(path)
        for imported in imported_files(path, PACKAGE):
            there = half(imported)
            if there and there != here and there not in MAY_IMPORT[here]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {imported.relative_to(PACKAGE)}")
    assert not wrong, wrong
    assert {half(p) for p in PACKAGE.rglob("*.py")} == set(MAY_IMPORT)  # every folder is one of them


def test_every_module_says_its_purpose_first():
    silent = [
        p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py") if not p.read_text().lstrip().startswith(('"""', "#"))
    ]
    assert not silent, silent
