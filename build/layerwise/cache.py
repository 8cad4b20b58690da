"""Content-hashed artifacts, written atomically, checked when read, one build at a time.

An entry's key hashes everything its result depends on: the data, the settings, and the source
code of the modules that compute it. Entries are written to a temporary file and renamed into
place, and carry a SHA-256 of their bytes: a damaged entry (a disk error, a truncated copy) is
reported in one line, removed and recomputed. A lock file makes a second build wait for the
first instead of training the same models twice; the build holding it sweeps up what killed
builds left behind.
"""

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import pickle
import re
import sys
import tempfile
from pathlib import Path

MAGIC = b"layerwise-cache-1\n"


def file_hash(*paths, root: Path | None = None) -> str:
    """SHA-256 of the files' bytes and names: relative to `root` (a folder dataset's class is its
    folder), else the bare name. Never the whole path: a moved or re-cloned checkout keeps its keys."""
    h = hashlib.sha256()
    for path in map(Path, paths):
        h.update((path.relative_to(root).as_posix() if root else path.name).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


PACKAGE = Path(__file__).parent  # build/layerwise: the code that cache keys cover


@functools.cache  # the package's files do not come and go during a build
def module_file(parts: tuple[str, ...], package: Path) -> Path | None:
    """The file of the package module named by `parts` (relative to the package), if any."""
    for candidate in (package.joinpath(*parts).with_suffix(".py"), package.joinpath(*parts, "__init__.py")):
        if parts and candidate.is_file():
            return candidate
    return None


# `from .x import a, b`, `from .. import (a,\n b)`, `import layerwise.x`, anywhere in a file (lazy
# imports inside functions too). Read as text, never imported: a key is computed without torch,
# and a regular expression reads the package in a few milliseconds where `ast` took 0.2 s.
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.+|\.*[\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.M)
PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#]+)", re.M)


def stamp(path: Path) -> tuple[int, int]:
    """What changes when a file is edited: a file is read again only then (a build's many keys,
    serve's rebuilds)."""
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def imported_files(path: Path, package: Path) -> frozenset[Path]:
    """The package's files that `path` imports, with the packages' __init__ files an import runs."""
    return imports_of(path, package, stamp(path))


@functools.cache
def imports_of(path: Path, package: Path, stamp: tuple[int, int]) -> frozenset[Path]:
    here = path.relative_to(package).parent.parts  # the importing module's package
    text = path.read_text()
    names: list[tuple[str, ...]] = []
    for source, imported in FROM_IMPORT.findall(text):
        dots = len(source) - len(source.lstrip("."))
        module = tuple(part for part in source.lstrip(".").split(".") if part)
        if dots:
            base = here[: len(here) - (dots - 1)] + module
        elif module[:1] == (package.name,):
            base = module[1:]
        else:
            continue
        aliases = [a.split(" as ")[0].strip() for a in imported.strip("()").split(",")]
        names += [base, *(base + (a,) for a in aliases if a)]
    for imported in PLAIN_IMPORT.findall(text):
        for alias in imported.split(","):
            parts = tuple(alias.split(" as ")[0].strip().split("."))
            if parts[0] == package.name:
                names.append(parts[1:])
    files = set()
    for parts in names:
        for end in range(1, len(parts) + 1):  # importing a.b runs a/__init__.py first
            if found := module_file(parts[:end], package):
                files.add(found)
    return frozenset(files)


@functools.cache
def digest(path: Path, stamp: tuple[int, int]) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def code_closure(*modules: str, package: Path = PACKAGE) -> list[Path]:
    """The files of `modules` ("train", "analysis.manifold") and of every package module they
    import, directly or not: the code a stage runs, computed rather than listed by hand."""
    todo = []
    for name in modules:
        parts = tuple(name.split("."))
        if module_file(parts, package) is None:
            raise ValueError(f"no module {name!r} in {package}")
        todo += [found for end in range(1, len(parts) + 1) if (found := module_file(parts[:end], package))]
    seen = {package / "__init__.py"}
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += imported_files(path, package) - seen
    return sorted(seen)


# (modules, package) -> (each file of their closure with its stamp, the hash): a build asks for
# the same code's hash many times (each article's stages, each figure), and a file's stamp is
# all an unchanged closure needs checking (walking it again was a tenth of a content-only rebuild).
CODE_HASHES: dict = {}


def code_hash(*modules, package: Path = PACKAGE) -> str:
    """SHA-256 of the code `modules` run (names or imported modules): every file of their import
    closure, by its name relative to the package and its bytes, so a checkout's folder is not in it."""
    names = tuple(m if isinstance(m, str) else m.__name__.removeprefix(f"{package.name}.") for m in modules)
    remembered = CODE_HASHES.get((names, package))
    if remembered and all(stamp(path) == stamped for path, stamped in remembered[0]):
        return remembered[1]
    stamped_files = [(path, stamp(path)) for path in code_closure(*names, package=package)]
    h = hashlib.sha256()
    for path, stamped in stamped_files:
        h.update(path.relative_to(package).as_posix().encode())
        h.update(digest(path, stamped))
    CODE_HASHES[(names, package)] = (stamped_files, h.hexdigest())
    return h.hexdigest()


def cache_key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class Cache:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.hits: list[str] = []
        self.misses: list[str] = []

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / f"{key}.pickle"

    def has(self, stage: str, key: str) -> bool:
        return self.path(stage, key).exists()

    def load(self, path: Path):
        """The entry's value, or None (after removing it) when it is damaged."""
        blob = path.read_bytes()
        digest, payload = blob[len(MAGIC) : len(MAGIC) + 32], blob[len(MAGIC) + 32 :]
        try:
            if not blob.startswith(MAGIC) or hashlib.sha256(payload).digest() != digest:
                raise ValueError("checksum mismatch")
            return (pickle.loads(payload),)
        except Exception as e:  # unpickling a damaged entry can raise almost anything
            warn(f"cache entry {path} is damaged ({type(e).__name__}: {e}); removed, recomputing it")
            path.unlink(missing_ok=True)
            return None

    def get_or_compute(self, stage: str, key: str, compute):
        """The stored result for (stage, key), or compute() stored and returned."""
        path = self.path(stage, key)
        if path.exists():
            stored = self.load(path)
            if stored is not None:
                self.hits.append(stage)
                return stored[0]
        self.misses.append(stage)
        result = compute()
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write_bytes(path, MAGIC + hashlib.sha256(payload).digest() + payload)
        return result

    def sweep(self) -> None:
        """Remove half-written entries (a process killed mid-write leaves its temporary file)."""
        for leftover in self.root.rglob("*.tmp"):
            leftover.unlink(missing_ok=True)

    @contextlib.contextmanager
    def locked(self):
        """Hold the cache for one build: a second build waits here, then finds the first's work."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "another process"
                print(
                    f"another layerwise build ({holder}) is using {self.root}; waiting for it to finish",
                    file=sys.stderr,
                )
                fcntl.flock(lock, fcntl.LOCK_EX)
            lock.seek(0)
            lock.truncate()
            lock.write(f"pid {os.getpid()}")
            lock.flush()
            self.sweep()  # from builds killed mid-write
            try:
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
