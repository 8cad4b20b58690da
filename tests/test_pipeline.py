import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from conftest import small_config
from layerwise import cache as cache_module
from layerwise.cache import Cache
from layerwise.config import ConfigError, ModelSpecError, load_config, validated
from layerwise.model.export import weights_from_onnx
from layerwise.model.models import network_from_layers
from layerwise.model.pipeline import run_pipeline
from layerwise.model.train import snapshot_batches
from sleeper import started_and_ended


def test_models_read_like_the_diagram():
    cnn = network_from_layers(load_config()["models"]["cnn"]["layers"])
    assert cnn.layer_names == [
        "conv1",
        "pool1",
        "relu1",
        "conv2",
        "pool2",
        "relu2",
        "flatten",
        "fc1",
        "relu3",
        "fc2",
        "softmax",
    ]
    assert cnn.module(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert cnn.module.fc1.in_features == 320  # `auto`: what flatten gives


def test_reading_the_logits_leaves_the_output_alone():
    """The loss reads a final Softmax's input through a hook; the model's output must stay its own."""
    for head, squash in (("Softmax(dim=1)", lambda z: torch.softmax(z, 1)), ("Sigmoid()", torch.sigmoid)):
        network = network_from_layers(["f: Flatten()", "fc: Linear(pixels, classes)", f"head: {head}"])
        x = torch.rand(3, 1, 28, 28)
        logits, output = network.logits_and_output(x)
        assert torch.allclose(output, network.module(x)) and torch.allclose(squash(logits), output)
        assert 0 <= output.min() and output.max() <= 1


@pytest.mark.parametrize(
    "line,message",
    [
        ("fc1 Linear(3, 4)", "write it as 'name: Type"),
        ("fc1: Lenear(3, 4)", "no layer named 'Lenear'"),
        ("fc1: Linear(3, os.system('x'))", "literal arguments"),
        ("fc1: Linear(3)", "fc1: Linear\\(3\\): "),
        ("fc1: Linear(3, 4, bias=Flase)", "unknown name 'Flase'.*did you mean False\\?"),
        ("b: TransformerBlock(8, heads=2, norm_first=maybe)", "unknown name 'maybe'; use a number, True, False"),
        ("b: TransformerBlock(8, heads=3)", "not a multiple of heads = 3: .*heads = 1, 2, 4 or 8 divide 8"),
        (
            "fc1: Linear(3, 4, baias=True)",
            "fc1: Linear\\(3, 4, baias=True\\): .*unexpected keyword.*did you mean bias\\?",
        ),
        (
            "b: TransformerBlock(8, norm_frist=False)",
            "takes width, heads, causal, mlp, norm_first; did you mean norm_first\\?",
        ),
        ("fc1: Linaer(3, 4)", "models.model layer 'fc1: Linaer\\(3, 4\\)'.*did you mean Linear\\?"),
        ("fc1: Linear(3, klasses)", "unknown name 'klasses'"),
    ],
)
def test_bad_layer_lines_say_what_to_write(line, message):
    with pytest.raises(ModelSpecError, match=message):
        network_from_layers(["flatten: Flatten()", line])


def test_config_file_overrides_and_rejects_unknown_keys(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[train]\nepochs = 3\n[models.tiny]\nlayers = ["flatten: Flatten()", "fc: Linear(784, 10)"]\n')
    config = load_config(good)
    assert config["train"]["epochs"] == 3 and config["train"]["batch_size"] == 64
    assert "tiny" in config["models"] and "cnn" in config["models"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nepoks = 3\n")
    with pytest.raises(ConfigError, match="bad.toml: train.epoks: unknown setting"):
        validated(load_config(bad))


def test_every_layer_is_an_onnx_output_matching_torch(built):
    config, data = built
    for name, described in data.models.items():
        onnx_bytes = data.files[described.onnx]
        onnx.checker.check_model(onnx.load_from_string(onnx_bytes))
        session = onnxruntime.InferenceSession(onnx_bytes)
        network = network_from_layers(config["models"][name]["layers"])
        assert [o.name for o in session.get_outputs()] == network.layer_names
        # Five real held-out digits in one batch: the batch axis is dynamic.
        x = torch.tensor(data.examples["pixels"][:5], dtype=torch.float32).reshape(5, 1, 28, 28) / 255
        network.load_weights(weights_from_onnx(network.module, onnx_bytes))
        with torch.no_grad():
            expected = network.eval().outputs(x).values()
        for got, want in zip(session.run(None, {"image": x.numpy()}), expected):
            assert got.shape == want.shape
            assert np.abs(got - want.detach().numpy()).max() <= 1e-5


def test_cache_hits_when_nothing_changed_and_misses_when_settings_do(tmp_path):
    config = small_config(tmp_path)
    config["models"] = {"softmax": config["models"]["softmax"]}
    config["record"]["model"] = "softmax"
    config["analysis"] = {"layers": ["input", "fc"], "methods": ["pca"]}

    def run(cache):
        return run_pipeline(config, validated(config), cache)

    first = Cache(config["cache"])
    run(first)
    every_stage = ["pipeline", "train", "export", "gradients", "units", "record", "analysis"]  # in the order they run
    assert first.misses == every_stage and first.hits == []
    second = Cache(config["cache"])
    data = run(second)
    assert second.hits == ["pipeline"] and second.misses == []
    assert data.models["softmax"].metrics["epochs"][-1]["epoch"] == 2
    config["train"]["learning_rate"] = 0.01
    third = Cache(config["cache"])
    run(third)
    assert third.misses == every_stage
    config["content"] = "elsewhere"  # rendering settings do not touch the models
    fourth = Cache(config["cache"])
    run(fourth)
    assert fourth.hits == ["pipeline"]


def test_training_is_deterministic(tmp_path):
    """Two runs of the CNN from the same seed, each on a network built afresh: the same ONNX
    file, byte for byte (the stages after training read only the run)."""
    from layerwise.model import orchestrator, sources
    from layerwise.model.data import load_dataset
    from layerwise.model.export import export_onnx

    config = small_config(tmp_path)
    specs, source = validated(config), sources.describe_source(config["data"], config["node_modules"])
    dataset = load_dataset(config["data"], config["node_modules"], source)
    files = []
    for _ in range(2):
        network = orchestrator.build_network(specs["cnn"], source)
        network.load_weights(orchestrator.train_run(specs["cnn"], network, dataset, 0)["snapshots"][-1])
        files.append(export_onnx(network, dataset.shape))
    assert files[0] == files[1]


def test_workers_start_a_task_after_its_needs_and_lower_ranks_first():
    from layerwise.model import workers

    tasks = [  # on two cores: first and second start; then needs-first, before later
        workers.Task("later", started_and_ended, (0.1,), rank=2),
        workers.Task("needs first", started_and_ended, (0.3,), ("first",), rank=1),
        workers.Task("second", started_and_ended, (1.0,), rank=1),
        workers.Task("first", started_and_ended, (0.3,), rank=0),
    ]
    done = workers.run_graph(tasks)
    assert done["needs first"][0] >= done["first"][1]  # waited for its need
    assert done["later"][0] >= done["needs first"][0] + 0.2  # waited for a free core: rank 1 went first
    with pytest.raises(ValueError, match="tasks that wait on no task: orphan"):
        workers.run_graph([workers.Task("orphan", started_and_ended, (0,), ("missing",))])


def test_stages_computed_ahead_by_a_worker_equal_those_computed_here(tmp_path):
    """The schedule changes no result: the recorded model's run, tour and analysis made ahead in a
    worker process (prefetch) are the ones this process makes from the same settings."""
    from layerwise.model import orchestrator, sources, workers
    from layerwise.model.data import load_dataset
    from layerwise.model.pipeline import stage_keys

    config = small_config(tmp_path)
    config["models"] = {"softmax": config["models"]["softmax"]}
    config["record"] |= {"model": "softmax", "sample_size": 200}
    config["analysis"] = {"layers": ["input", "fc"], "methods": ["pca", "tsne"]}
    specs, source = validated(config), sources.describe_source(config["data"], config["node_modules"])
    keys, cache = stage_keys(config, specs, source), Cache(config["cache"])
    ahead = orchestrator.prefetch_tasks(orchestrator.Inputs("a", config, specs, source), keys, cache)
    assert [t.name for t in ahead] == ["a:train/softmax/0", "a:record", "a:analysis"]
    workers.run_graph(ahead)
    made = {
        stage: cache.load(cache.path(stage.split("/")[0], keys[stage]))[0]
        for stage in ("train/softmax/0", "record", "analysis")
    }

    dataset, network = (
        load_dataset(config["data"], config["node_modules"], source),
        orchestrator.build_network(specs["softmax"], source),
    )
    trained = orchestrator.train_run(specs["softmax"], network, dataset, 0)
    assert all(
        torch.equal(a, b)
        for a, b in zip(trained["snapshots"][-1].values(), made["train/softmax/0"]["snapshots"][-1].values())
    )
    network.load_weights(trained["snapshots"][-1])
    analysed = orchestrator.analysed_layers(config, network.eval(), source)
    here = {
        stage: orchestrator.RECORDED[stage](network, trained, dataset, config, analysed)
        for stage in ("record", "analysis")
    }
    # Equal up to float rounding: a sum's order may differ with a process's thread pools.
    assert (
        here["record"]["summary"] == made["record"]["summary"]
        and here["record"]["files"].keys() == made["record"]["files"].keys()
    )
    for path, data in here["record"]["files"].items():
        if path.endswith((".f16", ".f32")):
            dtype = np.float16 if path.endswith(".f16") else np.float32
            assert np.allclose(
                np.frombuffer(made["record"]["files"][path], dtype), np.frombuffer(data, dtype), atol=1e-5
            ), path
        else:
            assert made["record"]["files"][path] == data, path
    for layer, found in untimed(here["analysis"])["layers"].items():
        views, other = found.pop("views"), untimed(made["analysis"])["layers"][layer]
        other_views = other.pop("views")
        assert all(np.array_equal(other_views[m], views[m]) for m in views) and other == found, layer


def untimed(manifold: dict) -> dict:
    """The analysis without how long each view took."""
    layers = {name: {k: v for k, v in found.items() if k != "seconds"} for name, found in manifold["layers"].items()}
    return manifold | {"layers": layers}


def test_an_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    cache = Cache(tmp_path)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_compute("train", "k", lambda: {"weights": torch.ones(3)})
    monkeypatch.undo()
    assert list(tmp_path.rglob("*")) == [tmp_path / "train"]  # no entry, no temp file
    assert cache.get_or_compute("train", "k", lambda: 42) == 42


def test_the_first_epoch_is_snapshotted_evenly():
    assert sorted(snapshot_batches(125, 8)) == [16, 31, 47, 62, 78, 94, 109]  # then the epoch's end, 125
    assert sorted(snapshot_batches(3, 8)) == [1, 2]  # fewer batches than parts: one after each
    assert snapshot_batches(10, 1) == set()  # 1: after each epoch only


def test_each_model_answers_the_pickers_examples_itself(built):
    """The picker marks and names each explorer's own model's mistakes: examples.json holds every
    model's answers, each what that model's exported graph reads (a residual explorer beside a
    brought-in last model used to show the last model's answers)."""
    _, data = built
    pixels = np.asarray(data.examples["pixels"], dtype=np.float32).reshape(-1, 1, 28, 28) / 255
    assert set(data.examples["predictions"]) == set(data.models)
    for name, described in data.models.items():
        session = onnxruntime.InferenceSession(data.files[described.onnx])
        last = session.get_outputs()[-1].name
        (output,) = session.run([last], {"image": pixels})
        assert output.argmax(1).tolist() == data.examples["predictions"][name], name
    answers = list(data.examples["predictions"].values())
    assert any(a != answers[-1] for a in answers[:-1])  # the ladder's models disagree somewhere
