"""Text as data: the source kind (files, documents, the split, the vocabulary, tokens), its bad input, and sequence models."""

import pytest

from layerwise.config import DEFAULTS
from layerwise.model.data import load_dataset
from layerwise.model.sources import DataError, describe_source, text

QUOTES = ["Café au lait, s'il vous plaît.", "Ein Apfel am Tag 🙂", "漢字 are characters.", "Plain words again."]


def text_data(root, **settings) -> dict:
    return {**DEFAULTS["data"], "source": "text", "root": str(root), **settings}


def fortune_file(path, documents: list[str]):
    path.write_text("\n%\n".join(documents) + "\n%\n", encoding="utf-8")
    return path


def test_tokens_are_code_points_not_utf16_units_or_bytes():
    vocabulary = list("aé🙂漢 ")
    assert text.tokenize("é🙂 漢a", vocabulary, None) == [1, 2, 4, 3, 0]
    assert text.tokenize("éz", vocabulary + ["\ufffd"], 5) == [1, 5]
    with pytest.raises(DataError, match="'z' is not in the vocabulary"):
        text.tokenize("z", vocabulary, None)


def test_fortunes_split_by_document_and_skip_indexes(tmp_path):
    documents = [f"Quote number {i}, {QUOTES[i % 4]}\n\t\t-- Someone {i}" for i in range(10)]
    fortune_file(tmp_path / "wisdom", documents)
    (tmp_path / "wisdom.dat").write_bytes(b"\x00\x02\xff\xfe")  # fortune's index: not text, skipped
    (tmp_path / "wisdom.u8").symlink_to(tmp_path / "wisdom")  # the same file again: read once
    source, (training, held_out, *_) = text.described(text_data(tmp_path, test_fraction=0.2))
    assert [f.name for f in source.files] == ["wisdom"]
    assert len(training) == 8 and len(held_out) == 2
    assert sorted(training + held_out) == sorted(d + "\n" for d in documents)  # each document in one split, whole
    info = source.text
    assert source.kind == "text" and source.shape == (64,) and source.classes == [] and info.task == "next-token"
    assert info.examples == [d.rstrip("\n") for d in held_out]  # the picker's texts are held out
    assert set(info.vocabulary) >= set("".join(training)) and "🙂" in info.vocabulary


def test_vocabulary_capped_from_the_training_split(tmp_path):
    fortune_file(tmp_path / "f", ["aaaa bbb cc d", "aaa bb c", "ab 漢", "a b c", "aa bb"])
    data = text_data(tmp_path / "f", test_fraction=0.2, vocabulary_size=3, context=4)
    source, (training, *_) = text.described(data)
    vocabulary, unknown = source.text.vocabulary, source.text.unknown
    assert len(vocabulary) == 3 and unknown == 2 and vocabulary[unknown] == "\ufffd"
    assert vocabulary[:2] == ["a", " "]  # the most frequent in training, most first
    dataset = load_dataset(data, None, source)
    assert dataset.train_x.dtype == dataset.train_y.dtype == __import__("torch").long
    assert (dataset.train_x[:, 1:] == dataset.train_y[:, :-1]).all()  # the next token at each position
    assert int(dataset.train_x.max()) == unknown and dataset.test_groups.shape == dataset.test_y.shape


def test_unknown_token_only_where_held_out_text_needs_it():
    assert text.vocabulary_of(["ab", "ba"], ["abba"], 0) == (["a", "b"], None)
    assert text.vocabulary_of(["ab", "ba"], ["abz"], 0) == (["a", "b", "\ufffd"], 2)


def test_classify_reads_a_file_or_a_folder_per_class(tmp_path):
    words = {"english": "house\nmouse\ncheese\n\n", "deutsch": "Haus\nMaus\nKäse\n", "中文": "房子\n老鼠\n奶酪\n"}
    for name, lines in words.items():
        (tmp_path / "files").mkdir(exist_ok=True)
        (tmp_path / "files" / f"{name}.txt").write_text(lines * 4, encoding="utf-8")
        (tmp_path / "folders" / name).mkdir(parents=True)
        (tmp_path / "folders" / name / "a.txt").write_text(lines * 2, encoding="utf-8")
        (tmp_path / "folders" / name / "b.txt").write_text(lines * 2, encoding="utf-8")
    for root in ("files", "folders"):
        data = text_data(tmp_path / root, task="classify", context=4, test_fraction=0.25)
        source = describe_source(data, None)
        assert sorted(source.classes) == sorted(words) and source.text.task == "classify"
        dataset = load_dataset(data, None, source)
        assert len(dataset.train_y) == 27 and len(dataset.test_y) == 9  # blank lines are not examples
        assert dataset.train_x.shape[1] == 4 and int(dataset.train_x.min()) == -1  # "房子" padded after
        assert all(len(e) <= 4 for e in source.text.examples)  # "cheese" as its last four characters


def one_line(error) -> str:
    assert "\n" not in str(error.value)
    return str(error.value)


def test_bad_text_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("\n  \n")
    with pytest.raises(DataError) as e:
        describe_source(text_data(tmp_path / "empty"), None)
    assert one_line(e).startswith(f"{tmp_path / 'empty' / 'a.txt'}: the file is empty")
    (tmp_path / "latin1.txt").write_bytes("first line\nna\xefve\n".encode("latin-1"))
    with pytest.raises(DataError) as e:
        describe_source(text_data(tmp_path / "latin1.txt"), None)
    assert "latin1.txt: not UTF-8 text (line 2, byte 13)" in one_line(e)
    (tmp_path / "classes" / "yes").mkdir(parents=True)
    (tmp_path / "classes" / "no").mkdir()
    (tmp_path / "classes" / "yes" / "y.txt").write_text("oui\nja\n")
    (tmp_path / "classes" / "no" / "README.dat").write_text("an index, not examples\n")
    with pytest.raises(DataError) as e:
        describe_source(text_data(tmp_path / "classes", task="classify"), None)
    assert "class 'no' has no examples" in one_line(e)
