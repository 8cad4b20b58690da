"""The errors a user can fix, and the machine's problems (a full disk, a read-only folder) said as theirs."""

import difflib
import errno
from collections.abc import Iterable
from pathlib import Path


class BuildError(Exception):
    """A mistake the user can fix (config, content, data): printed as one line, no traceback."""


class ContentError(BuildError):
    """An author's mistake, located: str() is 'content/FILE.md:LINE: what is wrong; what to do'
    (or the line of a file the article names, such as a playground's CSV)."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")


def did_you_mean(given: str, known: Iterable[str]) -> str:
    """'; did you mean NAME?' when one of `known` is close to a misspelt `given`, else ''."""
    close = difflib.get_close_matches(str(given), [str(k) for k in known], n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


# What to do about a folder the build cannot write; other OSErrors are Layerwise's own bugs.
CANNOT_WRITE = {
    errno.ENOSPC: "free some space on its disk, or choose another folder",
    errno.EDQUOT: "free some space (the disk quota is used up), or choose another folder",
    errno.EROFS: "it is on a read-only disk: choose another folder",
    errno.EACCES: "make it writable (chmod u+w), or choose another folder",
    errno.EPERM: "make it writable (chmod u+w), or choose another folder",
    errno.ENOTDIR: "a file is in the way of that folder: move it, or choose another folder",
    errno.EEXIST: "a file is in the way of that folder: move it, or choose another folder",
}


def cannot_write(error: OSError, folder: Path | str, renamed: tuple[Path, Path] | None = None) -> BuildError:
    """`error` as one line naming `folder` (and the file, where the system says which) and what
    to do. `renamed` = (a temporary folder, the one it stands for): a file in it is named where
    it would have been."""
    file = error.filename2 or error.filename  # a copy's or a rename's target, else the one file
    if file and renamed and Path(file).is_relative_to(renamed[0]):
        file = renamed[1] / Path(file).relative_to(renamed[0])
    where = f" ({file})" if file and Path(file) != Path(folder) else ""
    advice = CANNOT_WRITE.get(error.errno, "choose another folder")
    return BuildError(f"cannot write to {folder}/{where}: {error.strerror}; {advice}")
