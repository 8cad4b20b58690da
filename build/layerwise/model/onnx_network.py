"""A model brought in as a ready .onnx file: its named tensors are the layers the page shows.

It behaves like models.Network (outputs, logits_and_output, layer_names) but runs on
onnxruntime, so the build measures, records and analyses it without PyTorch weights. The graph
is rewritten only to name its input 'image' (what the page feeds) and to expose the tensors
named in config as outputs.
"""

import numpy as np
import onnx
import onnx.helper
import onnxruntime
import torch

from ..config import ModelSpec, ModelSpecError, first_line

HEAD_OPS = {"Softmax": "softmax", "Sigmoid": "sigmoid", "LogSoftmax": "log_softmax"}


def exposing(model: onnx.ModelProto, names: list[str], aliases: dict[str, str] | None = None) -> bytes:
    """The model's bytes with `names` as its graph outputs, in that order; a name in `aliases` is
    an Identity of the graph tensor it maps to (an inner tensor given a declared name)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for alias, tensor in (aliases or {}).items():
        copy.graph.node.append(onnx.helper.make_node("Identity", [tensor], [alias], name=f"expose/{alias}"))
    del copy.graph.output[:]
    copy.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in names)
    return copy.SerializeToString()


class OnnxNetwork:
    def __init__(self, spec: ModelSpec, shape, n_classes: int):
        where = f"models.{spec.name}.onnx = '{spec.shown(spec.onnx)}'"
        try:
            model = onnx.load(str(spec.onnx))
        except Exception as e:
            raise ModelSpecError(f"{where}: not an ONNX file ({first_line(e)})") from None
        graph = model.graph
        weights = {i.name for i in graph.initializer}
        inputs = [i for i in graph.input if i.name not in weights]
        if len(inputs) != 1:
            raise ModelSpecError(f"{where}: has {len(inputs)} inputs; Layerwise feeds one image tensor")
        old = inputs[0].name
        inputs[0].name = "image"
        for node in graph.node:
            node.input[:] = ["image" if n == old else n for n in node.input]
        produced = {out: node for node in graph.node for out in node.output}
        unknown = [n for n in spec.outputs if n not in produced]
        if unknown:
            known = ", ".join(list(produced)[:12])
            raise ModelSpecError(f"{where}: no tensor named {', '.join(unknown[:3])}; its tensors include {known}")
        final = graph.output[0].name
        self.name, self.spec, self.final = spec.name, spec, final
        self.shown = list(dict.fromkeys([*spec.outputs, final]))
        self.with_output = False
        self.types = {n: produced[n].op_type for n in self.shown}
        head_node = produced.get(final)
        self.head = HEAD_OPS.get(head_node.op_type, "logits") if head_node else "logits"
        logits = head_node.input[0] if self.head in ("softmax", "sigmoid") else final
        self.page_bytes = exposing(model, self.shown)
        self.parameters = sum(int(np.prod(i.dims)) for i in graph.initializer)
        self.session = onnxruntime.InferenceSession(exposing(model, [*self.shown, logits]))
        dims = self.session.get_inputs()[0].shape
        self.batched = not isinstance(dims[0], int) or dims[0] != 1
        fixed = [d for d in dims[1:] if isinstance(d, int)]
        if len(dims) != 4 or (len(fixed) == 3 and tuple(fixed) != tuple(shape)):
            raise ModelSpecError(f"{where}: takes input of shape {dims}; the data is (N, {', '.join(map(str, shape))})")
        try:
            out = self.run(np.zeros((1, *shape), np.float32))
        except Exception as e:
            raise ModelSpecError(f"{where}: fails on one example of shape {list(shape)}: {first_line(e)}") from None
        if out[self.shown.index(final)].shape != (1, n_classes):
            raise ModelSpecError(
                f"{where}: gives {list(out[self.shown.index(final)].shape[1:])} per example but the data has "
                f"{n_classes} classes"
            )

    layer_names = property(lambda self: self.shown)
    device = torch.device("cpu")

    def eval(self):
        return self

    def parameter_count(self) -> int:
        return self.parameters

    def load_weights(self, state) -> None:
        """A brought-in ONNX model has one set of weights, its own."""

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        if self.batched:
            return self.session.run(None, {"image": x})
        parts = [self.session.run(None, {"image": x[i : i + 1]}) for i in range(len(x))]
        return [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values = self.run(x.numpy())
        return {name: torch.from_numpy(v) for name, v in zip(self.shown, values)}

    def logits_and_output(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        values = self.run(x.numpy())
        return torch.from_numpy(values[-1]), torch.from_numpy(values[self.shown.index(self.final)])

    def layer_type(self, name: str) -> str:
        return self.types[name]
