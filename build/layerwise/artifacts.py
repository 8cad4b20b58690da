"""What the models give the pages: metrics, ONNX files, layer descriptions, sample digits.

data -> train -> export for every model of the ladder, each stage cached on its own.
"""

import json
import time

import torch

from . import data as data_stage
from . import export, models, train
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

    out = {"classes": dataset.classes, "metrics": {}, "models": {}, "onnx": {}}
    for name, spec in config["models"].items():
        settings = {**config["train"], **spec.get("train", {})}
        key = cache_key(fingerprint, spec["layers"], settings, code_hash(train, models))
        start = time.perf_counter()
        result = cache.get_or_compute(
            "train", key, lambda: train.train_model(name, models.build_model(spec["layers"]), dataset, settings))
        timings[f"train {name}"] = time.perf_counter() - start

        start = time.perf_counter()
        model = models.build_model(spec["layers"])
        model.load_state_dict(result["snapshots"][-1])
        out["onnx"][name] = cache.get_or_compute(
            "export", cache_key(key, code_hash(export)), lambda: export.export_onnx(model))
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
    out["test_digits"] = sample_test_digits(dataset, predictions, per_class=3, wrong=10)
    return out
