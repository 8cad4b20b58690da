"""Text as data: the source kind (files, documents, split, vocabulary, tokens), its bad input, sequence models."""

import pytest
import torch

from conftest import ROOT, toml_text
from layerwise.config import DEFAULTS, ModelSpecError
from layerwise.model import train
from layerwise.model.data import load_dataset
from layerwise.model.export import export_onnx, weights_from_onnx
from layerwise.model.models import network_from_layers
from layerwise.model.result import TextInfo
from layerwise.model.sequence import transformer_lines
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
    assert dataset.train_x.dtype == dataset.train_y.dtype == torch.long
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
    source = describe_source(text_data(tmp_path / "empty"), None)  # names only: a rebuild reads no text
    assert source.files == [tmp_path / "empty" / "a.txt"]
    with pytest.raises(DataError) as e:
        source.text  # noqa: B018 (read when the pipeline plans its models, before training)
    assert one_line(e).startswith(f"{tmp_path / 'empty' / 'a.txt'}: the file is empty")
    (tmp_path / "latin1.txt").write_bytes("first line\nna\xefve\n".encode("latin-1"))
    with pytest.raises(DataError) as e:
        describe_source(text_data(tmp_path / "latin1.txt"), None).text  # noqa: B018
    assert "latin1.txt:2: not UTF-8 text (character 3: byte 0xef)" in one_line(e)
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "klingon").symlink_to(tmp_path / "not-installed")
    with pytest.raises(DataError) as e:
        describe_source(text_data(tmp_path / "links", task="classify"), None)
    assert one_line(e).startswith(
        f"{tmp_path / 'links' / 'klingon'} links to {tmp_path / 'not-installed'}, which does not exist"
    )
    (tmp_path / "classes" / "yes").mkdir(parents=True)
    (tmp_path / "classes" / "no").mkdir()
    (tmp_path / "classes" / "yes" / "y.txt").write_text("oui\nja\n")
    (tmp_path / "classes" / "no" / "README.dat").write_text("an index, not examples\n")
    with pytest.raises(DataError) as e:
        describe_source(text_data(tmp_path / "classes", task="classify"), None).text  # noqa: B018
    assert "class 'no' has no examples" in one_line(e)


def test_layerwise_check_finds_an_empty_file_or_class_from_names_and_sizes(tmp_path):
    (tmp_path / "yes").mkdir()
    (tmp_path / "no").mkdir()
    (tmp_path / "yes" / "y.txt").write_text("oui\nja\n")
    with pytest.raises(DataError) as e:  # describe reads no text: this is what `check` sees
        describe_source(text_data(tmp_path, task="classify"), None)
    assert one_line(e).startswith(f"{tmp_path / 'no'}: class 'no' has no examples")
    (tmp_path / "no" / "n.txt").write_text("")
    with pytest.raises(DataError) as e:
        describe_source(text_data(tmp_path, task="classify"), None)
    assert one_line(e).startswith(f"{tmp_path / 'no' / 'n.txt'}: the file is empty")


# --- sequence models ---------------------------------------------------------------------------

NEXT_TOKEN = TextInfo("next-token", list("abcdefgh é🙂漢"), None, 24, [])
TINY_TRANSFORMER = transformer_lines(blocks=2, heads=2, width=16)


def test_a_transformer_reads_like_its_diagram_and_sees_only_the_past():
    network = network_from_layers(TINY_TRANSFORMER, (24,), 0, "transformer", NEXT_TOKEN)
    assert network.layer_names == [
        "embed", "position", "block1.attention.probabilities", "block1", "block1.lens",
        "block2.attention.probabilities", "block2", "block2.lens", "norm", "output",
    ]  # fmt: skip
    types = {name: network.layer_type(name) for name in network.layer_names}
    assert types["block1.attention.probabilities"] == "Attention" and types["block2.lens"] == "Lens"
    tokens = torch.tensor([text.tokenize("abcd é🙂漢 hgf", NEXT_TOKEN.vocabulary, None)])  # (1, 12)
    changed = tokens.clone()
    changed[0, 8:] = 0  # the last four characters differ
    with torch.no_grad():
        before, after = network.eval().outputs(tokens), network.outputs(changed)
    assert before["output"].shape == (1, 12, len(NEXT_TOKEN.vocabulary))
    assert torch.equal(before["output"][:, :8], after["output"][:, :8])  # causal: earlier positions unmoved
    assert not torch.equal(before["output"][:, 8:], after["output"][:, 8:])
    weights = before["block1.attention.probabilities"]  # (1, H, T, T)
    assert weights.shape == (1, 2, 12, 12) and torch.allclose(weights.sum(-1), torch.ones(1, 2, 12))
    assert (weights.triu(1) == 0).all()  # no position attends to a later one
    assert torch.allclose(before["block2.lens"], before["output"])  # the last block's lens is the model's reading


CLASSIFY = TextInfo("classify", NEXT_TOKEN.vocabulary, None, 24, [])
GRU_CLASSIFIER = ["embed: Embedding(auto, 8)", "gru: GRU(auto, 12)", "last: Pool('last')", "out: Linear(auto, classes)"]
LSTM_CLASSIFIER = [
    "embed: Embedding(auto, 8)",
    "lstm: LSTM(auto, 12)",
    "last: Pool('last')",
    "out: Linear(auto, classes)",
]
ATTENDING_CLASSIFIER = [
    "embed: Embedding(auto, 16)",
    "position: PositionalEmbedding(context, 16)",
    "block: TransformerBlock(16, heads=2, causal=False)",
    "pool: Pool('mean')",
    "out: Linear(auto, classes)",
]


@pytest.mark.parametrize(
    "lines, info",
    [
        (TINY_TRANSFORMER, NEXT_TOKEN),
        (GRU_CLASSIFIER, CLASSIFY),
        (LSTM_CLASSIFIER, CLASSIFY),
        (ATTENDING_CLASSIFIER, CLASSIFY),
    ],
)
def test_export_runs_every_layer_in_onnxruntime_at_any_length(lines, info):
    import onnxruntime

    network = network_from_layers(lines, (24,), 3, "model", info)
    onnx_bytes = export_onnx(network, (24,))
    session = onnxruntime.InferenceSession(onnx_bytes)
    again = network_from_layers(lines, (24,), 3, "model", info)  # initialised afresh
    again.load_weights(weights_from_onnx(again.module, onnx_bytes))  # as the bench and the page's tests read them
    assert all(
        torch.equal(a, b) for a, b in zip(again.module.state_dict().values(), network.module.state_dict().values())
    )
    assert [i.name for i in session.get_inputs()] == ["tokens"]
    assert [o.name for o in session.get_outputs()] == network.layer_names
    generator = torch.Generator().manual_seed(0)
    for length in (24, 17, 1):
        tokens = torch.randint(0, len(info.vocabulary), (3, length), generator=generator)  # (N, T)
        with torch.no_grad():
            expected = network.eval().outputs(tokens)
        for name, got in zip(network.layer_names, session.run(None, {"tokens": tokens.numpy()})):
            assert got.shape == tuple(expected[name].shape), name
            assert abs(got - expected[name].numpy()).max() <= 1e-5, f"{name} at length {length}"


@pytest.mark.parametrize(
    "lines, message",
    [
        (["flat: Linear(24, 8)", "out: Linear(8, vocabulary)"], "first layer is a Linear, which does not take tokens"),
        (["embed: Embedding(auto, 8)", "out: Linear(auto, 5)"], "end with Linear(auto, vocabulary)"),
    ],
)
def test_a_model_that_cannot_read_or_predict_text_is_one_line(lines, message):
    with pytest.raises(ModelSpecError) as e:
        network_from_layers(lines, (24,), 0, "bad", NEXT_TOKEN)
    assert message in one_line(e) and one_line(e).startswith("models.bad")


@pytest.mark.parametrize("cell", ["GRU", "LSTM"])  # the LSTM is not in the languages ladder: its build stays as it is
def test_a_classifier_of_words_trains_on_texts_of_every_length(tmp_path, cell):
    for name, words in {"en": "house mouse cheese tree water", "de": "Haus Maus Käse Baum Wasser"}.items():
        (tmp_path / f"{name}.txt").write_text("\n".join(words.split() * 6), encoding="utf-8")
    data = text_data(tmp_path, task="classify", context=8, test_fraction=0.2)
    source = describe_source(data, None)
    dataset = load_dataset(data, None, source)
    lines = ["embed: Embedding(auto, 8)", f"cell: {cell}(auto, 16)", "pool: Pool('last')", "out: Linear(auto, classes)"]
    network = network_from_layers(lines, source.shape, 2, "cell", source.text)
    settings = {**DEFAULTS["train"], "epochs": 3, "batch_size": 4, "device": "cpu", "learning_rate": 0.02}
    result = train.train_model(network, dataset, settings)
    assert result["epochs"][-1]["loss"] < result["epochs"][0]["loss"]
    assert result["epochs"][-1]["accuracy"] == 1.0  # every held-out word was also a training word


def test_the_pipeline_runs_the_stages_text_has_and_says_why_not_the_others(tmp_path):
    import json

    import numpy as np

    from layerwise import contract
    from layerwise.cache import Cache
    from layerwise.config import load_config, merge, validated
    from layerwise.model.pipeline import STAGES, run_pipeline

    quotes = [f"{QUOTES[i % 4]} Number {i} of {'many ' * (i % 3)}sayings.\n\t\t-- Author {i % 5}" for i in range(40)]
    fortune_file(tmp_path / "sayings", quotes)
    model = {"title": "Tiny", "layers": TINY_TRANSFORMER}
    settings = {
        "data": {"source": "text", "root": str(tmp_path / "sayings"), "context": 24},
        "train": {"epochs": 1, "seeds": 1, "batch_size": 8},
        "record": {"model": "tiny"},
        "cache": str(tmp_path / "cache"),
    }
    config = merge(load_config(), settings)
    config["models"] = {"tiny": model}
    specs = validated(config)
    result = run_pipeline(config, specs, Cache(config["cache"]))
    info, metrics = result.dataset.text, result.models["tiny"].metrics
    assert result.dataset.shape == (24,) and result.dataset.classes == [] and info.task == "next-token"
    assert 0 < metrics["bits_per_char"].interval[0] <= metrics["bits_per_char"] <= metrics["bits_per_char"].interval[1]
    assert metrics["bigram_bits_per_char"] > 0 and metrics["documents"] == 8  # a fifth of 40 held out
    assert metrics["lens_bits"]["block2.lens"] == pytest.approx(metrics["bits_per_char"])  # the last lens is the model
    heads = metrics["attention"]["block1.attention.probabilities"]
    assert [h["head"] for h in heads] == [1, 2] and all(0 <= h["previous"] <= 1 for h in heads)
    assert heads[0]["even_distance"] == pytest.approx((24 - 1) / 4)  # causal: query i sees i + 1 keys
    assert {layer.type for layer in result.models["tiny"].layers} >= {"Attention", "Lens", "TransformerBlock"}
    assert result.models["tiny"].no_gradients == STAGES["gradients"].why_not
    assert result.tour["not_recorded"] == STAGES["record"].why_not and result.manifold == {"layers": {}}
    # Instead of the tour, how it changed: every snapshot on the held-out windows (all of them, here: < 128).
    history = result.tour["history"]
    snapshots, T = len(history["epochs"]), len(history["sentence"])
    assert history["windows"] == result.dataset.n_test and history["bits"][-1] == pytest.approx(
        float(metrics["bits_per_char"]), abs=1e-4
    )  # the last snapshot is the trained model
    assert history["bits"][0] > history["bits"][-1] and history["sentence"] == info.examples[0][:T] and T > 1
    maps = np.frombuffer(result.files[contract.site_path("history_attention", model="tiny")], np.uint8)
    assert [a["heads"] for a in history["attention"]] == [2, 2] and maps.size == snapshots * 2 * 2 * T * T
    rows = maps.reshape(snapshots, 2, 2, T, T).astype(int).sum(-1)  # each query's probabilities, in 1/255
    assert (abs(rows - 255) <= T).all() and (np.triu(maps.reshape(-1, T, T)[-1], 1) == 0).all()  # causal
    assert [lens["name"] for lens in history["lens"]] == ["block1.lens", "block2.lens", "output"]
    assert all(len(lens["predicted"]) == snapshots and len(lens["predicted"][-1]) == T for lens in history["lens"])
    files = set(result.files)
    assert contract.site_path("model", model="tiny") in files and not any(
        f.startswith(("units/", "tour/")) for f in files
    )
    page = json.loads(contract.page_contract(result, "."))
    assert page["input"] == "tokens" and page["text"]["vocabulary"] == info.vocabulary
    assert page["not_shown"] == {name: STAGES[name].why_not for name in ("gradients", "units", "record", "analysis")}


def test_bits_per_character_and_the_bigram_are_what_they_say():
    import math

    from layerwise.model.analysis.baselines import bigram_nats, bits_per_token

    x = torch.tensor([[0, 1] * 25])  # (1, 50): "abab..."
    y = torch.tensor([[1, 0] * 25])  # the next character at each position
    nats = bigram_nats(x, y, torch.tensor([[0, 1]]), torch.tensor([[1, 0]]), vocabulary=2)
    assert nats == pytest.approx([-math.log(26 / 27), -math.log(26 / 27)])  # a -> b 25 times, add-one over 2
    exactly_one_bit = bits_per_token([math.log(2)] * 6, [0, 0, 1, 1, 2, 2])
    assert exactly_one_bit == pytest.approx(1) and exactly_one_bit.interval == pytest.approx((1, 1))
    uneven = bits_per_token([0, 0, 2 * math.log(2), 2 * math.log(2)], [0, 0, 1, 1])  # one easy document, one hard
    assert uneven == pytest.approx(1) and uneven.interval[0] < 0.5 < 1.5 < uneven.interval[1]  # documents resampled


def test_check_runs_each_model_on_one_example_so_an_image_model_on_text_is_one_line(tmp_path, capsys):
    """`layerwise check` builds each model and runs it once: the image ladder on words is refused
    there, as `build` refuses it, before anything trains."""
    from layerwise.tools.cli import main

    for name, words in {"en": "house mouse cheese", "de": "Haus Maus Käse"}.items():
        (tmp_path / "words").mkdir(exist_ok=True)
        (tmp_path / "words" / f"{name}.txt").write_text("\n".join(words.split() * 4), encoding="utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "index.md").write_text("---\ntitle: Words\n---\n\n# Words\n")
    tools = {"templates": str(ROOT / "templates"), "node_modules": str(ROOT / "node_modules")}
    settings = {"content": "content", "out": "site", "cache": "cache", **tools}
    settings["data"] = {"source": "text", "root": "words", "task": "classify"}
    (tmp_path / "layerwise.toml").write_text(toml_text(settings) + "\n")
    assert main(["check", "--config", str(tmp_path / "layerwise.toml")]) == 1
    said = capsys.readouterr().err
    assert "models.one_neuron: its first layer is a Flatten, which does not take tokens" in said, said
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").rglob("*.pickle"))  # nothing trained


def test_the_text_thumbnail_draws_no_box_for_a_tab():
    """A fortune's tab-indented line drew a missing-glyph box at its start on the index's card."""
    import io

    from PIL import Image

    from layerwise.model.orchestrator import text_thumbnail_png

    tabbed, spaced = (
        Image.open(io.BytesIO(text_thumbnail_png([f"Law:\n{indent}Nothing."]))).convert("L")
        for indent in ("\t", "    ")
    )
    assert tabbed.tobytes() == spaced.tobytes()


def test_the_pickers_words_take_each_class_in_turn_not_its_alphabetically_first():
    """A sorted word list's first held-out words are "'s-Hertogenbosch" and "0-jarigen": the
    picker takes each class's in a seeded shuffle, the same every build."""
    import numpy as np

    words = [f"{c}{i:03d}" for c in "ab" for i in range(100)]  # each class's in sorted order
    labels = np.repeat([0, 1], 100)
    picked = text.picked_examples(words, 16, labels)
    assert picked == text.picked_examples(words, 16, labels) and len(picked) == text.EXAMPLES
    assert [w[0] for w in picked[:4]] == ["a", "b", "a", "b"]  # each class in turn
    assert sorted(picked[::2]) != picked[::2] and "a000" not in picked[:2]
