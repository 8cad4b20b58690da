"""The text source: characters (Unicode code points) as tokens, for next-token prediction or classification.

next-token: one text file or a folder of them, cut into documents (a fortune file's are separated
by lines holding only "%"; other text's by blank lines) and split into training and held-out
documents, so no held-out quotation was half seen. classify: a folder whose sub-folders are the
classes (each line of their files an example) or whose files are (one example a line). The
vocabulary comes from the training split alone; `tokenize` is what the page mirrors exactly.
"""

import re
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np

from ..result import TextInfo
from . import MAX_CLASSES, MIN_CLASSES, DataError, Source, every_nth, held_out_limit, stratified_split

NAMES = {"text": "text"}
SKIPPED_SUFFIXES = (".dat",)  # fortune's index files: binary offsets, not text
UNKNOWN = "\ufffd"  # the unknown token's character: Unicode's replacement character
EXAMPLES = 30  # held-out texts offered by the page's picker
FORTUNE_SEPARATOR = re.compile(r"^%\n", re.MULTILINE)
PARAGRAPHS = re.compile(r"\n\s*\n")
NON_BLANK_LINE = re.compile(r"^[^\S\n]*(\S[^\n]*)", re.MULTILINE)  # its text from the first non-space


def tokenize(text: str, vocabulary: list[str], unknown: int | None) -> list[int]:
    """Each code point of `text` as its index in `vocabulary`; one not there as `unknown`."""
    index = {character: i for i, character in enumerate(vocabulary)}
    if unknown is None:
        missing = next((c for c in text if c not in index), None)
        if missing is not None:
            raise DataError(f"character {missing!r} is not in the vocabulary, which has no unknown token")
        return [index[c] for c in text]
    return [index.get(c, unknown) for c in text]


# --- reading files ---------------------------------------------------------------------------


def text_files(root: Path) -> list[Path]:
    """The file at root, or every text file under the folder: hidden files and fortune's .dat
    indexes left out, symbolic links followed, a file reached twice (fortune's NAME.u8 -> NAME) read once."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise DataError(f"data.root = '{root}' does not exist; for data.source = 'text' give a text file or folder")
    files, seen = [], set()
    for path in sorted(root.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(root).parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        if path.is_symlink() and not path.exists():
            raise DataError(
                f"{path} links to {path.readlink()}, which does not exist: install it (the README's apt-get "
                "line) or remove the link"
            )
        if path.is_file() and path.resolve() not in seen:
            seen.add(path.resolve())
            files.append(path)
    return files


def read_text(path: Path) -> str:
    """A file's text; a file that is not UTF-8 or has no text is one line naming it (and where)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1  # where an editor shows it: the line, the character in it
        column = len(raw[raw.rfind(b"\n", 0, e.start) + 1 : e.start].decode("utf-8")) + 1
        raise DataError(
            f"{path}:{line}: not UTF-8 text (character {column}: byte 0x{raw[e.start]:02x}); "
            "save it as UTF-8 or leave it out of data.root"
        ) from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty; add text or leave it out of data.root")
    return text.replace("\r\n", "\n")


def documents(text: str) -> list[str]:
    """A file's documents, each ending in one newline: fortune's "%" lines separate them where
    the file has them, else blank lines do."""
    parts = FORTUNE_SEPARATOR.split(text) if FORTUNE_SEPARATOR.search(text) else PARAGRAPHS.split(text)
    return [part.strip("\n") + "\n" for part in parts if part.strip()]


def lines_of(path: Path) -> list[str]:
    """A file's non-blank lines, unstripped (stripping a word list's million lines waits for the
    few data.limit keeps: examples_and_labels)."""
    return NON_BLANK_LINE.findall(read_text(path))


def class_files(root: Path) -> dict[str, list[Path]]:
    """classify: {class: its files}: a sub-folder per class (every file in it), else a file per class."""
    if not root.is_dir():
        raise DataError(
            f"data.root = '{root}' is not a folder; for data.task = 'classify' put a file (one example a "
            "line) or a sub-folder of files per class there"
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if folders:
        classes = {f.name: text_files(f) for f in folders}
    else:
        classes = {path.stem: [path] for path in text_files(root)}
    if not MIN_CLASSES <= len(classes) <= MAX_CLASSES:
        raise DataError(
            f"data.root = '{root}' has {len(classes)} class{'' if len(classes) == 1 else 'es'}; Layerwise "
            f"classifies {MIN_CLASSES} to {MAX_CLASSES}: a sub-folder or file per class"
        )
    return classes


def class_examples(root: Path) -> dict[str, list[str]]:
    """classify: {class: its examples, a line each}; a class without any is one line naming it."""
    classes = {name: [line for path in files for line in lines_of(path)] for name, files in class_files(root).items()}
    for name, examples in classes.items():
        if not examples:
            raise DataError(f"{root / name}: class '{name}' has no examples; add lines of text or remove it")
    return classes


# --- the split and the vocabulary -----------------------------------------------------------


def split_documents(texts: list[str], data: dict) -> tuple[list[str], list[str]]:
    """(training, held-out) documents: data.test_fraction of them held out, chosen by data.seed."""
    if len(texts) < 2:
        raise DataError(
            f"data.root = '{data['root']}' holds {len(texts)} document; next-token needs at least two (one held "
            'out): separate them by blank lines or lines holding only "%"'
        )
    order = np.random.default_rng(data["seed"]).permutation(len(texts))
    n_test = min(len(texts) - 1, max(1, round(len(texts) * data["test_fraction"])))
    held_out = set(order[:n_test].tolist())
    return [t for i, t in enumerate(texts) if i not in held_out], [t for i, t in enumerate(texts) if i in held_out]


def vocabulary_of(training: list[str], held_out: list[str], size: int) -> tuple[list[str], int | None]:
    """(vocabulary, unknown): the training text's characters, most frequent first; capped at
    `size` (the size - 1 most frequent and an unknown token) when it has more; an unknown token
    too where held-out text has a character training never had."""
    counts = Counter("".join(training))
    counts.pop(UNKNOWN, None)
    characters = sorted(counts, key=lambda c: (-counts[c], c))
    if size and len(characters) > size:
        characters = characters[: size - 1]
    elif not (set("".join(held_out)) - set(characters)):
        return characters, None
    return [*characters, UNKNOWN], len(characters)


def last_tokens(text: str, context: int) -> str:
    """What a model reads of a text: its last `context` code points (as the page truncates)."""
    return "".join(list(text)[-context:])


# --- the Kind protocol ---------------------------------------------------------------------


def examples_and_labels(data: dict) -> tuple[list[str], list[str], np.ndarray, np.ndarray, list[str]]:
    """(training texts, held-out texts, their labels, classes): documents (next-token, labels
    empty) or examples (classify, a stratified split)."""
    root = Path(data["root"])
    if data["task"] == "next-token":
        texts = [doc for path in text_files(root) for doc in documents(read_text(path))]
        training, held_out = split_documents(texts, data)
        return training, held_out, np.zeros(0, int), np.zeros(0, int), []
    by_class = class_examples(root)
    texts = [line for lines in by_class.values() for line in lines]
    labels = np.repeat(np.arange(len(by_class)), [len(lines) for lines in by_class.values()])
    train, test = stratified_split(labels, data["test_fraction"], data["seed"])
    if data["limit"]:  # as load_dataset keeps them: only these are read, and the vocabulary is theirs
        train, test = train[every_nth(len(train), data["limit"])], test[every_nth(len(test), held_out_limit(data))]
    training, held_out = [texts[i].strip() for i in train], [texts[i].strip() for i in test]
    return training, held_out, labels[train], labels[test], list(by_class)


def picked_examples(held_out: list[str], context: int, labels: np.ndarray) -> list[str]:
    """About EXAMPLES held-out texts: whole ones that fit the context where there are enough, else
    each one's last `context` characters; each class in turn where they have classes (a class's
    in a seeded shuffle: its first ones of a sorted word list are "'s-Hertogenbosch" and
    "0-jarigen"), else evenly spread."""
    texts = [t.rstrip("\n") for t in held_out]
    fitting = [i for i, t in enumerate(texts) if len(t) <= context]
    chosen = fitting if len(fitting) >= EXAMPLES else list(range(len(texts)))
    if len(labels):
        rank = np.zeros(len(labels), int)  # each example's place among its class's
        for c in np.unique(labels):
            rank[labels == c] = np.random.default_rng(int(c)).permutation((labels == c).sum())
        chosen = sorted(chosen, key=lambda i: (rank[i], labels[i]))[:EXAMPLES]
    else:
        spread = np.linspace(0, len(chosen) - 1, min(EXAMPLES, len(chosen))).round().astype(int)
        chosen = [chosen[k] for k in dict.fromkeys(spread.tolist())]
    return [last_tokens(texts[i], context) for i in chosen]


READ: dict = {}  # (settings, files' stamps) -> (TextInfo, split): a serve's rebuild reads no text again


def read(data: dict) -> tuple[TextInfo, tuple]:
    """(how the page reads text: the vocabulary and the picker's examples; the split), from every
    file, read once per change of the files or the settings."""
    files = text_files(Path(data["root"]))
    stamp = (
        tuple(sorted((k, str(v)) for k, v in data.items())),
        tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files),
    )
    if stamp not in READ:
        split = examples_and_labels(data)
        training, held_out, _, test_labels, _ = split
        vocabulary, unknown = vocabulary_of(training, held_out, data["vocabulary_size"])
        examples = picked_examples(held_out, data["context"], test_labels)
        READ[stamp] = (TextInfo(data["task"], vocabulary, unknown, data["context"], examples), split)
    return READ[stamp]


def text_info(data: dict) -> TextInfo:
    return read(data)[0]


def describe(data: dict, node_modules) -> Source:
    """The files, the classes (their files' or folders' names) and the shape, from names alone; the
    text is read when the source's `text` is first asked for."""
    root = Path(data["root"])
    if data["vocabulary_size"] == 1:
        raise DataError("data.vocabulary_size = 1 leaves only the unknown token; use 0 (every character) or 2 or more")
    if data["task"] == "classify":
        by_class = class_files(root)
        for name, paths in by_class.items():
            if not paths:
                raise DataError(
                    f"{root / name}: class '{name}' has no examples (no text file in it); "
                    "add a file of lines or remove the folder"
                )
        files, classes = [f for paths in by_class.values() for f in paths], list(by_class)
    else:
        files, classes = text_files(root), []
    for path in files:  # what the names and sizes tell, so `layerwise check` says it too (the rest when read)
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty; add text or leave it out of data.root")
    classes = [str(c) for c in data.get("classes") or classes]
    noun = data.get("noun") or ("quotation" if data["task"] == "next-token" else "example")
    reader = partial(text_info, dict(data))
    return Source(
        root.stem or "text", (data["context"],), classes, noun, "", files, kind="text", task=data["task"], reader=reader
    )


def described(data: dict) -> tuple[Source, tuple]:
    """The source, its text read, and its split (for tests and load)."""
    source = describe(data, None)
    return source, read(data)[1] if source.text else None


def converted(source: Source, data: dict) -> Source:
    """Text has no size or channels to convert: its settings were read by `describe`."""
    return source


def labels(source: Source, data: dict) -> None:
    return None  # the analysis's sample sizes are about images


def windows(texts: list[str], info: TextInfo):
    """next-token examples: the documents one after another, cut into windows of `context`
    tokens (N, T), the next token at each position (N, T), and the document of each of those."""
    import torch

    tokens = [tokenize(text, info.vocabulary, info.unknown) for text in texts]
    stream = torch.tensor([t for doc in tokens for t in doc], dtype=torch.long)  # (L,)
    document = torch.repeat_interleave(torch.arange(len(tokens)), torch.tensor([len(doc) for doc in tokens]))  # (L,)
    T = info.context
    n = (len(stream) - 1) // T
    x = stream[: n * T].view(n, T)  # (N, T)
    y = stream[1 : n * T + 1].view(n, T)  # (N, T)
    return x, y, document[1 : n * T + 1].view(n, T)


def padded(texts: list[str], info: TextInfo):
    """classify examples: each text's last `context` tokens (N, T), right-padded with -1, which
    no model reads: examples of one length are batched together and cut to it (train.batches_of)."""
    import torch

    rows = [tokenize(last_tokens(text, info.context), info.vocabulary, info.unknown) for text in texts]
    x = torch.full((len(rows), info.context), -1, dtype=torch.long)  # (N, T)
    for i, row in enumerate(rows):
        x[i, : len(row)] = torch.tensor(row)
    return x


def load(source: Source, data: dict, node_modules) -> tuple:
    import torch

    training, held_out, train_labels, test_labels, _ = read(data)[1]
    if source.text.task == "next-token":
        train_x, train_y, _ = windows(training, source.text)
        test_x, test_y, test_documents = windows(held_out, source.text)
        if len(train_x) == 0 or len(test_x) == 0:
            raise DataError(
                f"data.root = '{data['root']}': too little text for one window of data.context = "
                f"{data['context']} tokens in each split; add text or lower data.context"
            )
        return train_x, train_y, test_x, test_y, test_documents
    labels = torch.from_numpy(train_labels).long(), torch.from_numpy(test_labels).long()
    return padded(training, source.text), labels[0], padded(held_out, source.text), labels[1]
