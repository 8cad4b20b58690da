"""What the models give the pages: a typed BuildResult of metrics, layers and site files.

plan (dry-run every model: shapes, shown layers) -> data -> train -> export, gradients -> record ->
analysis, each stage cached on its own. Files for the site come back as {path under site/:
bytes}, named by contract.py; rendering writes them without knowing their format.
"""

import dataclasses
import io
import json
import time

import numpy as np
import torch

from .. import contract
from ..config import ConfigError, ModelSpec, ModelSpecError
from ..errors import BuildError, did_you_mean
from ..stats import Proportion, spread
from . import (
    adversarial,
    anatomy,
    export,
    gradients,
    history,
    models,
    representation,
    sources,
    tour,
    train,
    units,
    workers,
)
from . import data as data_stage
from .analysis import attention, baselines
from .onnx_network import OnnxNetwork
from .pipeline import STAGES, Runner, applies, runs
from .result import BuildResult, DatasetInfo, LayerInfo, ModelResult

# Layer types (torch modules and ONNX ops) after which "auto" analyses a layer.
ACTIVATIONS = ("ReLU", "GELU", "Tanh", "Sigmoid", "ELU", "LeakyReLU", "SiLU", "Relu", "Gelu")


# --- plan: every model built and dry-run before any data is read -------------------------------


def build_network(spec: ModelSpec, source: sources.Source):
    if spec.onnx and source.text is not None:
        raise ModelSpecError(
            f"models.{spec.name}.onnx: a text model brought in as ONNX is not read yet; bring its weights "
            "as a checkpoint for layer lines or a factory instead"
        )
    if spec.onnx:
        return OnnxNetwork(spec, source.shape, len(source.classes))
    return models.build_network(spec, source.shape, len(source.classes), source.text)


def analysed_layers(config: dict, network, source: sources.Source) -> list[str]:
    """analysis.layers, or for "auto" the input, every activation and the last layer (of those
    an example has a vector at: representation.py)."""
    names = representation.of(source).layers(network)
    chosen = config["analysis"]["layers"]
    if chosen == "auto":
        return [
            "input",
            *[n for n in network.layer_names[:-1] if network.layer_type(n) in ACTIVATIONS],
            network.layer_names[-1],
        ]
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise ModelSpecError(
            f"analysis.layers: {', '.join(unknown)} not a layer of {network.name}; its layers: {', '.join(names)}"
            + did_you_mean(unknown[0], names)
        )
    return chosen


def plan(config: dict, specs: dict[str, ModelSpec], source: sources.Source):
    """(networks, analysed layers), every mistake found reported together, one line each. Text is
    read first: a bad file is one line, once, before any model is planned."""
    source.text  # noqa: B018 (reads the files, where the source has text)
    networks, errors = {}, []
    for name, spec in specs.items():
        try:
            networks[name] = build_network(spec, source)
            export.export_onnx(
                networks[name], source.shape
            )  # a model the page cannot run fails now, not after training
        except BuildError as e:
            errors.append(str(e))
    recorded = config["record"]["model"]
    layers = []
    if applies("record", source) and representation.of(source).attacks:
        try:
            adversarial.class_pair(config["adversarial"], source.classes)
        except BuildError as e:
            errors.append(str(e))
    if recorded in networks and applies("analysis", source):
        try:
            layers = analysed_layers(config, networks[recorded], source)
        except BuildError as e:
            errors.append(str(e))
    if errors:
        raise ConfigError(f"{config.get('source_file', 'config')}: {line}" for line in errors)
    return networks, layers


# --- what the pages say about one model -------------------------------------------------------


def describe_layers(network, shape) -> list[LayerInfo]:
    with torch.no_grad():
        example = network.inputs.dummy() if isinstance(network, models.Network) else torch.zeros(1, *shape)
        outputs = network.eval().outputs(example.to(network.device))
    layers = []
    for name, value in outputs.items():
        layers.append(LayerInfo(name, network.layer_type(name), list(value.shape[1:])))
    return layers


def linear_over_pixels(network, shape) -> torch.nn.Linear | None:
    """The model's one linear layer when it reads the pixels directly (a template per class)."""
    if not isinstance(network, models.Network):
        return None
    linear = [m for m in network.module.modules() if isinstance(m, torch.nn.Linear)]
    pixels = int(np.prod(shape))
    return linear[0] if len(linear) == 1 and linear[0].in_features == pixels else None


def as_bytes(images: torch.Tensor) -> torch.Tensor:
    return (images * 255).round().to(torch.uint8)


def pick_examples(dataset, answers: dict[str, torch.Tensor], per_class: int, wrong: int) -> dict:
    """A few held-out examples of each class, then some the last (most capable) model of the ladder
    gets wrong, for the picker; with every model's answers, so each explorer marks its own model's mistakes."""
    picks = [
        i
        for c in range(len(dataset.classes))
        for i in torch.nonzero(dataset.test_y == c).flatten()[:per_class].tolist()
    ]
    last = list(answers.values())[-1]
    picks += torch.nonzero(last != dataset.test_y).flatten()[:wrong].tolist()
    return {
        "labels": dataset.test_y[picks].tolist(),
        "predictions": {name: predictions[picks].tolist() for name, predictions in answers.items()},
        "pixels": as_bytes(dataset.test_x[picks]).reshape(len(picks), -1).tolist(),  # (k, C*H*W)
    }


def thumbnail_png(dataset, tile: int = 120, gap: int = 4) -> bytes:
    """The first held-out example of each class, on two rows: the article's picture on the
    index and in share cards (about 2.5:1, as cards crop)."""
    from PIL import Image

    firsts = [int(torch.nonzero(dataset.test_y == c).flatten()[0]) for c in range(len(dataset.classes))]
    columns = -(-len(firsts) // 2)
    sheet = Image.new("RGB", (columns * (tile + gap) + gap, 2 * (tile + gap) + gap), "white")
    for k, i in enumerate(firsts):
        pixels = as_bytes(dataset.test_x[i]).permute(1, 2, 0).numpy()  # (H, W, C)
        image = Image.fromarray(pixels.squeeze(2) if pixels.shape[2] == 1 else pixels).convert("RGB")
        image = image.resize((tile, tile), Image.Resampling.NEAREST)
        sheet.paste(image, (gap + (k % columns) * (tile + gap), gap + (k // columns) * (tile + gap)))
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return out.getvalue()


def live_examples(dataset) -> bytes:
    """Every training and held-out example as bytes, for the linear models the page trains live."""
    pixels = [as_bytes(x).reshape(len(x), -1).numpy() for x in (dataset.train_x, dataset.test_x)]  # (N, C*H*W)
    labels = [y.numpy().astype(np.uint8) for y in (dataset.train_y, dataset.test_y)]  # (N,)
    return contract.live_examples(pixels[0], labels[0], pixels[1], labels[1])


def mistakes(dataset, predictions: torch.Tensor, count: int) -> list[dict]:
    wrong = torch.nonzero(predictions != dataset.test_y).flatten()[:count]
    return [
        {
            "example": int(i),  # its index among the held-out examples: what views link by
            "pixels": as_bytes(dataset.test_x[i]).tolist(),
            "label": int(dataset.test_y[i]),
            "predicted": int(predictions[i]),
        }
        for i in wrong
    ]


def describe_model(spec: ModelSpec, network, result: dict, dataset) -> tuple[ModelResult, dict, torch.Tensor]:
    """(what the pages say about one model, its extra site files, its held-out predictions): what
    every model reports, then what its kind of data adds (MEASURES)."""
    logits, output = train.predict(network, dataset.test_x)
    predictions = output.argmax(-1)  # (N,); next-token: (N, T)
    correct = (predictions == dataset.test_y).numpy().reshape(-1)  # bool, per example (position): for paired tests
    metrics = {
        "title": spec.title,
        "origin": spec.origin,
        "trained_here": spec.trained_here,
        "test_accuracy": Proportion(int(correct.sum()), len(correct)),  # with its Wilson interval
        "correct": correct,
        "per_class_accuracy": result["epochs"][-1]["per_class_accuracy"],
        "parameters": network.parameter_count(),
        "train_seconds": result["seconds"],
        "epochs": result["epochs"],
        "n_test": len(dataset.test_y),
    }
    if dataset.classes:
        labels = dataset.test_y.numpy()
        metrics["confusion"] = baselines.confusion_matrix(predictions.numpy(), labels, len(dataset.classes)).tolist()
    described = ModelResult(
        name=spec.name,
        title=spec.title,
        origin=spec.origin,
        metrics=metrics,
        layers=describe_layers(network, dataset.shape),
        onnx=contract.site_path("model", model=spec.name),
    )
    files = MEASURES[dataset.source.kind](network, dataset, (logits, output, predictions), described)
    return described, files, predictions


def image_measures(network, dataset, answers: tuple, described: ModelResult) -> dict:
    """An image model's templates (one linear layer over the pixels), mistakes, and one-vs-rest
    neurons judged each alone; its extra site files."""
    _, output, predictions = answers
    linear = linear_over_pixels(network, dataset.shape)
    described.templates = None if linear is None else linear.weight.detach().round(decimals=4).tolist()
    described.mistakes = mistakes(dataset, predictions, count=20)
    files = {}
    if network.head == "sigmoid" and linear is not None:  # one neuron per class: judge each alone
        labels = dataset.test_y.numpy()
        described.metrics["per_class"] = [
            baselines.one_vs_rest_report(output[:, c].numpy(), labels, c) for c in range(len(dataset.classes))
        ]
        files[contract.site_path("neuron", model=described.name)] = neuron_file(linear, output, dataset.test_y)
    return files


def text_measures(network, dataset, answers: tuple, described: ModelResult) -> dict:
    """Where each attention head looks on held-out text; for a next-token model, its held-out bits
    per character, each block's logit lens's, and the character bigram's on the same positions,
    each with a 95% interval over held-out documents, and what the model saves over the bigram."""
    logits = answers[0]
    next_token = dataset.source.text.task == "next-token"
    documents = dataset.test_groups.flatten().numpy() if next_token else None  # of each held-out position
    if isinstance(network, models.Network):
        targets = dataset.test_y if next_token else None  # a lens reads out tokens: next-token models'
        described.metrics |= attention.inner_readings(network, dataset.test_x, targets, documents)
    if not next_token:
        return {}
    nats = torch.nn.functional.cross_entropy(logits.flatten(0, 1), dataset.test_y.flatten(), reduction="none")
    bigram = baselines.bigram_nats(
        dataset.train_x, dataset.train_y, dataset.test_x, dataset.test_y, len(dataset.source.text.vocabulary)
    )
    described.metrics |= {
        "bits_per_char": baselines.bits_per_token(nats.numpy(), documents),
        "bigram_bits_per_char": baselines.bits_per_token(bigram, documents),
        "bits_saved": baselines.bits_per_token(bigram - nats.numpy(), documents),  # paired: per position
        "positions": len(documents),
        "documents": len(np.unique(documents)),
    }
    return {}


MEASURES = {"image": image_measures, "text": text_measures}  # what each kind of data adds to a model's metrics


def seed_spread(runs: list[dict]) -> dict:
    """How much the seed moves a model: final accuracy over the runs, and each epoch's range
    (for bands around the training curves)."""
    return {
        "runs": len(runs),
        "test_accuracy": spread([run["epochs"][-1]["accuracy"] for run in runs]),
        "epochs": [
            {
                metric: [min(r["epochs"][e][metric] for r in runs), max(r["epochs"][e][metric] for r in runs)]
                for metric in ("accuracy", "loss")
            }
            for e in range(len(runs[0]["epochs"]))
        ],
    }


def neuron_file(linear: torch.nn.Linear, outputs: torch.Tensor, labels: torch.Tensor) -> bytes:
    """For the one-neuron widget: weights, biases, and every held-out example's score per neuron,
    so the reader can move the threshold in the page."""
    return json.dumps(
        {
            "weights": linear.weight.detach().round(decimals=4).tolist(),
            "bias": linear.bias.detach().round(decimals=4).tolist(),
            "scores": outputs.T.round(decimals=3).tolist(),
            "labels": labels.tolist(),
        }
    ).encode()


def publish_gradients(spec: ModelSpec, network, dataset, described: ModelResult, files: dict, run: Runner) -> None:
    """The model's gradient graph (gradients.py, cached per model) among the site's files, or why it has none."""
    if not applies("gradients", dataset.source):
        described.no_gradients = STAGES["gradients"].why_not
        return
    exported = run(
        f"gradients/{spec.name}", lambda: gradients.export_gradients(network, dataset.shape), f"gradients {spec.name}"
    )
    if exported["graph"] is None:
        described.no_gradients = exported["reason"]
        return
    described.gradients = contract.site_path("gradients", model=spec.name)
    files[described.gradients] = exported["graph"]


# --- stages a worker computes ahead: the build schedules them across articles ------------------


def seed_run(model: str, seed: int) -> str:
    return f"train/{model}/{seed}"


def train_label(model: str, seed: int) -> str:
    """A run's stage line says its seed: a model's runs are not the same run trained again."""
    return f"train {model}, seed {seed}"


def train_run(spec: ModelSpec, network, dataset, seed: int) -> dict:
    """One run of a model: trained from `seed`, or, brought in, measured as it came."""
    if not spec.trained_here:
        return train.measure_brought_in(network, dataset)
    return train.train_model(network, dataset, {**spec.train, "seed": seed})


def record_stage(network, result: dict, dataset, config: dict, analysed: list) -> dict:
    return tour.record_tour(network, result, dataset, config["record"], config["adversarial"])


def history_stage(network, result: dict, dataset, config: dict, analysed: list) -> dict:
    return history.record_history(network, result, dataset)


def analysis_stage(network, result: dict, dataset, config: dict, analysed: list) -> dict:
    from .analysis import manifold  # scikit-learn (2 s to import) only where an analysis runs

    network.load_weights(result["snapshots"][-1])
    return manifold.analyse_sample(network, dataset, config["record"], analysed, config["analysis"]["methods"])


# The stages of the recorded model's shown run: each reads that run alone, not the other models'.
RECORDED = {"record": record_stage, "history": history_stage, "analysis": analysis_stage}


def recorded_stage(stage: str, network, result: dict, dataset, config: dict, analysed: list, run: Runner):
    label = f"record {config['record']['model']}" if stage == "record" else stage
    return run(stage, lambda: RECORDED[stage](network, result, dataset, config, analysed), label)


@dataclasses.dataclass
class Inputs:
    """What a worker needs to compute an article's stages: its settings, models and data's description."""

    article: str
    config: dict
    specs: dict[str, ModelSpec]
    source: sources.Source


DATASETS: dict = {}  # the data last loaded in this process, by the data stage's key


def loaded_dataset(config: dict, source: sources.Source, key: str):
    """The data as tensors, loaded once for a worker's consecutive tasks on the same data."""
    if key not in DATASETS:
        DATASETS.clear()
        DATASETS[key] = data_stage.load_dataset(config["data"], config["node_modules"], source)
    return DATASETS[key]


def prefetch(inputs: Inputs, scoped: str, cache, keys: dict[str, str]) -> dict:
    """Compute one stage into the cache in a worker process, on one thread: a training run
    ("train/model/seed") or a stage of the recorded model ("record", "history", "analysis").
    compute_artifacts then finds it there. Returns the stage's timings."""
    workers.become_worker(1)
    timings: dict = {}
    run = Runner(cache, keys, timings, inputs.article)
    dataset = loaded_dataset(inputs.config, inputs.source, keys["data"])
    name, seed = scoped.split("/")[1:] if scoped.startswith("train/") else (inputs.config["record"]["model"], None)
    spec = inputs.specs[name]
    network = build_network(spec, inputs.source)  # rebuilt here: a factory's class need not be picklable
    run_seed = runs(spec)[0] if seed is None else int(seed)  # a recorded stage reads the shown run
    result = run(
        seed_run(name, run_seed), lambda: train_run(spec, network, dataset, run_seed), train_label(name, run_seed)
    )
    if seed is None:
        network.load_weights(result["snapshots"][-1])
        analysed = analysed_layers(inputs.config, network.eval(), inputs.source) if scoped == "analysis" else []
        recorded_stage(scoped, network, result, dataset, inputs.config, analysed, run)
    return timings


def prefetch_tasks(inputs: Inputs, keys: dict[str, str], cache) -> list[workers.Task]:
    """An article's stages that workers can compute ahead, those not in the cache, each a Task
    named "article:stage". Rank 0: the recorded model's shown run; 1: the stages that read that
    run alone (the analysis is an article's longest); 2: the other runs, the ladder's later
    (larger) models first."""
    specs, recorded = inputs.specs, inputs.config["record"]["model"]
    shown = seed_run(recorded, runs(specs[recorded])[0]) if recorded in specs else None
    later_first = sorted(reversed(specs), key=lambda name: name != recorded)
    trained = [seed_run(name, seed) for name in later_first for seed in runs(specs[name]) if specs[name].trained_here]
    ranked = [(0 if scoped == shown else 2, scoped) for scoped in trained]
    ranked += [(1, stage) for stage in RECORDED if shown and stage in keys]
    pending = {scoped for _, scoped in ranked if not cache.has(scoped.split("/")[0], keys[scoped])}

    def task(rank: int, scoped: str) -> workers.Task:
        needs = (shown,) if rank == 1 and shown in pending else ()
        named = tuple(f"{inputs.article}:{n}" for n in needs)
        return workers.Task(f"{inputs.article}:{scoped}", prefetch, (inputs, scoped, cache, keys), named, rank)

    return [task(rank, scoped) for rank, scoped in sorted(ranked, key=lambda r: r[0]) if scoped in pending]


# --- the whole computation ---------------------------------------------------------------------


def compute_artifacts(config: dict, specs: dict[str, ModelSpec], source: sources.Source, run: Runner) -> BuildResult:
    """Every stage in order, each through `run` (cached by the key pipeline.stage_keys computed, and timed)."""
    start = time.perf_counter()
    networks, analysed = plan(config, specs, source)
    run.note("plan", time.perf_counter() - start)
    start = time.perf_counter()
    dataset = loaded_dataset(config, source, run.keys["data"])
    run.note("data", time.perf_counter() - start)

    described, files, trained, answers = {}, {}, {}, {}
    for name, spec in specs.items():
        network = networks[name]
        # Each run from the cache when the build's workers computed it ahead (prefetch).
        results = [
            run(seed_run(name, seed), lambda: train_run(spec, network, dataset, seed), train_label(name, seed))
            for seed in runs(spec)
        ]
        result = results[0]  # the configured seed's run is the one the pages show and run
        network.load_weights(result["snapshots"][-1])
        trained[name] = result

        onnx_bytes = run(f"export/{name}", lambda: export.export_onnx(network, dataset.shape), f"export {name}")
        described[name], extra, answers[name] = describe_model(spec, network, result, dataset)
        described[name].metrics["onnx_bytes"] = len(onnx_bytes)
        publish_gradients(spec, network, dataset, described[name], files, run)
        # How each layer computes: its steps, and the page's model exposing what they read.
        layout = anatomy.describe(onnx_bytes, described[name].layers)
        for layer in described[name].layers:
            layer.step = dataclasses.asdict(layout.steps[layer.name])
        described[name].inner = {t: dataclasses.asdict(s) for t, s in layout.inner.items()}
        layers = described[name].layers
        if applies("units", source):
            found = run(f"units/{name}", lambda: units.unit_examples(network, dataset, layers), f"units {name}")
            files.update(units.publish(name, found, layers, dataset))
        files[contract.site_path("model", model=name)] = layout.page_onnx
        files[contract.site_path("weights", model=name)] = layout.weights
        described[name].metrics["seeds"] = seed_spread(results)
        files.update(extra)
    examples = PICKER[source.kind](dataset, answers, files)
    tour_summary, analysis = record_and_analyse(config, networks, trained, dataset, analysed, files, run)
    info = DatasetInfo(
        source.name,
        source.shape,
        source.classes,
        source.noun,
        source.preprocessing,
        len(dataset.train_y),
        len(dataset.test_y),
        source.text,
    )
    not_shown = {name: stage.why_not for name, stage in STAGES.items() if not applies(name, source)}
    return BuildResult(info, described, examples, tour_summary, analysis, files, not_shown=not_shown)


def image_picker(dataset, answers: dict, files: dict) -> dict:
    """The picker's examples, with every model's answers (each explorer marks its own model's
    mistakes), the thumbnail, and the examples live training reads."""
    examples = pick_examples(dataset, answers, per_class=3, wrong=10)
    files[contract.site_path("examples")] = json.dumps(examples).encode()
    files[contract.site_path("thumbnail")] = thumbnail_png(dataset)
    if len(dataset.classes) <= contract.LIVE_MAX_CLASSES:
        files[contract.site_path("live_examples")] = live_examples(dataset)
    return examples


def text_picker(dataset, answers: dict, files: dict) -> dict:
    """Text's picker is in the contract (TextInfo.examples); the thumbnail shows a few of them."""
    files[contract.site_path("thumbnail")] = text_thumbnail_png(dataset.source.text.examples)
    return {}


PICKER = {"image": image_picker, "text": text_picker}  # each kind of data's picker and thumbnail


def text_thumbnail_png(examples: list[str], size=(600, 240)) -> bytes:
    """A few held-out texts on white: the article's picture on the index and in share cards."""
    from PIL import Image, ImageDraw

    sheet = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(sheet)
    lines = [line for text in examples[:6] for line in text.splitlines()[:2]][:9]
    # A tab (a fortune's indent) or another control character drew as a missing-glyph box.
    lines = ["".join(c if c.isprintable() else " " for c in line.expandtabs(4)) for line in lines]
    for row, line in enumerate(lines):
        draw.text((16, 12 + 25 * row), line[:70], fill="#333333", font_size=18)
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return out.getvalue()


def record_and_analyse(config: dict, networks: dict, trained: dict, dataset, analysed, files: dict, run: Runner):
    """(the Grand Tour's summary, the manifold analysis) of the recorded model, where they apply to the data;
    else what they would have shown is said instead."""
    name = config["record"]["model"]
    recorded, result = networks.get(name), trained.get(name)
    if not applies("record", dataset.source):
        tour_summary = {"model": name, "not_recorded": STAGES["record"].why_not}
        if applies("history", dataset.source) and recorded is not None:  # how a next-token model changed instead
            found = recorded_stage("history", recorded, result, dataset, config, analysed, run)
            files.update(found["files"])
            tour_summary["history"] = found["summary"]
        return tour_summary, {"layers": {}}
    recorded_tour = recorded_stage("record", recorded, result, dataset, config, analysed, run)
    files.update(recorded_tour["files"])
    analysis = recorded_stage("analysis", recorded, result, dataset, config, analysed, run)
    return {"model": name, **recorded_tour["summary"]}, analysis
