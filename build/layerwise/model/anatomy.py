"""How each shown layer computes its output, read from the ONNX file the page runs.

For every shown tensor the last operation that produces it is described as a `Step`: its kind
(convolution, pooling, linear, ...), the tensors it reads, its settings (kernel, stride,
padding, ...) and where its weights lie in one float32 file per model. The page's detail views
(templates/detail.js) redo that operation's arithmetic for one position and check it against
what onnxruntime-web computed. A tensor a step reads that the page does not show (the ReLU a
factory applies with torch.relu, a residual block's input) becomes an extra output of the page's
model, so the page has every number the arithmetic needs. Read from the graph, not from
PyTorch, so models brought in as ONNX files are explained the same way.
"""

from dataclasses import dataclass, field

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.shape_inference

from .. import contract
from .onnx_network import exposing

# ONNX ops applied value by value, and the torch modules exported as chains of them.
ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leaky_relu", "Elu": "elu"}
ACTIVATION_OPS |= {"Gelu": "gelu", "Softplus": "softplus"}
ACTIVATION_MODULES = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "GELU": "gelu", "SiLU": "silu"}
ACTIVATION_MODULES |= {"LeakyReLU": "leaky_relu", "ELU": "elu", "Softplus": "softplus"}
ELEMENTWISE_OPS = {"Mul", "Div", "Add", "Sub", "Erf", "Tanh", "Sigmoid", "Pow", "Exp", "Log", "Relu", "Softplus"}
KINDS = ("conv", "maxpool", "avgpool", "linear", "flatten", "softmax", "activation", "batchnorm", "add", "identity")
KINDS += ("attention", "gru", "lstm")


@dataclass
class Step:
    """One shown layer's last operation: `kind` is one of KINDS or "other" (then `settings`
    names its ONNX op); `reads` are tensor names ("image", a shown layer, or an inner tensor the
    page's model exposes); `weights` maps a name (W, B, mean, ...) to [offset, shape] in floats
    into the model's weights file."""

    kind: str
    reads: list[str]
    settings: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    in_shapes: list = field(default_factory=list)  # of each tensor read, no batch axis (None: unknown)
    shape: list | None = None  # of its output, no batch axis
    # Output (row, column) depends on input image rows start[0] + row * jump[0] onwards, size[0]
    # of them (and so for columns); None where it depends on the whole image (after a linear).
    receptive_field: dict | None = None


@dataclass
class Anatomy:
    steps: dict[str, Step]  # shown layer -> its step
    inner: dict[str, Step]  # each unshown tensor a step reads (transitively) -> its own step
    page_onnx: bytes  # the model with every tensor a shown step reads as an output
    weights: bytes  # float32 little-endian, the steps' weights one after another


class Graph:
    """An ONNX graph's lookups: which node makes a tensor, and which names hold constants."""

    def __init__(self, model: onnx.ModelProto):
        graph, self.model = model.graph, model
        self.constants = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
        for node in graph.node:  # in order: an Identity of a constant is one too (equal buffers, shared)
            if node.op_type == "Constant":
                self.constants[node.output[0]] = onnx.numpy_helper.to_array(node.attribute[0].t)
            elif node.op_type == "Identity" and node.input[0] in self.constants:
                self.constants[node.output[0]] = self.constants[node.input[0]]
        self.maker = {out: node for node in graph.node for out in node.output}
        self.readers: dict[str, list] = {}
        for node in graph.node:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)

    def made_by(self, name: str, *ops: str):
        """The node making `name` if its op is one of `ops`, else None."""
        node = self.maker.get(name)
        return node if node is not None and node.op_type in ops else None

    def data_inputs(self, node) -> list[str]:
        return [name for name in node.input if name and name not in self.constants]

    def elementwise_source(self, tensor: str, stop: set[str]) -> list[str]:
        """The tensors a chain of value-by-value ops starts from (GELU exports as Div, Erf,
        Add, Mul, Mul of one input x): walking back until a tensor in `stop` or made otherwise."""
        sources, todo, seen = [], [tensor], set()
        while todo:
            name = todo.pop()
            node = self.maker.get(name)
            if name in seen:
                continue
            seen.add(name)
            if (name in stop and name != tensor) or node is None or node.op_type not in ELEMENTWISE_OPS:
                sources.append(name)
            else:
                todo += self.data_inputs(node)
        return list(dict.fromkeys(sources))


def attributes(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def window(node, spatial: int = 2) -> dict:
    """Kernel, stride, padding (top, left, bottom, right) and dilation of a conv or pool node."""
    a = attributes(node)
    return {
        "kernel": list(a.get("kernel_shape", [])),
        "stride": list(a.get("strides", [1] * spatial)),
        "padding": list(a.get("pads", [0] * 2 * spatial)),
        "dilation": list(a.get("dilations", [1] * spatial)),
    }


def attention_step(graph: Graph, softmax) -> Step | None:
    """An attention layer's probabilities softmax(mask(q @ kᵀ / c)) and their use, probabilities @ v,
    read from the graph (SelfAttention's export): a Step whose settings hold the scale c and, per
    contract.ATTENTION_PARTS, the graph's tensor of each part (describe exposes them under their
    contract names). None where the graph is not that pattern: the softmax is then shown as one."""
    scores = softmax.input[0]  # (N, H, T, T), -inf where masked
    scaled = scores
    while (where := graph.made_by(scaled, "Where")) is not None:  # masked_fill: Where(mask, -inf, x)
        scaled = next((n for n in where.input[1:] if n not in graph.constants), None)
    divide = graph.made_by(scaled, "Div", "Mul")
    if divide is None or divide.input[1] not in graph.constants:
        return None
    scale = float(graph.constants[divide.input[1]])
    scale = scale if divide.op_type == "Div" else 1 / scale
    product = graph.made_by(divide.input[0], "MatMul")
    transpose = product and graph.made_by(product.input[1], "Transpose")
    weighting = [
        n for n in graph.readers.get(softmax.output[0], []) if n.op_type == "MatMul" and n.input[0] == softmax.output[0]
    ]
    if transpose is None or len(weighting) != 1:
        return None
    parts = {"q": product.input[0], "k": transpose.input[0], "v": weighting[0].input[1], "scores": scores}
    parts["heads"] = weighting[0].output[0]
    return Step("attention", list(parts.values()), {"scale": scale, "parts": parts})  # reads in ATTENTION_PARTS' order


def through_layout(graph: Graph, name: str) -> str:
    """Back from `name` past the ops that only move values (Transpose, Squeeze, Unsqueeze, Reshape)."""
    while (node := graph.made_by(name, "Transpose", "Squeeze", "Unsqueeze", "Reshape")) is not None:
        name = node.input[0]
    return name


# The recurrent ops a step is read for: layer type -> (step kind, ONNX's gate order, initial states).
RECURRENT = {"GRU": ("gru", "zrh", 1), "LSTM": ("lstm", "iofc", 2)}


def recurrent_step(graph: Graph, name: str, layer_type: str) -> tuple[Step, dict] | None:
    """A one-layer, one-way GRU or LSTM (torch's, exported as ONNX's op of that name) whose output
    sequence is the shown tensor: its input sequence, and its weights in ONNX's gate order (the
    GRU's z, r, h: W (3H, D) on the input, R (3H, H) on the state, B (6H,): Wb then Rb; the LSTM's
    i, o, f, c: (4H, D), (4H, H), (8H,)), evaluated from the graph (the exporter reorders torch's
    gates); a GRU's reset gate applied after R (linear_before_reset, as torch's). None for anything
    else (two layers, two directions, starting states that are not zeros, peepholes, the reset
    gate before R): the page shows no step for it."""
    kind, gates, states = RECURRENT[layer_type]
    node = graph.made_by(through_layout(graph, name), layer_type)
    if node is None or len(node.input) < 4:
        return None
    a = attributes(node)
    given = [node.input[i] for i in range(5, 5 + states) if len(node.input) > i and node.input[i]]
    zeros = all(graph.made_by(start, "ConstantOfShape") is not None for start in given)
    lengths = node.input[4] if len(node.input) > 4 else ""
    peepholes = len(node.input) > 7 and node.input[7]
    reset_after = layer_type != "GRU" or a.get("linear_before_reset", 0)
    if a.get("direction", "forward") != "forward" or not zeros or lengths or peepholes or not reset_after:
        return None
    W, R, B = constant_values(graph.model, node.input[1:4])  # (1, gH, D), (1, gH, H), (1, 2gH): g gates
    settings = {"hidden": a["hidden_size"], "gates": gates} | ({"linear_before_reset": True} if kind == "gru" else {})
    return Step(kind, [through_layout(graph, node.input[0])], settings), {"W": W[0], "R": R[0], "B": B[0]}


def constant_values(model: onnx.ModelProto, names: list[str]) -> list[np.ndarray]:
    """Tensors computed from the weights alone (no input reaches them), evaluated by onnxruntime on
    the model with them as outputs: its data inputs fed zeros of length 1."""
    import onnxruntime

    session = onnxruntime.InferenceSession(exposing(model, list(names)))
    feeds = {}
    for given in session.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in given.shape]
        feeds[given.name] = np.zeros(shape, dtype=np.int64 if "int64" in given.type else np.float32)
    return session.run(None, feeds)


def step_of(graph: Graph, name: str, layer_type: str, shown: set[str]) -> tuple[Step, dict]:
    """The Step producing tensor `name`, and its weights as arrays."""
    node = graph.maker.get(name)
    if node is None:
        return Step("other", [], {"op": "input"}), {}
    op, a, reads = node.op_type, attributes(node), graph.data_inputs(node)
    const = graph.constants
    if op == "Softmax" and layer_type == "Attention" and (found := attention_step(graph, node)):
        return found, {}
    if layer_type in RECURRENT and (found := recurrent_step(graph, name, layer_type)):
        return found
    if layer_type in ACTIVATION_MODULES and op not in ACTIVATION_OPS:  # a chain, e.g. GELU's erf
        sources = graph.elementwise_source(name, shown)
        if len(sources) == 1:
            return Step("activation", sources, {"function": ACTIVATION_MODULES[layer_type]}), {}
    if op == "Conv":
        weights = {"W": const[node.input[1]]}
        if len(node.input) > 2 and node.input[2]:
            weights["B"] = const[node.input[2]]
        return Step("conv", reads[:1], {**window(node), "groups": a.get("group", 1)}), weights
    if op in ("MaxPool", "AveragePool"):
        settings = window(node) | {"ceil": bool(a.get("ceil_mode", 0))}
        if op == "AveragePool":
            settings["count_padding"] = bool(a.get("count_include_pad", 0))
        return Step("maxpool" if op == "MaxPool" else "avgpool", reads[:1], settings), {}
    if op == "Gemm" and node.input[1] in const:
        w = const[node.input[1]] * a.get("alpha", 1.0)
        weights = {"W": w if a.get("transB", 0) else w.T}  # (out, in)
        if len(node.input) > 2 and node.input[2] in const:
            weights["B"] = np.broadcast_to(const[node.input[2]] * a.get("beta", 1.0), weights["W"].shape[:1])
        return Step("linear", reads[:1]), weights
    if op == "Add" and len(reads) == 1 and reads[0] in graph.maker and graph.maker[reads[0]].op_type == "MatMul":
        matmul = graph.maker[reads[0]]
        bias = next(n for n in node.input if n in const)
        if matmul.input[1] in const:  # x @ W + b, as some exporters write a linear layer
            return Step("linear", graph.data_inputs(matmul)[:1]), {"W": const[matmul.input[1]].T, "B": const[bias]}
    if op in ("Flatten", "Reshape"):
        return Step("flatten", reads[:1]), {}
    if op == "Softmax":
        return Step("softmax", reads[:1], {"axis": a.get("axis", -1)}), {}
    if op in ACTIVATION_OPS:
        settings = {"function": ACTIVATION_OPS[op]}
        if "alpha" in a:
            settings["alpha"] = a["alpha"]
        return Step("activation", reads[:1], settings), {}
    if op == "BatchNormalization":
        names = ("scale", "B", "mean", "var")
        return Step("batchnorm", reads[:1], {"epsilon": a.get("epsilon", 1e-5)}), {
            n: const[i] for n, i in zip(names, node.input[1:5])
        }
    if op == "Add" and len(reads) == 2:
        return Step("add", reads), {}
    if op in ("Identity", "Dropout"):
        return Step("identity", reads[:1]), {}
    return Step("other", reads, {"op": op}), {}


def tensor_shapes(model: onnx.ModelProto) -> dict[str, list | None]:
    """Every tensor's shape without its batch axis, by ONNX shape inference (None if unknown)."""
    inferred = onnx.shape_inference.infer_shapes(model).graph
    shapes = {}
    for info in [*inferred.input, *inferred.value_info, *inferred.output]:
        dims = info.type.tensor_type.shape.dim[1:]
        known = all(d.HasField("dim_value") for d in dims)
        shapes[info.name] = [d.dim_value for d in dims] if known else None
    return shapes


def describe(onnx_bytes: bytes, layers) -> Anatomy:
    """The Step of every shown layer (LayerInfo: name, type, shape), the steps of the unshown
    tensors they read (for tracing receptive fields), the page's model exposing what the shown
    steps read, and every step's weights in one buffer."""
    model = onnx.load_from_string(onnx_bytes)
    graph, shapes = Graph(model), tensor_shapes(model)
    shown = {layer.name: layer.type for layer in layers}
    image = next(i.name for i in model.graph.input if i.name not in graph.constants)
    chunks, offset = [], 0

    def step(name: str, layer_type: str) -> Step:
        nonlocal offset
        found, weights = step_of(graph, name, layer_type, set(shown))
        for key, values in weights.items():
            values = np.ascontiguousarray(values, dtype="<f4")  # (...) as stored
            found.weights[key] = [offset, list(values.shape)]
            chunks.append(values.tobytes())
            offset += values.size
        found.in_shapes = [shapes.get(r) for r in found.reads]
        found.shape = shapes.get(name)
        found.reads = ["image" if r == image else r for r in found.reads]
        return found

    steps = {name: step(name, kind) for name, kind in shown.items()}
    aliases = attention_aliases(steps)
    outputs = [o.name for o in model.graph.output]
    exposed = list(dict.fromkeys(r for s in steps.values() for r in s.reads if r != "image" and r not in outputs))
    inner, todo = {}, list(exposed)
    while todo:  # the unshown tensors behind them, back to shown ones or the image
        name = todo.pop()
        if name not in inner and name not in shown and name != "image" and name not in aliases:
            inner[name] = step(name, "")
            todo += inner[name].reads
    fields = receptive_fields({**inner, **steps})
    for name, found in {**inner, **steps}.items():
        found.receptive_field = fields[name]
    page = exposing(model, outputs + exposed, aliases) if exposed else onnx_bytes
    return Anatomy(steps, inner, page, b"".join(chunks))


def attention_aliases(steps: dict[str, Step]) -> dict[str, str]:
    """Each attention step's parts renamed by the contract's convention ("<layer>.<part>"), its
    reads and settings saying those names: contract name -> the graph's tensor."""
    aliases = {}
    for layer, found in steps.items():
        if found.kind == "attention":
            graph_names = found.settings["parts"]
            named = {part: contract.attention_part(layer, part) for part in contract.ATTENTION_PARTS}
            aliases |= {named[part]: graph_names[part] for part in named}
            found.settings["parts"] = named
            found.reads = list(named.values())
    return aliases


def receptive_fields(steps: dict[str, Step]) -> dict[str, dict | None]:
    """Each tensor's receptive field in the image, composed back through every conv and pool:
    a window (kernel k, stride s, padding p, dilation d) over a field (start, jump, size) gives
    (start - p * jump, jump * s, size + (k - 1) * d * jump), per axis."""
    found: dict[str, dict | None] = {"image": {"start": [0, 0], "jump": [1, 1], "size": [1, 1]}}

    def field(tensor: str) -> dict | None:
        if tensor not in found:
            found[tensor] = None  # (a cycle cannot happen in ONNX; this also ends unknown ones)
            step = steps.get(tensor)
            if step is None or not step.reads:
                return None
            before = [field(r) for r in step.reads]
            if step.kind in ("conv", "maxpool", "avgpool") and before[0]:
                f, w = before[0], step.settings
                found[tensor] = {
                    "start": [f["start"][a] - w["padding"][a] * f["jump"][a] for a in (0, 1)],
                    "jump": [f["jump"][a] * w["stride"][a] for a in (0, 1)],
                    "size": [f["size"][a] + (w["kernel"][a] - 1) * w["dilation"][a] * f["jump"][a] for a in (0, 1)],
                }
            elif step.kind in ("activation", "batchnorm", "identity"):
                found[tensor] = before[0]
            elif step.kind == "add" and all(before) and before[0]["jump"] == before[1]["jump"]:
                # The union of both branches' fields.
                a, b = before
                start = [min(a["start"][k], b["start"][k]) for k in (0, 1)]
                end = [max(a["start"][k] + a["size"][k], b["start"][k] + b["size"][k]) for k in (0, 1)]
                found[tensor] = {"start": start, "jump": a["jump"], "size": [end[k] - start[k] for k in (0, 1)]}
        return found[tensor]

    return {name: field(name) for name in steps}
