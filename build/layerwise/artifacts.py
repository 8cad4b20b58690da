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
from .cache import Cache, cache_key, code_hash


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
    picks = [i for c in range(len(dataset.classes))
             for i in torch.nonzero(dataset.test_y == c).flatten()[:per_class].tolist()]
    picks += torch.nonzero(predictions != dataset.test_y).flatten()[:wrong].tolist()
    pixels = (dataset.test_x[picks] * 255).round().to(torch.uint8).reshape(len(picks), -1)
    return {"labels": dataset.test_y[picks].tolist(), "predictions": predictions[picks].tolist(),
            "pixels": pixels.tolist(), "classes": dataset.classes}


def compute_artifacts(config: dict, cache: Cache, timings: dict) -> dict:
    start = time.perf_counter()
    dataset = data_stage.load_dataset(config["data"], config["node_modules"])
    fingerprint = dataset.fingerprint()
    timings["data"] = time.perf_counter() - start

    out = {"classes": dataset.classes, "metrics": {}, "models": {}, "onnx": {}, "files": {}}
    trained = {}
    for name, spec in config["models"].items():
        settings = {**config["train"], **spec.get("train", {})}
        key = cache_key(fingerprint, spec["layers"], settings, code_hash(train, models))
        start = time.perf_counter()
        result = cache.get_or_compute(
            "train", key, lambda: train.train_model(name, models.build_model(spec["layers"]), dataset, settings))
        timings[f"train {name}"] = time.perf_counter() - start
        trained[name] = (key, result)

        start = time.perf_counter()
        model = models.build_model(spec["layers"])
        model.load_state_dict(result["snapshots"][-1])
        out["onnx"][name] = cache.get_or_compute(
            "export", cache_key(key, code_hash(export)), lambda: export.export_onnx(model))
        out["files"][f"models/{name}.onnx"] = out["onnx"][name]
        timings[f"export {name}"] = time.perf_counter() - start

        final = result["epochs"][-1]
        out["metrics"][name] = {
            "title": spec.get("title", name),
            "test_accuracy": final["accuracy"],
            "per_class_accuracy": final["per_class_accuracy"],
            "parameters": models.parameter_count(model),
            "train_seconds": result["seconds"],
            "epochs": result["epochs"],
        }
        layers = describe_layers(model)
        out["models"][name] = {"title": spec.get("title", name), "onnx": f"models/{name}.onnx",
                               "layers": layers, "layers_json": json.dumps(layers)}
        with torch.no_grad():
            predictions = model.eval()(dataset.test_x).argmax(1)
    # The picker's digits, with the mistakes of the last (most capable) model of the ladder.
    test_digits = sample_test_digits(dataset, predictions, per_class=3, wrong=10)
    out["test_digits"] = test_digits
    out["files"]["data/test-digits.json"] = json.dumps(test_digits).encode()

    start = time.perf_counter()
    name = config["record"]["model"]
    key, result = trained[name]
    tour = cache.get_or_compute(
        "record", cache_key(key, config["record"], code_hash(record, export, data_stage)),
        lambda: record_tour(config["models"][name]["layers"], result["snapshots"], dataset, config["record"]))
    out["tour"] = {"model": name, **tour["summary"]}
    out["files"].update({f"tour/{name}/{path}": data for path, data in tour["files"].items()})
    timings[f"record {name}"] = time.perf_counter() - start
    return out


def record_tour(layers: list[str], snapshots: list[dict], dataset, settings: dict) -> dict:
    """The Grand Tour's files: each layer's reduced activations per epoch (float16), the bases
    that reduce a reader's digit the same way (float32), the sample, and one ONNX per epoch."""
    model = models.build_model(layers)
    picked = record.sample_indices(dataset.test_y, settings["sample_size"], settings["seed"])
    recorded = record.record_activations(model, snapshots, dataset.test_x[picked], dataset.test_y[picked],
                                         settings["dims"])
    epochs, n = recorded["predictions"].shape
    files, meta_layers = {}, []
    for layer, info in recorded["layers"].items():
        files[f"{layer}.f16"] = info["values"].astype("<f2").tobytes()
        if info["basis"] is not None:
            basis = np.concatenate([info["basis"]["mean"][None], info["basis"]["components"]])
            files[f"{layer}.basis.f32"] = basis.astype("<f4").tobytes()
        meta_layers.append({"name": layer, "width": info["width"], "dims": info["values"].shape[2],
                            "reduced": info["basis"] is not None, "scale": info["scale"],
                            "variance_kept": info["variance_kept"]})
    files["sample.u8"] = (recorded["labels"].tobytes() + recorded["predictions"].tobytes()
                          + recorded["thumbnails"].tobytes())
    for epoch, state in enumerate(snapshots):
        model.load_state_dict(state)
        files[f"epoch-{epoch}.onnx"] = export.export_onnx(model)
    meta = {"epochs": epochs, "n": n, "layers": meta_layers, "classes": dataset.classes}
    files["meta.json"] = json.dumps(meta).encode()
    summary = {"epochs": epochs, "sample_size": n, "dims": settings["dims"],
               "variance_kept": {m["name"]: m["variance_kept"] for m in meta_layers if m["reduced"]}}
    return {"files": files, "summary": summary}
