"""Every model to ONNX, with each named layer's output as a named graph output.

The browser runs this very file with onnxruntime-web, so the page can draw every layer.
"""

import io
import warnings

import onnx
import onnx.numpy_helper
import torch
from torch import nn


class EveryLayer(nn.Module):
    """Runs an nn.Sequential and returns the output of each of its children, in order."""

    def __init__(self, model: nn.Sequential):
        super().__init__()
        self.model = model

    def forward(self, x):
        outputs = []
        for layer in self.model:
            x = layer(x)
            outputs.append(x)
        return tuple(outputs)


def export_onnx(model: nn.Sequential, input_shape=(1, 28, 28)) -> bytes:
    """The ONNX bytes of `model`: input 'image' (N, 1, 28, 28), one output per layer."""
    model.eval()
    names = [name for name, _ in model.named_children()]
    buffer = io.BytesIO()
    # The TorchScript exporter: for a plain nn.Sequential it is exact, fast (50 ms) and keeps our
    # output names; its deprecation notice is not news to the user of a build.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            EveryLayer(model),
            (torch.zeros(1, *input_shape),),
            buffer,
            input_names=["image"],
            output_names=names,
            dynamic_axes={"image": {0: "batch"}, **{n: {0: "batch"} for n in names}},
            dynamo=False,
            opset_version=17,
        )
    onnx_model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(onnx_model)
    return buffer.getvalue()


def weights_from_onnx(model: nn.Sequential, onnx_bytes: bytes) -> dict:
    """The state dict stored in an exported file (its initializers keep torch's names)."""
    stored = {
        i.name.removeprefix("model."): torch.from_numpy(onnx.numpy_helper.to_array(i).copy())
        for i in onnx.load_from_string(onnx_bytes).graph.initializer
    }
    return {name: stored[name] for name in model.state_dict()}
