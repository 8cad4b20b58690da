"""Every model to ONNX, with each shown layer's output as a named graph output.

The browser runs this very file with onnxruntime-web, so the page can draw every layer. Layers
are captured with forward hooks while tracing, so any nn.Module exports, not only a Sequential.
"""

import io
import warnings

import onnx
import onnx.numpy_helper
import torch
from torch import nn

from .. import contract
from ..config import ModelSpecError, first_line
from .models import Network


class EveryLayer(nn.Module):
    """Runs a Network's module and returns each shown layer's output, in forward order."""

    def __init__(self, network: Network):
        super().__init__()
        self.module = network.module
        self.network = network

    def forward(self, x):
        return tuple(self.network.outputs(x).values())


def dynamic_axes(network: Network) -> dict[str, dict[int, str]]:
    """The axes of the input and of every output that vary: the batch, and for text the positions
    (found by running two lengths: attention's (N, H, T, T) has two)."""
    inputs = network.inputs
    axes = {contract.INPUTS["image"]: {0: "batch"}, **{n: {0: "batch"} for n in network.layer_names}}
    if not inputs.tokens:
        return axes
    with torch.no_grad():
        full, shorter = (network.outputs(inputs.dummy(length)) for length in (inputs.shape[0], inputs.shape[0] - 1))
    for name in network.layer_names:
        axes[name] |= {a: "tokens" for a in range(1, full[name].dim()) if full[name].shape[a] != shorter[name].shape[a]}
    return {contract.INPUTS["text"]: {0: "batch", 1: "tokens"}, **{n: axes[n] for n in network.layer_names}}


def export_onnx(network, shape) -> bytes:
    """The ONNX bytes of `network`: input 'image' (N, C, H, W) or 'tokens' (N, T) (contract.INPUTS),
    one output per shown layer."""
    if not isinstance(network, Network):  # brought in as ONNX: its own file, outputs exposed
        return network.page_bytes
    network.module.eval()
    names = network.layer_names
    axes = dynamic_axes(network)
    buffer = io.BytesIO()
    # The TorchScript exporter: exact, fast (50 ms) and keeps our output names; its deprecation
    # notice is not news to the user of a build.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                EveryLayer(network),
                (network.inputs.dummy(),),
                buffer,
                input_names=list(axes)[:1],
                output_names=names,
                dynamic_axes=axes,
                dynamo=False,
                opset_version=17,
                # A Linear over a sequence (N, T, D) exports as a MatMul, whose weight folding would
                # store transposed and unnamed: unfolded, every weight keeps its torch name
                # (weights_from_onnx); onnxruntime folds the transposes itself when it loads the file.
                do_constant_folding=not network.inputs.tokens,
            )
        onnx.checker.check_model(onnx.load_from_string(buffer.getvalue()))
    except Exception as e:
        raise ModelSpecError(
            f"models.{network.name}: cannot be exported to ONNX for the page "
            f"({type(e).__name__}: {first_line(e)[:300]})"
        ) from None
    return buffer.getvalue()


def weights_from_onnx(module: nn.Module, onnx_bytes: bytes) -> dict:
    """The state dict stored in an exported file (its initializers keep torch's names). Equal
    tensors are stored once, the other names as Identity nodes of it; a buffer inference never
    reads (BatchNorm's num_batches_tracked) is not stored and keeps the module's value."""
    graph = onnx.load_from_string(onnx_bytes).graph
    stored = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in stored:
            stored[node.output[0]] = stored[node.input[0]]
    stored = {name.removeprefix("module."): value for name, value in stored.items()}
    return {name: stored.get(name, value) for name, value in module.state_dict().items()}
