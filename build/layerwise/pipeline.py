"""The build, top-down: data -> train -> export -> (figures, render).

Each stage is a plain function; this module only wires them together and caches what is slow,
keyed by a hash of everything the result depends on (data, settings, the stage's own code).
"""

import json
import time

import torch

from . import data as data_stage
from . import export, models, train
from .cache import Cache, cache_key, code_hash


def layer_shapes(model: torch.nn.Sequential) -> list[dict]:
    """Name, type and output shape (without the batch axis) of every layer."""
    shapes, x = [], torch.zeros(1, 1, 28, 28)
    with torch.no_grad():
        for name, layer in model.named_children():
            x = layer(x)
            shapes.append({"name": name, "type": type(layer).__name__, "spec": repr(layer),
                           "shape": list(x.shape[1:])})
    return shapes


def sample_test_digits(dataset, per_class: int) -> dict:
    """A few held-out digits of each class, as 0-255 pixels, for the page's digit picker."""
    picks = [i for c in range(len(dataset.classes))
             for i in torch.nonzero(dataset.test_y == c).flatten()[:per_class].tolist()]
    pixels = (dataset.test_x[picks] * 255).round().to(torch.uint8).reshape(len(picks), -1)
    return {"labels": dataset.test_y[picks].tolist(), "pixels": pixels.tolist(), "classes": dataset.classes}


def run_pipeline(config: dict, cache: Cache, timings: dict | None = None) -> dict:
    """Everything the pages need, computed or taken from the cache."""
    timings = {} if timings is None else timings
    start = time.perf_counter()
    dataset = data_stage.load_dataset(config["data"], config["node_modules"])
    fingerprint = dataset.fingerprint()
    timings["data"] = time.perf_counter() - start

    out = {"classes": dataset.classes, "metrics": {}, "models": {}, "onnx": {},
           "test_digits": sample_test_digits(dataset, per_class=4)}
    for name, spec in config["models"].items():
        settings = {**config["train"], **spec.get("train", {})}
        key = cache_key(fingerprint, spec["layers"], settings, code_hash(train, models))
        start = time.perf_counter()
        result = cache.get_or_compute(
            "train", key, lambda: train.train_model(name, models.build_model(spec["layers"]), dataset, settings))
        timings[f"train {name}"] = time.perf_counter() - start

        start = time.perf_counter()
        model = models.build_model(spec["layers"])
        out["onnx"][name] = cache.get_or_compute(
            "export", cache_key(key, code_hash(export)),
            lambda: export.export_onnx(model, result["snapshots"][-1]))
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
        shapes = layer_shapes(model)
        out["models"][name] = {"title": spec.get("title", name), "onnx": f"models/{name}.onnx",
                               "layers": shapes, "layers_json": json.dumps(shapes)}
    return out
