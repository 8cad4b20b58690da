"""Each trained model's exact input gradient as one ONNX graph the page runs (attribution, the reader's attack).

The graph takes `image` (N, C, H, W) and `weights` (N, K), a weighting of the classes per row,
and gives `scores` (N, K), the class scores (the logits where the model ends in a softmax or
sigmoid, as templates/attack.js `classScores` reads them; else its output), and
`gradient` (N, C, H, W) = d sum_n (weights_n . scores_n) / d image_n. It is PyTorch's own
autograd: make_fx traces torch.func.grad into plain aten ops (symbolic in the batch, so one graph
serves any number of rows) and the dynamo exporter writes them as ONNX. Two backward ops have no
ONNX translation and are decomposed first: a convolution's input gradient is the transposed
convolution with the same weights; max-pooling's comes from torch's own decomposition table.
"""

import warnings

import torch
from torch import nn

from ..config import first_line
from .models import Network
from .playground import onnx_bytes

INPUTS, OUTPUTS = ("image", "weights"), ("scores", "gradient")


def class_scores(network: Network, image: torch.Tensor) -> torch.Tensor:
    """(N, K) what is differentiated: what the build's attack differentiates (the input of a final
    Softmax or Sigmoid, the logits; else the model's output, log-probabilities after a LogSoftmax)."""
    return network.logits_and_output(image)[0]


class Gradients(nn.Module):
    """(scores, gradient) of a Network for an image batch and class weights: the graph's function."""

    def __init__(self, network: Network):
        super().__init__()
        self.network = network

    def forward(self, image, weights):
        def weighted(x):  # (N, C, H, W) -> a scalar, and the scores
            scores = class_scores(self.network, x)  # (N, K)
            return (weights * scores).sum(), scores

        gradient, scores = torch.func.grad(weighted, has_aux=True)(image)  # (N, C, H, W), (N, K)
        return scores, gradient


def convolution_input_gradient(
    grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed, output_padding, groups, mask
):
    """aten.convolution_backward for a plain convolution's input: the transposed convolution of
    the output's gradient with the same weights (the weights' and bias's gradients are not asked
    for: the graph differentiates the image only)."""
    if transposed or mask[1] or mask[2]:
        return NotImplemented
    spatial = len(input.shape) - 2
    # What the transposed convolution cannot infer: the rows and columns the forward one dropped.
    extra = [
        input.shape[2 + d]
        - ((grad_output.shape[2 + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (weight.shape[2 + d] - 1) + 1)
        for d in range(spatial)
    ]
    transpose = torch.nn.functional.conv_transpose2d if spatial == 2 else torch.nn.functional.conv_transpose1d
    grad_input = transpose(grad_output, weight, None, stride, padding, extra, groups, dilation)
    return grad_input, None, None


def decompositions() -> dict:
    """The backward ops the exporter cannot translate, as ops it can."""
    from torch._decomp import decomposition_table

    pool_backward = torch.ops.aten.max_pool2d_with_indices_backward.default
    return {
        torch.ops.aten.convolution_backward.default: convolution_input_gradient,
        pool_backward: decomposition_table[pool_backward],
    }


def export_gradients(network, shape) -> dict:
    """{"graph": the gradient graph's ONNX bytes or None, "reason": why not, in words, or ""}. A
    model brought in as ONNX has no autograd; a module whose backward the exporter cannot
    translate keeps its forward graph only. Either way the page offers occlusion and says why."""
    if not isinstance(network, Network):
        return {"graph": None, "reason": "it was brought in as ONNX, so the build has no autograd for it"}
    network.module.eval()
    n_classes = class_scores(network, torch.zeros(1, *shape)).shape[1]
    example = (torch.rand(2, *shape), torch.rand(2, n_classes))  # two rows: the batch stays a symbol
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on axis names: not news to an author
            graph = trace_and_export(network, example)
    except Exception as e:  # noqa: BLE001 - whatever the exporter refuses, the page says it in words
        failure = f"{type(e).__name__}: {first_line(e)[:200]}"
        return {"graph": None, "reason": f"models.{network.name}: its gradient could not be exported ({failure})"}
    return {"graph": graph, "reason": ""}


def trace_and_export(network: Network, example: tuple) -> bytes:
    """make_fx over torch.func.grad (symbolic shapes; the parameters stay real tensors, kept as
    constants), then the dynamo exporter with the rows dynamic."""
    from torch.fx.experimental.proxy_tensor import make_fx

    trace = make_fx(
        Gradients(network), decomposition_table=decompositions(), tracing_mode="symbolic", _allow_non_fake_inputs=True
    )
    rows = torch.export.Dim("rows", min=1)
    return onnx_bytes(trace(*example).eval(), example, INPUTS, OUTPUTS, ({0: rows}, {0: rows}))
