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
import hashlib
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path

MAGIC = b"layerwise-cache-1\n"


def file_hash(*paths) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path).encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def code_hash(*modules) -> str:
    return file_hash(*(module.__file__ for module in modules))


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
            for leftover in self.root.rglob("*.tmp"):  # from builds killed mid-write
                leftover.unlink(missing_ok=True)
            try:
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
