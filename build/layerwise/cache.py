"""Content-hashed artifacts, written atomically.

An entry's key hashes everything its result depends on: the data, the settings, and the source
code of the modules that compute it. Entries are written to a temporary file and renamed into
place, so an interrupted build never leaves an entry that loads wrong.
"""

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path


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


class Cache:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.hits: list[str] = []
        self.misses: list[str] = []

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / f"{key}.pickle"

    def get_or_compute(self, stage: str, key: str, compute):
        """The stored result for (stage, key), or compute() stored and returned."""
        path = self.path(stage, key)
        if path.exists():
            self.hits.append(stage)
            return pickle.loads(path.read_bytes())
        self.misses.append(stage)
        result = compute()
        atomic_write_bytes(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        return result
