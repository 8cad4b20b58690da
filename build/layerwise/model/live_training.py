"""A linear classifier trained live in the page: its SGD step exported from PyTorch's autograd as
one ONNX graph (the playground's way: make_fx over torch.func.grad, then the dynamo exporter), a
scores graph for the live held-out accuracy, and the article's examples as one byte file.

One step graph serves both linear models of the article: the loss is an input, softmax cross-
entropy (the `softmax` model) or one sigmoid neuron per class with binary cross-entropy one-vs-
rest (the `one_neuron` model), mixed by a 0/1 flag as the playground mixes activations. The
parameters are one flat float32 vector: the classes x pixels weights (a class's template
contiguous, as nn.Linear's weight), then the classes' biases. A batch is BATCH rows of raw pixel
values (0 to 255, scaled inside the graph as data.py scales them) with one-hot targets and a
weight each (1/size for real rows, 0 for padding), so any batch up to BATCH is the same graph.
Nothing here knows the dataset: pixels and classes come from the build's data.
"""

import functools
import math

import numpy as np

from .playground import onnx_bytes, split

BATCH = 64  # the build's batch size (config.py DEFAULTS train.batch_size): an epoch is 125 steps of 8,000
# Plain SGD from zero. 0.3 takes softmax regression to about 90% of the MNIST article's held-out
# digits in one epoch and 90.5% in two (0.1: 88.7% and 88.9%; 0.5 and 1.0 reach 90% sooner, then
# wobble by a point or two between steps); the one-vs-rest neurons get the same step (89.5%,
# 89.6%), as each neuron's gradient is its own binary problem's (their losses are summed over
# the classes, not averaged).
LEARNING_RATE = 0.3
LOSSES = ("softmax", "one_neuron")  # the step's `hyper[1]`: 1 for softmax, 0 for one neuron per class
STEP_INPUTS = ("params", "hyper", "pixels", "targets", "weight")
SCORES_INPUTS = ("params", "pixels")


def parameter_count(pixels: int, classes: int) -> int:
    return classes * pixels + classes


def scores(params, pixels):
    """Class scores (N, classes) of raw pixel rows (N, P) in 0-255, classes read off the biases'
    count: params holds classes x P weights then classes biases."""
    classes = params.shape[0] // (pixels.shape[1] + 1)
    weights = params[:-classes].reshape(classes, pixels.shape[1])  # (K, P)
    return (pixels / 255.0) @ weights.T + params[-classes:]  # (N, K)


def objective(params, hyper, pixels, targets, weight):
    """The batch's weighted loss: softmax cross-entropy (hyper[1] = 1) or every class's binary
    cross-entropy summed (hyper[1] = 0)."""
    import torch.nn.functional as F

    z = scores(params, pixels)  # (B, K)
    cross_entropy = -(targets * F.log_softmax(z, dim=1)).sum(1)  # (B,)
    # log(1 + e^z) - y z, written with softplus: binary cross-entropy with logits, stable for any z
    binary = (F.softplus(z) - targets * z).sum(1)  # (B,)
    return (weight * (hyper[1] * cross_entropy + (1 - hyper[1]) * binary)).sum()


def step(params, hyper, pixels, targets, weight):
    """One SGD step: (new parameters, the batch's loss before it)."""
    import torch

    gradient, loss = torch.func.grad_and_value(objective)(params, hyper, pixels, targets, weight)
    return params - hyper[0] * gradient, loss


def hyper(loss: str, learning_rate: float = LEARNING_RATE) -> np.ndarray:
    return np.array([learning_rate, float(loss == "softmax")], np.float32)


def padded(pixels: np.ndarray, labels: np.ndarray, classes: int) -> dict[str, np.ndarray]:
    """Up to BATCH examples (uint8 rows, labels) as the step's pixels, targets and weight."""
    n, size = len(labels), pixels.shape[1]
    batch = {"pixels": np.zeros((BATCH, size), np.float32), "targets": np.zeros((BATCH, classes), np.float32)}
    batch["pixels"][:n] = pixels
    batch["targets"][np.arange(n), labels] = 1
    batch["weight"] = np.where(np.arange(BATCH) < n, 1 / n, 0).astype(np.float32)
    return batch


def epoch_order(n: int, epoch: int) -> np.ndarray:
    """The training examples' order in an epoch (0, 1, ...): shuffled with the epoch as the seed
    by the playground's mulberry32 Fisher-Yates, which the page runs too (a dataset stored class
    by class would otherwise teach one class a batch)."""
    return split(np.arange(n), 1.0, epoch)[0]


def batches(n: int, epoch: int) -> list[np.ndarray]:
    """An epoch's batches as indices into the training examples, BATCH at a time (the last may be short)."""
    order = epoch_order(n, epoch)
    return [order[start : start + BATCH] for start in range(0, n, BATCH)]


def graph_arguments(source) -> tuple[int, int]:
    """export_graphs' arguments for a dataset: its pixels and classes (from its description)."""
    return math.prod(source.shape), len(source.classes)


@functools.cache
def export_graphs(pixels: int, classes: int) -> dict[str, bytes]:
    """{"step": the SGD step over a padded batch, "scores": scores of any number of examples},
    as ONNX files for P pixels and K classes, once per process."""
    import torch
    from torch.fx.experimental.proxy_tensor import make_fx

    batch = padded(np.zeros((1, pixels), np.uint8), np.zeros(1, int), classes)
    params = torch.zeros(parameter_count(pixels, classes))
    args = [params, torch.from_numpy(hyper("softmax")), *(torch.from_numpy(v) for v in batch.values())]
    step_graph = make_fx(step)(*args).eval()

    class Scores(torch.nn.Module):
        forward = staticmethod(scores)

    examples = {"params": None, "pixels": {0: torch.export.Dim("examples", min=1)}}
    return {
        "step": onnx_bytes(step_graph, args, STEP_INPUTS, ("new_params", "loss")),
        "scores": onnx_bytes(Scores().eval(), [params, args[2]], SCORES_INPUTS, ("scores",), examples),
    }
