"""What the models give the pages: metrics, layer descriptions, and the files the browser reads.

data -> train -> export -> record for the ladder, each stage cached on its own. Files for the
site come back as {path under site/: bytes}; rendering writes them without knowing their format.
"""

import json
import time

import numpy as np
import torch

from . import data as data_stage
from . import export, models, record, train
from .analysis import baselines, manifold
from .cache import Cache, cache_key, code_hash
from .config import ConfigError


def describe_layers(model: torch.nn.Sequential) -> list[dict]:
    """Name, type and output shape (without the batch axis) of every layer; a convolution's
    learned filters too, so the page can show them beside their feature maps."""
    layers, x = [], torch.zeros(1, 1, 28, 28)
    with torch.no_grad():
        for name, layer in model.named_children():
            x = layer(x)
            layers.append({"name": name, "type": type(layer).__name__, "shape": list(x.shape[1:])})
            if isinstance(layer, torch.nn.Conv2d):
                layers[-1]["filters"] = layer.weight.round(decimals=4).tolist()
    return layers


def sample_test_digits(dataset, predictions: torch.Tensor, per_class: int, wrong: int) -> dict:
    """A few held-out digits of each class, then some the model gets wrong, for the picker."""
    picks = [
        i
        for c in range(len(dataset.classes))
        for i in torch.nonzero(dataset.test_y == c).flatten()[:per_class].tolist()
    ]
    picks += torch.nonzero(predictions != dataset.test_y).flatten()[:wrong].tolist()
    pixels = (dataset.test_x[picks] * 255).round().to(torch.uint8).reshape(len(picks), -1)
    return {
        "labels": dataset.test_y[picks].tolist(),
        "predictions": predictions[picks].tolist(),
        "pixels": pixels.tolist(),
        "classes": dataset.classes,
    }


def describe_model(name: str, spec: dict, model, result: dict, dataset):
    """What the pages say about one trained model: (metrics, layer info, files, test predictions)."""
    with torch.no_grad():
        test_outputs = model.eval()(dataset.test_x)
    predictions = test_outputs.argmax(1)
    labels = dataset.test_y.numpy()
    metrics = {
        "title": spec.get("title", name),
        "test_accuracy": result["epochs"][-1]["accuracy"],
        "per_class_accuracy": result["epochs"][-1]["per_class_accuracy"],
        "parameters": models.parameter_count(model),
        "train_seconds": result["seconds"],
        "epochs": result["epochs"],
        "confusion": baselines.confusion_matrix(predictions.numpy(), labels, len(dataset.classes)).tolist(),
    }
    layers = describe_layers(model)
    info = {
        "title": metrics["title"],
        "onnx": f"models/{name}.onnx",
        "layers": layers,
        "layers_json": json.dumps(layers),
    }
    linear = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
    if len(linear) == 1 and linear[0].in_features == 28 * 28:  # a template per class
        info["weights"] = linear[0].weight.detach().round(decimals=4).tolist()
    files = {}
    if isinstance(model[-1], torch.nn.Sigmoid):  # one neuron per class: judge each alone
        metrics["per_class"] = [
            baselines.one_vs_rest_report(test_outputs[:, c].numpy(), labels, c) for c in range(len(dataset.classes))
        ]
        files[f"ladder/{name}.json"] = neuron_file(model, test_outputs, dataset.test_y)
    return metrics, info, files, predictions


def compute_artifacts(config: dict, cache: Cache, timings: dict) -> dict:
    start = time.perf_counter()
    dataset = data_stage.load_dataset(config["data"], config["node_modules"])
    fingerprint = dataset.fingerprint()
    timings["data"] = time.perf_counter() - start

    out = {"classes": dataset.classes, "metrics": {}, "models": {}, "onnx": {}, "files": {}, "mistakes": {}}
    trained = {}
    for name, spec in config["models"].items():
        settings = {**config["train"], **spec.get("train", {})}
        key = cache_key(fingerprint, spec["layers"], settings, code_hash(train, models))
        start = time.perf_counter()
        result = cache.get_or_compute(
            "train", key, lambda: train.train_model(name, models.build_model(spec["layers"]), dataset, settings)
        )
        timings[f"train {name}"] = time.perf_counter() - start
        trained[name] = (key, result)

        start = time.perf_counter()
        model = models.build_model(spec["layers"])
        model.load_state_dict(result["snapshots"][-1])
        out["onnx"][name] = cache.get_or_compute(
            "export", cache_key(key, code_hash(export)), lambda: export.export_onnx(model)
        )
        out["files"][f"models/{name}.onnx"] = out["onnx"][name]
        timings[f"export {name}"] = time.perf_counter() - start

        metrics, info, files, predictions = describe_model(name, spec, model, result, dataset)
        out["metrics"][name], out["models"][name] = metrics, info
        out["files"].update(files)
        out["mistakes"][name] = mistakes(dataset, predictions, count=20)
    # The picker's digits, with the mistakes of the last (most capable) model of the ladder.
    test_digits = sample_test_digits(dataset, predictions, per_class=3, wrong=10)
    out["test_digits"] = test_digits
    out["files"]["data/test-digits.json"] = json.dumps(test_digits).encode()

    start = time.perf_counter()
    name = config["record"]["model"]
    key, result = trained[name]
    tour = cache.get_or_compute(
        "record",
        cache_key(key, config["record"], code_hash(record, export, data_stage)),
        lambda: record_tour(config["models"][name]["layers"], result["snapshots"], dataset, config["record"]),
    )
    out["tour"] = {"model": name, **tour["summary"]}
    out["files"].update({f"tour/{name}/{path}": data for path, data in tour["files"].items()})
    timings[f"record {name}"] = time.perf_counter() - start

    start = time.perf_counter()
    out["manifold"] = cache.get_or_compute(
        "analysis",
        cache_key(key, config["record"], config["analysis"], code_hash(manifold, record, data_stage)),
        lambda: analyse_manifold(
            config["models"][name]["layers"], result["snapshots"][-1], dataset, config["record"], config["analysis"]
        ),
    )
    timings["analysis"] = time.perf_counter() - start
    return out


def neuron_file(model, outputs: torch.Tensor, labels: torch.Tensor) -> bytes:
    """For the one-neuron widget: weights, biases, and every held-out digit's score per neuron,
    so the reader can move the threshold in the page."""
    linear = next(layer for layer in model if isinstance(layer, torch.nn.Linear))
    return json.dumps(
        {
            "weights": linear.weight.detach().round(decimals=4).tolist(),
            "bias": linear.bias.detach().round(decimals=4).tolist(),
            "scores": outputs.T.round(decimals=3).tolist(),
            "labels": labels.tolist(),
        }
    ).encode()


def mistakes(dataset, predictions: torch.Tensor, count: int) -> list[dict]:
    wrong = torch.nonzero(predictions != dataset.test_y).flatten()[:count]
    return [
        {
            "pixels": (dataset.test_x[i, 0] * 255).round().to(torch.uint8).tolist(),
            "label": int(dataset.test_y[i]),
            "predicted": int(predictions[i]),
        }
        for i in wrong
    ]


def analyse_manifold(layers: list[str], weights: dict, dataset, record_settings: dict, settings: dict) -> dict:
    """The manifold question on the Grand Tour's sample, at the trained model's layers."""
    model = models.build_model(layers)
    model.load_state_dict(weights)
    picked = record.sample_indices(dataset.test_y, record_settings["sample_size"], record_settings["seed"])
    outputs = record.layer_outputs(model.eval(), dataset.test_x[picked])
    unknown = [name for name in settings["layers"] if name not in outputs]
    if unknown:
        raise ConfigError(f"analysis.layers: {unknown} are not layers of the model ({', '.join(outputs)})")
    chosen = {name: outputs[name] for name in settings["layers"]}
    result = manifold.analyse_layers(chosen, dataset.test_y[picked].numpy(), settings["methods"])
    predictions = outputs[list(outputs)[-1]].argmax(1)
    return {"layers": result, "labels": dataset.test_y[picked].tolist(), "predictions": predictions.tolist()}


def record_tour(layers: list[str], snapshots: list[dict], dataset, settings: dict) -> dict:
    """The Grand Tour's files: each layer's reduced activations per epoch (float16), the bases
    that reduce a reader's digit the same way (float32), the sample, and one ONNX per epoch."""
    model = models.build_model(layers)
    picked = record.sample_indices(dataset.test_y, settings["sample_size"], settings["seed"])
    recorded = record.record_activations(
        model, snapshots, dataset.test_x[picked], dataset.test_y[picked], settings["dims"]
    )
    epochs, n = recorded["predictions"].shape
    files, meta_layers = {}, []
    for layer, info in recorded["layers"].items():
        files[f"{layer}.f16"] = info["values"].astype("<f2").tobytes()
        if info["basis"] is not None:
            basis = np.concatenate([info["basis"]["mean"][None], info["basis"]["components"]])
            files[f"{layer}.basis.f32"] = basis.astype("<f4").tobytes()
        meta_layers.append(
            {
                "name": layer,
                "width": info["width"],
                "dims": info["values"].shape[2],
                "reduced": info["basis"] is not None,
                "scale": info["scale"],
                "variance_kept": info["variance_kept"],
            }
        )
    files["sample.u8"] = (
        recorded["labels"].tobytes() + recorded["predictions"].tobytes() + recorded["thumbnails"].tobytes()
    )
    for epoch, state in enumerate(snapshots):
        model.load_state_dict(state)
        files[f"epoch-{epoch}.onnx"] = export.export_onnx(model)
    meta = {"epochs": epochs, "n": n, "layers": meta_layers, "classes": dataset.classes}
    files["meta.json"] = json.dumps(meta).encode()
    summary = {
        "epochs": epochs,
        "sample_size": n,
        "dims": settings["dims"],
        "variance_kept": {m["name"]: m["variance_kept"] for m in meta_layers if m["reduced"]},
    }
    return {"files": files, "summary": summary}
