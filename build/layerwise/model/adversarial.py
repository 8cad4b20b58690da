"""Adversarial examples for the Grand Tour, as in its paper (8 -> 0): held-out examples of one
class pushed towards another by FGSM (one step of size epsilon) and by PGD (small steps, kept
within epsilon of the original), every step recorded through every layer of the trained model.

Steps are multiples of 1/255 and every image is rounded to that grid, so the bytes the page
reads are exactly the images that were attacked: what the build says each is classified as,
onnxruntime in Python and in the page say too.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..config import ConfigError
from .models import Network
from .record import layer_outputs


def class_pair(settings: dict, classes: list[str]) -> tuple[int, int]:
    """(source, target) class indices from the config (names or numbers; "" is the paper's
    8 -> 0, or the last class -> the first where there are fewer than nine)."""

    def index(value: str, default: int, key: str) -> int:
        if value == "":
            return default
        if value in classes:
            return classes.index(value)
        if value.isdigit() and int(value) < len(classes):
            return int(value)
        raise ConfigError([f"adversarial.{key} = '{value}': not a class; the classes: {', '.join(classes)}"])

    source = index(str(settings["source"]), min(8, len(classes) - 1), "source")
    target = index(str(settings["target"]), 0, "target")
    if source == target:
        raise ConfigError([f"adversarial: source and target are both '{classes[source]}'; pick two classes"])
    return source, target


def on_grid(x: torch.Tensor) -> torch.Tensor:
    return (x * 255).round() / 255


def step_sizes(epsilon: float, steps: int) -> dict:
    """The attack's bound and step on the 1/255 grid: steps of 2.5 epsilon / steps (one step of
    size epsilon is FGSM; more is PGD). The page's own attack (templates/attack.js) takes them
    from here."""
    size = round(epsilon * 255) / 255
    step = size if steps == 1 else math.ceil(2.5 * size / steps * 255) / 255
    return {"epsilon": size, "step": step, "steps": steps}


def attack(network, images: torch.Tensor, target: int, epsilon: float, steps: int) -> list[torch.Tensor]:
    """[the images, after step 1, ..., after step `steps`] (each (m, C, H, W)), pushed towards
    `target` by targeted sign-gradient steps, kept within epsilon (L-inf)."""
    sizes = step_sizes(epsilon, steps)
    size, step = sizes["epsilon"], sizes["step"]
    wanted = torch.full((len(images),), target, dtype=torch.long, device=images.device)
    x, path = images.clone(), [images]
    network.eval()
    for _ in range(steps):
        x.requires_grad_(True)
        logits, _ = network.logits_and_output(x)
        (grad,) = torch.autograd.grad(F.cross_entropy(logits, wanted), x)
        x = x.detach() - step * grad.sign()  # towards the target: down its loss
        x = on_grid(torch.clamp(torch.min(torch.max(x, images - size), images + size), 0, 1))
        path.append(x)
    return path


def record_attacks(network, dataset, settings: dict, bases: dict, classes: list[str]) -> dict | None:
    """Both attacks on up to `count` held-out examples of the source class the trained model gets
    right, recorded through every layer (reduced by the tour's own bases): the files' arrays
    and the numbers the prose quotes. None where the model cannot be attacked (no gradients:
    brought in as ONNX) or the setting is off."""
    if settings["count"] == 0 or not isinstance(network, Network):
        return None
    source, target = class_pair(settings, classes)
    with torch.no_grad():
        candidates = dataset.test_x[dataset.test_y == source][: 4 * settings["count"]].to(network.device)
        _, said = network.eval().logits_and_output(candidates)
    images = candidates[said.argmax(1) == source][: settings["count"]]  # (m, C, H, W)
    if len(images) == 0:
        return None
    found = {"source": source, "target": target, "count": len(images), "epsilon": settings["epsilon"], "methods": {}}
    for method, steps in (("fgsm", 1), ("pgd", settings["steps"])):
        path = attack(network, images, target, settings["epsilon"], steps)
        per_step = [layer_outputs(network, x.cpu()) for x in path]  # each {layer: (m, width)}
        layers = {}
        for name in per_step[0]:
            stacked = np.stack([outputs[name] for outputs in per_step])  # (steps + 1, m, width)
            basis = bases[name]
            reduced = stacked if basis is None else (stacked - basis["mean"]) @ basis["components"].T
            layers[name] = reduced.astype(np.float16)  # (steps + 1, m, dims)
        predictions = np.stack([outputs[list(outputs)[-1]].argmax(1) for outputs in per_step])  # (steps + 1, m)
        found["methods"][method] = {
            "steps": steps,
            "layers": layers,
            "predictions": predictions.astype(np.uint8),
            "success": (predictions == target).mean(1).tolist(),  # per step
            "images": (path[-1].cpu().flatten(1) * 255).round().numpy().astype(np.uint8),  # (m, C*H*W)
        }
    return found


def where_they_sit(attacks: dict, genuine: dict, labels: np.ndarray) -> dict:
    """Per layer, the share of PGD's final examples nearest (in the tour's space, last epoch) to
    the centroid of the target class's genuine examples, and to the source's: early layers
    still see the source, the last ones the target."""
    source, target = attacks["source"], attacks["target"]
    final = {name: values[-1].astype(np.float64) for name, values in attacks["methods"]["pgd"]["layers"].items()}
    sitting = {}
    for name, points in final.items():
        cloud = genuine[name]["values"][-1].astype(np.float64)  # (N, dims), last epoch
        centroids = np.stack([cloud[labels == c].mean(0) for c in range(int(labels.max()) + 1)])
        nearest = np.linalg.norm(points[:, None] - centroids[None], axis=2).argmin(1)
        sitting[name] = {"target": float((nearest == target).mean()), "source": float((nearest == source).mean())}
    return sitting
