"""The playground's model half: 2-D datasets, one network that is every network the reader can
build, its training step exported from PyTorch's autograd as one ONNX graph, and PyTorch runs of
the same setups (the reference the page is checked against, and the numbers articles quote).

One graph serves every architecture: the widest network (FEATURES in, LAYERS hidden layers of
WIDTH neurons, one output) whose parameters are one flat float32 vector (`layout()`), with a mask
saying which parameters exist (a removed neuron or an unused feature has none), which hidden
layers are on (an off layer passes its input through, so the output reads the last one on), the
activation as a one-hot mixing ReLU, tanh, sigmoid and linear, and the hyperparameters as inputs.
A batch is BATCH rows with a weight each (1/size for real rows, 0 for padding), so any batch size
up to BATCH is the same graph. Loss, as TensorFlow Playground's: half the squared error against
labels of -1 and +1 (classification, tanh output) or targets (regression, linear output), plus
L1 or L2 of the weights (not biases); plain SGD.

Datasets are TensorFlow Playground's formulas, reimplemented, drawn from mulberry32 (a 32-bit
generator simple enough to be the same in templates/playground-state.js, which makes the same
points for a seed); or an author's own, read from a CSV (read_points), in the plane as written.
"""

import contextlib
import csv
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ContentError

# Input features: a name for links, the label the page shows.
FEATURES = {"x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂", "sinx1": "sin x₁", "sinx2": "sin x₂"}
# The widest network: 8 layers of 16 neurons (TensorFlow Playground stops at 6 of 8, and its
# users ask for more); a step over its 2,193 parameters and 32 rows takes about 5 ms in
# onnxruntime-web on a 2-core machine, well over the 30 steps a second the page needs.
LAYERS, WIDTH, BATCH = 8, 16, 32
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
CLASSIFY, REGRESS = ("circle", "xor", "gauss", "spiral"), ("plane", "multigauss")
POINTS = {"classification": 500, "regression": 1200}  # as TensorFlow Playground draws them
EXTENT = 6.0  # the plane shown: [-6, 6] on both axes
LAYER_SIZE = WIDTH * WIDTH + WIDTH  # weights [in][out], then biases; the input is padded to WIDTH
PARAMETERS = LAYERS * LAYER_SIZE + WIDTH + 1  # then the output's weights and bias


def layout() -> dict:
    """Where each part of the flat parameter vector is: offsets the page reads (contract), and
    each tensor by name with its offset and shape (what a download names)."""
    tensors = {}
    for layer in range(LAYERS):
        base = layer * LAYER_SIZE
        tensors[f"layer{layer + 1}.weight"] = {"offset": base, "shape": [WIDTH, WIDTH]}  # row = input, column = neuron
        tensors[f"layer{layer + 1}.bias"] = {"offset": base + WIDTH * WIDTH, "shape": [WIDTH]}
    tensors["output.weight"] = {"offset": LAYERS * LAYER_SIZE, "shape": [WIDTH, 1]}
    tensors["output.bias"] = {"offset": LAYERS * LAYER_SIZE + WIDTH, "shape": [1]}
    return {
        "layer_size": LAYER_SIZE,
        "weights": 0,  # + layer * layer_size, WIDTH x WIDTH, row = input, column = neuron
        "biases": WIDTH * WIDTH,  # + layer * layer_size
        "output_weights": LAYERS * LAYER_SIZE,
        "output_bias": LAYERS * LAYER_SIZE + WIDTH,
        "parameters": PARAMETERS,
        "tensors": tensors,
    }


# --- data -------------------------------------------------------------------------------------


class Random:
    """mulberry32: uniform floats in [0, 1) from a 32-bit seed (templates/playground-state.js)."""

    def __init__(self, seed: int):
        self.state = seed & 0xFFFFFFFF

    def __call__(self) -> float:
        self.state = a = (self.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = ((a ^ (a >> 15)) * (1 | a)) & 0xFFFFFFFF
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & 0xFFFFFFFF)) & 0xFFFFFFFF) ^ t
        return (t ^ (t >> 14)) / 4294967296

    def uniform(self, a: float, b: float) -> float:
        return self() * (b - a) + a

    def normal(self, mean: float, variance: float) -> float:
        while True:  # Marsaglia's polar method
            v1, v2 = 2 * self() - 1, 2 * self() - 1
            s = v1 * v1 + v2 * v2
            if s <= 1:
                break
        return mean + math.sqrt(variance) * math.sqrt(-2 * math.log(s) / s) * v1


def generate(name: str, n: int, noise: float, seed: int) -> np.ndarray:
    """n points of a named dataset as rows (x1, x2, label), noise in [0, 0.5], in the order drawn."""
    rng, points = Random(seed), []
    if name == "circle":
        radius = 5
        for low, high in ((0, radius * 0.5), (radius * 0.7, radius)):  # inside, then outside
            for _ in range(n // 2):
                r, angle = rng.uniform(low, high), rng.uniform(0, 2 * math.pi)
                x, y = r * math.sin(angle), r * math.cos(angle)
                nx, ny = rng.uniform(-radius, radius) * noise, rng.uniform(-radius, radius) * noise
                points.append((x, y, 1 if math.hypot(x + nx, y + ny) < radius * 0.5 else -1))
    elif name == "xor":
        for _ in range(n):
            x, y = rng.uniform(-5, 5), rng.uniform(-5, 5)
            x, y = x + (0.3 if x > 0 else -0.3), y + (0.3 if y > 0 else -0.3)  # apart from the axes
            nx, ny = rng.uniform(-5, 5) * noise, rng.uniform(-5, 5) * noise
            points.append((x, y, 1 if (x + nx) * (y + ny) >= 0 else -1))
    elif name == "gauss":
        variance = 0.5 + 7 * noise  # 0.5 at no noise, 4 at the most
        for centre, label in ((2, 1), (-2, -1)):
            for _ in range(n // 2):
                points.append((rng.normal(centre, variance), rng.normal(centre, variance), label))
    elif name == "spiral":
        half = n // 2
        for turn, label in ((0, 1), (math.pi, -1)):
            for i in range(half):
                r, t = i / half * 5, 1.75 * i / half * 2 * math.pi + turn
                points.append(
                    (r * math.sin(t) + rng.uniform(-1, 1) * noise, r * math.cos(t) + rng.uniform(-1, 1) * noise, label)
                )
    elif name in REGRESS:
        for _ in range(n):
            x, y = rng.uniform(-EXTENT, EXTENT), rng.uniform(-EXTENT, EXTENT)
            nx, ny = rng.uniform(-EXTENT, EXTENT) * noise, rng.uniform(-EXTENT, EXTENT) * noise
            points.append((x, y, regression_target(name, x + nx, y + ny)))
    else:
        raise ValueError(f"no dataset '{name}'")
    return np.array(points, dtype=np.float64)


GAUSSIANS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def regression_target(name: str, x: float, y: float) -> float:
    if name == "plane":
        return (x + y) / 10
    label = 0.0  # multigauss: the strongest of six bumps, each 1 at its centre, 0 from 2 away
    for cx, cy, sign in GAUSSIANS:
        value = sign * max(0.0, 1 - math.hypot(x - cx, y - cy) / 2)
        if abs(value) > abs(label):
            label = value
    return label


def shuffle(points: np.ndarray, rng: Random) -> np.ndarray:
    """Fisher-Yates, as the page does it."""
    points = points.copy()
    for counter in range(len(points) - 1, 0, -1):
        index = math.floor(rng() * (counter + 1))
        points[[counter, index]] = points[[index, counter]]
    return points


def split(points: np.ndarray, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled with the seed, then the first `ratio` for training, the rest held out."""
    shuffled = shuffle(points, Random(seed))
    cut = math.floor(len(shuffled) * ratio)  # floor, as the page: no rounding rule to disagree on
    return shuffled[:cut], shuffled[cut:]


# --- an author's own points -------------------------------------------------------------------

MAX_OWN_POINTS = 5000  # every point is drawn and run through the network at each redraw
OWN_COLUMNS = {"label": "classification", "target": "regression"}  # the last column names the problem


@dataclass(frozen=True)
class OwnPoints:
    """An author's points, read from a CSV the figure names: rows (x1, x2, y), y a label mapped
    to -1 or +1 (classification; `labels` the names of -1 and +1, in sorted order) or a target
    (regression). `name` is the file as the directive wrote it, what the page's picker shows."""

    name: str
    problem: str
    labels: tuple[str, ...]
    rows: tuple[tuple[float, float, float], ...]


def read_points(path: Path, name: str) -> OwnPoints:
    """An author's CSV (a header x1, x2 and label or target; a point a row; points inside the
    plane shown, [-EXTENT, EXTENT]: nothing is rescaled) -> OwnPoints; anything wrong is one
    ContentError at the CSV's line, saying what to do."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise ContentError(path, 1, "the file is empty; its first line names the columns: x1,x2,label (or target)")
        columns = own_columns(path, [cell.strip().lower() for cell in header])
        raw = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if not raw:
        raise ContentError(path, 2, "no points below the header; write one point a line: x1,x2,label")
    if len(raw) > MAX_OWN_POINTS:
        raise ContentError(path, raw[MAX_OWN_POINTS][0], f"more than {MAX_OWN_POINTS} points; keep a sample of them")
    points = [own_row(path, line, row, columns) for line, row in raw]
    problem = OWN_COLUMNS[columns[2][0]]
    labels = own_labels(path, points, [line for line, _ in raw]) if problem == "classification" else ()
    rows = tuple((x1, x2, (labels.index(y) * 2 - 1.0) if labels else float(y)) for x1, x2, y in points)
    return OwnPoints(name, problem, labels, rows)


def own_columns(path: Path, header: list[str]) -> list[tuple[str, int]]:
    """(name, index) of x1, x2 and the label or target column, from the header (line 1)."""
    last = [name for name in OWN_COLUMNS if name in header]
    missing = [name for name in ("x1", "x2") if name not in header] + ([] if last else ["label (or target)"])
    if missing or len(last) > 1:
        problem = f"no column {' and no column '.join(missing)}" if missing else "both a label and a target column"
        # A spreadsheet set to another locale writes ';' (or a tab) between cells: one column here.
        other = next((sep for sep in (";", "\t") if len(header) == 1 and sep in header[0]), None)
        fix = (
            f"the cells are separated by {'tabs' if other == chr(9) else repr(other)}: separate them by commas"
            if other
            else "the header must name x1, x2 and label (classification) or target (regression)"
        )
        raise ContentError(path, 1, f"{problem}; {fix}")
    return [(name, header.index(name)) for name in ("x1", "x2", last[0])]


def own_row(path: Path, line: int, row: list[str], columns: list[tuple[str, int]]) -> tuple[float, float, str]:
    """One row's x1, x2 (numbers in the plane) and its label (text) or target (a number)."""
    cells = {}
    for name, index in columns:
        cell = row[index].strip() if index < len(row) else ""
        if name == "label":
            if not cell:
                raise ContentError(path, line, "no label; give every point one of the two labels")
            cells[name] = cell
            continue
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ContentError(path, line, f"{name} is '{cell}', not a number; write a decimal number such as 1.5")
        if name != "target" and abs(value) > EXTENT:
            raise ContentError(
                path,
                line,
                f"{name} = {value:g} is outside the plane shown, [-{EXTENT:g}, {EXTENT:g}]; scale the points",
            )
        cells[name] = value
    x1, x2, y = (cells[name] for name, _ in columns)
    return x1, x2, y


def own_labels(path: Path, points: list, lines: list[int]) -> tuple[str, str]:
    """The two labels, sorted (as numbers where both are), the first to be -1; a third is an error at its line."""
    seen: list[str] = []
    for (_, _, label), line in zip(points, lines):
        if label not in seen:
            seen.append(label)
        if len(seen) > 2:
            raise ContentError(
                path,
                line,
                f"a third label '{label}' (after '{seen[0]}' and '{seen[1]}'); classification takes two:"
                " keep two, or name the column target for regression",
            )
    if len(seen) < 2:
        raise ContentError(path, 1, f"every point is labelled '{seen[0]}'; classification needs two labels")
    try:
        return tuple(sorted(seen, key=float))
    except ValueError:
        return tuple(sorted(seen))


# --- the network ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Everything the reader (or a directive) sets: what the page's URL fragment holds."""

    data: str = "circle"
    noise: float = 0.0
    ratio: float = 0.5
    features: tuple[str, ...] = ("x1", "x2")
    layers: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    batch: int = 10
    regularization: str = "none"  # none, l1, l2
    rate: float = 0.0
    seed: int = 1
    own: OwnPoints | None = None  # an author's points, when `data` names their CSV (noise is not applied)

    @property
    def problem(self) -> str:
        if self.own:
            return self.own.problem
        return "regression" if self.data in REGRESS else "classification"

    def points(self) -> np.ndarray:
        """Every point as rows (x1, x2, label or target), before the split."""
        if self.own:
            return np.array(self.own.rows, dtype=np.float64)
        return generate(self.data, POINTS[self.problem], self.noise, self.seed)

    def dataset(self) -> tuple[np.ndarray, np.ndarray]:
        return split(self.points(), self.ratio, self.seed)


def masks(setup: Setup) -> dict[str, np.ndarray]:
    """The graph's architecture inputs for a setup: which parameters exist, which layers are on,
    the activation's one-hot, and the hyperparameters [learning rate, L1, L2, tanh output]."""
    existing = np.zeros(PARAMETERS, np.float32)
    previous = np.array([name in setup.features for name in FEATURES] + [False] * (WIDTH - len(FEATURES)))
    for layer, count in enumerate(setup.layers):
        neurons = np.arange(WIDTH) < count
        base = layer * LAYER_SIZE
        existing[base : base + WIDTH * WIDTH] = np.outer(previous, neurons).ravel()
        existing[base + WIDTH * WIDTH : base + LAYER_SIZE] = neurons
        previous = neurons
    existing[LAYERS * LAYER_SIZE : PARAMETERS - 1] = previous
    existing[-1] = 1
    on = (np.arange(LAYERS) < len(setup.layers)).astype(np.float32)
    activation = np.array([a == setup.activation for a in ACTIVATIONS], np.float32)
    rate = setup.rate if setup.regularization != "none" else 0.0
    hyper = [setup.learning_rate, rate * (setup.regularization == "l1"), rate * (setup.regularization == "l2")]
    hyper.append(float(setup.problem == "classification"))
    return {"mask": existing, "layers": on, "activation": activation, "hyper": np.array(hyper, np.float32)}


def initial(setup: Setup) -> np.ndarray:
    """Weights uniform in [-0.5, 0.5], biases 0.1 (TensorFlow Playground's), drawn from seed + 1."""
    rng = Random(setup.seed + 1)
    params = np.array([rng.uniform(-0.5, 0.5) for _ in range(PARAMETERS)], np.float32)
    params[is_bias()] = 0.1
    return params * masks(setup)["mask"]


def is_bias() -> np.ndarray:
    bias = np.zeros(PARAMETERS, bool)
    for layer in range(LAYERS):
        bias[layer * LAYER_SIZE + WIDTH * WIDTH : (layer + 1) * LAYER_SIZE] = True
    bias[-1] = True
    return bias


def network(params, mask, layers, activation, hyper, x, depth=LAYERS):
    """Every neuron's output over points x (N, 2): (features (N, WIDTH), hidden (N, depth, WIDTH),
    output (N,), pre (N, depth, WIDTH): each hidden neuron's input to its activation). Plain torch
    functions, traced for export and run as they are for reference, where `depth` skips the layers
    that are off (they pass their input on exactly)."""
    import torch

    p = params * mask
    x1, x2 = x[:, 0], x[:, 1]
    h = torch.stack([x1, x2, x1 * x1, x2 * x2, x1 * x2, torch.sin(x1), torch.sin(x2)], 1)
    h = features = torch.cat([h, torch.zeros_like(x1)[:, None].expand(-1, WIDTH - len(FEATURES))], 1)
    hidden, pre = [], []
    for layer in range(depth):
        base = layer * LAYER_SIZE
        z = h @ p[base : base + WIDTH * WIDTH].reshape(WIDTH, WIDTH) + p[base + WIDTH * WIDTH : base + LAYER_SIZE]
        a = (
            activation[0] * torch.relu(z)
            + activation[1] * torch.tanh(z)
            + activation[2] * torch.sigmoid(z)
            + activation[3] * z
        )
        h = layers[layer] * a + (1 - layers[layer]) * h  # a layer that is off passes its input on
        hidden.append(h)
        pre.append(z)
    # (a matrix, not a vector: the exporter's translation of a matrix-vector product's gradient was wrong)
    z = (h @ p[LAYERS * LAYER_SIZE : PARAMETERS - 1].reshape(WIDTH, 1))[:, 0] + p[PARAMETERS - 1]
    output = hyper[3] * torch.tanh(z) + (1 - hyper[3]) * z
    hidden = torch.stack(hidden, 1) if hidden else features.new_zeros(len(x), 0, WIDTH)  # (N, depth, WIDTH)
    pre = torch.stack(pre, 1) if pre else features.new_zeros(len(x), 0, WIDTH)  # (N, depth, WIDTH)
    return features, hidden, output, pre


def objective(params, mask, layers, activation, hyper, x, y, weight, depth=LAYERS):
    """(the batch's loss with the penalty, its data loss): what SGD descends, what the page shows."""
    import torch

    output = network(params, mask, layers, activation, hyper, x, depth)[2]
    data = (weight * 0.5 * (output - y) ** 2).sum()
    weights = params * mask * torch.tensor(~is_bias(), dtype=params.dtype)
    return data + hyper[1] * weights.abs().sum() + hyper[2] * 0.5 * (weights * weights).sum(), data


def step(params, mask, layers, activation, hyper, x, y, weight):
    """One SGD step on a batch: (new parameters, the batch's data loss before it)."""
    import torch

    gradient, data = torch.func.grad(objective, has_aux=True)(params, mask, layers, activation, hyper, x, y, weight)
    return params - hyper[0] * gradient, data


def quick_step(params, mask, layers, activation, hyper, x, y, weight, depth: int):
    """`step` as PyTorch's autograd computes it, through the `depth` layers that are on: the same
    numbers (tests/test_playground.py) four times as fast, for the build's own runs."""
    import torch

    params = params.detach().requires_grad_()
    loss, data = objective(params, mask, layers, activation, hyper, x, y, weight, depth)
    (gradient,) = torch.autograd.grad(loss, params)
    return (params - hyper[0] * gradient).detach(), data.detach()


def padded(rows: np.ndarray) -> dict[str, np.ndarray]:
    """Up to BATCH rows (x1, x2, label) as the step's x, y and weight (padding weighs nothing)."""
    x, y, weight = np.zeros((BATCH, 2), np.float32), np.zeros(BATCH, np.float32), np.zeros(BATCH, np.float32)
    x[: len(rows)], y[: len(rows)], weight[: len(rows)] = rows[:, :2], rows[:, 2], 1 / len(rows)
    return {"x": x, "y": y, "weight": weight}


STEP_INPUTS = ("params", "mask", "layers", "activation", "hyper", "x", "y", "weight")
NETWORK_INPUTS = ("params", "mask", "layers", "activation", "hyper", "x")
NETWORK_OUTPUTS = ("features", "hidden", "output", "pre")


def export_graphs() -> dict[str, bytes]:
    """The training step (make_fx over torch.func.grad, then the dynamo exporter) and the network
    over any number of points, as ONNX files: {"step": ..., "network": ...}; see `download_template`
    for the file a reader downloads."""
    import torch
    from torch.fx.experimental.proxy_tensor import make_fx

    setup = Setup()
    arch = masks(setup)
    args = [torch.from_numpy(a) for a in (initial(setup), *arch.values(), *padded(setup.dataset()[0][:BATCH]).values())]
    step_graph = make_fx(step)(*args).eval()
    points = torch.export.Dim("points", min=1)
    dynamic = {name: {0: points} if name == "x" else None for name in NETWORK_INPUTS}
    return {
        "step": onnx_bytes(step_graph, args, STEP_INPUTS, ("new_params", "loss")),
        "network": onnx_bytes(network_module(), args[:6], NETWORK_INPUTS, NETWORK_OUTPUTS, dynamic),
    }


TRANSLATION_TABLES: dict = {}  # opset -> the exporter's table, for this process


@contextlib.contextmanager
def one_translation_table():
    """The dynamo exporter builds its table of aten-to-ONNX translations anew on every export
    (half a second; a build makes a dozen exports). It changes that table only for a custom
    translation, which no export here passes: one table a process serves them all."""
    from torch.onnx._internal.exporter import _constants, _registration

    registry = _registration.ONNXRegistry
    built = registry.__dict__["from_torchlib"]
    build = built.__get__(None, registry)

    def shared(opset_version=_constants.TORCHLIB_OPSET):
        if opset_version not in TRANSLATION_TABLES:
            TRANSLATION_TABLES[opset_version] = build(opset_version=opset_version)
        return TRANSLATION_TABLES[opset_version]

    registry.from_torchlib = staticmethod(shared)
    try:
        yield
    finally:
        registry.from_torchlib = built


def onnx_bytes(function, args, inputs, outputs, dynamic=None) -> bytes:
    """The dynamo exporter's graph without its per-node provenance (the fx node, the Python
    stack: five sixths of the file)."""
    import torch

    with one_translation_table():
        model = torch.onnx.export(
            function,
            tuple(args),
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_shapes=dynamic,
            dynamo=True,
            verbose=False,
        ).model_proto
    for node in model.graph.node:
        node.doc_string = ""
        del node.metadata_props[:]
    del model.graph.value_info[:]
    return model.SerializeToString()


DOWNLOAD_TENSORS = {
    "params": PARAMETERS,
    "mask": PARAMETERS,
    "layers": LAYERS,
    "activation": len(ACTIVATIONS),
    "hyper": 4,
}


def download_template(network: bytes) -> tuple[bytes, dict[str, dict]]:
    """The exported network graph as a file that runs alone on points x (N, 2): its other inputs
    (parameters, mask, layers, activation, hyperparameters) become initializers of raw float32
    data, which the page overwrites with the reader's. -> (the file, {name: {offset, length}}),
    offset being where each one's raw data starts in the file (found by its unique marker
    values), length its float count. Made with the onnx package from the graph already exported:
    no second trace. It holds the default setup's initial network until the page fills it."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(network)
    markers = {  # values no other bytes of the file repeat, one run per tensor
        name: (np.arange(n, dtype=np.float32) + 1000.5 * (k + 1)) * np.float32(1e9)
        for k, (name, n) in enumerate(DOWNLOAD_TENSORS.items())
    }
    kept = [graph_input for graph_input in model.graph.input if graph_input.name not in markers]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    model.graph.initializer.extend(numpy_helper.from_array(marker, name) for name, marker in markers.items())
    data = bytearray(model.SerializeToString())
    setup = Setup()
    defaults = {"params": initial(setup), **masks(setup)}
    places = {}
    for name, marker in markers.items():
        offset = data.find(marker.tobytes())
        assert offset >= 0 and data.count(marker.tobytes()) == 1, name
        data[offset : offset + marker.nbytes] = defaults[name].astype("<f4").tobytes()
        places[name] = {"offset": offset, "length": len(marker)}
    return bytes(data), places


def network_module():
    """`network` as the module the exporter takes (it needs a forward to trace with dynamic points)."""
    import torch

    class Network(torch.nn.Module):
        forward = staticmethod(network)

    return Network().eval()


def epoch_batches(train: np.ndarray, batch: int):
    """An epoch as the page runs it: the training points in order, `batch` at a time."""
    return [train[start : start + batch] for start in range(0, len(train), batch)]


def losses(params, arch: dict, points: np.ndarray, depth: int = LAYERS) -> float:
    """Half the squared error over points, averaged (the page's train and test loss)."""
    import torch

    arch_tensors = (torch.from_numpy(v) for v in arch.values())
    with torch.no_grad():
        output = network(
            torch.as_tensor(params), *arch_tensors, torch.tensor(points[:, :2], dtype=torch.float32), depth
        )[2]
    return float((0.5 * (output.double() - torch.from_numpy(points[:, 2])) ** 2).mean()) if len(points) else 0.0


@functools.cache
def reference(setup: Setup, epochs: int) -> dict:
    """`setup` trained in PyTorch for `epochs` as the page trains it (the same points, initial
    weights and batches): {"train_loss", "test_loss"} after the last epoch, "curve" per epoch,
    and the weights' size."""
    import torch

    train, test = setup.dataset()
    arch = masks(setup)
    arch_tensors = [torch.from_numpy(v) for v in arch.values()]
    params = torch.from_numpy(initial(setup))
    depth, curve = len(setup.layers), []
    for _ in range(epochs):
        for rows in epoch_batches(train, setup.batch):
            batch = (torch.from_numpy(v) for v in padded(rows).values())
            params = quick_step(params, *arch_tensors, *batch, depth)[0]
        curve.append((losses(params, arch, train, depth), losses(params, arch, test, depth)))
    train_loss, test_loss = curve[-1] if curve else (losses(params, arch, train), losses(params, arch, test))
    weights = params.numpy()[~is_bias()]
    return {
        "train_loss": train_loss,
        "test_loss": test_loss,
        "curve": curve,
        "epochs": epochs,
        "weights": float(np.abs(weights).sum()),  # the L1 norm of the weights: what regularization shrinks
        "large_weights": int((np.abs(weights) > 0.1).sum()),
    }
