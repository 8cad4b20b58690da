"""Attribution: each model's exported gradient graph is PyTorch's autograd, in Python's and the
page's onnxruntime; the page's saliency, integrated gradients and occlusion on the reader's example."""

import numpy as np
import onnxruntime
import pytest
import torch

from layerwise.gradients import class_scores, export_gradients
from layerwise.models import network_from_layers

# A small net with every op whose backward needed help: a convolution, max-pooling, a softmax head.
CONV_POOL = [
    "conv: Conv2d(channels, 4, kernel_size=3, padding=1)",
    "pool: MaxPool2d(2)",
    "relu: ReLU()",
    "flatten: Flatten()",
    "fc: Linear(auto, classes)",
    "softmax: Softmax(dim=1)",
]


def autograd(network, images: torch.Tensor, weights: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(scores, d sum(weights . scores) / d images) as PyTorch computes them."""
    x = images.clone().requires_grad_()
    scores = class_scores(network, x)
    (gradient,) = torch.autograd.grad((weights * scores).sum(), x)
    return scores.detach().numpy(), gradient.numpy()


def test_the_gradient_graph_is_autograd_for_a_conv_and_maxpool_net():
    """Any number of rows (the batch is dynamic), on a 3-channel 8x10 input: both outputs equal
    PyTorch's within 1e-6; the scores are the logits before the softmax."""
    torch.manual_seed(0)
    network = network_from_layers(CONV_POOL, shape=(3, 8, 10), n_classes=5).eval()
    exported = export_gradients(network, (3, 8, 10))
    assert exported["reason"] == "" and exported["graph"]
    session = onnxruntime.InferenceSession(exported["graph"])
    for rows in (1, 7):
        images, weights = torch.rand(rows, 3, 8, 10), torch.randn(rows, 5)
        scores, gradient = session.run(["scores", "gradient"], {"image": images.numpy(), "weights": weights.numpy()})
        want_scores, want_gradient = autograd(network, images, weights)
        assert gradient.shape == (rows, 3, 8, 10)
        assert np.abs(scores - want_scores).max() < 1e-6
        assert np.abs(gradient - want_gradient).max() < 1e-6
        assert np.abs(gradient).max() > 1e-3  # not trivially zero
    logits = network.logits_and_output(images)[0].detach().numpy()
    assert np.abs(scores - logits).max() < 1e-6
