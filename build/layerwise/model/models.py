"""Models, three ways, as one `Network`: a module and the named layers the page shows.

1. Layer lines, read like the diagram: "conv1: Conv2d(channels, 10, kernel_size=5)". Arguments
   are Python literals or the data's own numbers: `classes`, `channels`, `height`, `width`,
   `pixels` (C*H*W); for text `classes`, `vocabulary` and `context`; and `auto` (what the previous
   layer gives on its features' axis: a Linear's inputs, a Conv2d's input channels; an Embedding's
   is the vocabulary). Layers are torch.nn's and sequence.py's. Parsed without eval.
2. A factory "module.path:function" or "file.py:function" returning any nn.Module; its shown
   layers are named submodules (default: its top-level children), recorded with forward hooks,
   so a residual block shows as its parts and its sum.
3. A ready .onnx file whose layer outputs are named in config (see onnx_network.py).
Every torch model is dry-run on one dummy example before anything trains, so a shape that does
not fit is one line naming the model and the layer.
"""

import ast
import importlib
import importlib.util
import inspect
import sys
from collections import OrderedDict

import torch
from torch import nn

from ..config import CNN_LAYERS, ModelSpec, ModelSpecError, cnn_layers, first_line
from ..errors import did_you_mean
from .result import TextInfo
from .sequence import LAYERS, Attention, TransformerBlock
from .sources import MNIST_SHAPE

HEADS = {nn.Softmax: "softmax", nn.Sigmoid: "sigmoid", nn.LogSoftmax: "log_softmax"}


# --- kind 1: layer lines ---------------------------------------------------------------------


def parse_layer(text: str, symbols: dict) -> tuple[str, type, list, dict]:
    """'name: Type(args)' -> (name, Type, args, kwargs); `auto` stays the string 'auto'."""
    name, sep, call = text.partition(":")
    name, call = name.strip(), call.strip()
    if not sep or not name.isidentifier():
        raise ModelSpecError(f"layer '{text}': write it as 'name: Type(args)', e.g. 'fc1: Linear(auto, 50)'")

    def value(node):
        if isinstance(node, ast.Name):
            if node.id == "auto" or node.id in symbols:
                return symbols.get(node.id, "auto")
            # True and False too: a flag (bias=, norm_first=, causal=) is as often mistyped as a size.
            raise ModelSpecError(
                f"layer '{text}': unknown name '{node.id}'; use a number, True, False, 'text' in quotes or one "
                f"of auto, {', '.join(symbols)}" + did_you_mean(node.id, ["True", "False", "None", "auto", *symbols])
            )
        return ast.literal_eval(node)

    try:
        node = ast.parse(call, mode="eval").body
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError
        args = [value(a) for a in node.args]
        kwargs = {k.arg: value(k.value) for k in node.keywords}
    except (SyntaxError, ValueError):
        raise ModelSpecError(
            f"layer '{text}': '{call}' is not a call like Linear(320, 50) with literal arguments"
        ) from None
    layer_type = LAYERS.get(node.func.id) or getattr(nn, node.func.id, None)
    if not (isinstance(layer_type, type) and issubclass(layer_type, nn.Module)):
        known = [*LAYERS, *(n for n, t in vars(nn).items() if isinstance(t, type) and issubclass(t, nn.Module))]
        raise ModelSpecError(
            f"layer '{text}': torch.nn has no layer named '{node.func.id}' (nor has Layerwise: {', '.join(LAYERS)})"
            + did_you_mean(node.func.id, known)
        )
    return name, layer_type, args, kwargs


class Inputs:
    """What a model reads and must give: one example's shape and the classes; for text, tokens
    (int64, (N, T)) and the task: next-token models give logits over the vocabulary at every
    position (T, V), classifiers one per class (C,)."""

    def __init__(self, shape, n_classes: int, text: TextInfo | None = None):
        self.shape, self.n_classes, self.text = tuple(shape), n_classes, text
        self.tokens = text is not None
        self.symbols = data_symbols(self.shape, n_classes, text)
        per_position = self.tokens and text.task == "next-token"
        self.expected = (self.shape[0], len(text.vocabulary)) if per_position else (n_classes,)
        self.features = -1 if self.tokens else 1  # the axis `auto` reads: a sequence's features are last

    def dummy(self, length: int | None = None) -> torch.Tensor:
        """One example of zeros: (1, C, H, W) float, or (1, T) tokens (T: the context, or `length`)."""
        if self.tokens:
            return torch.zeros(1, length or self.shape[0], dtype=torch.long)
        return torch.zeros(1, *self.shape)


def not_tokens(where: str, layer: nn.Module) -> ModelSpecError:
    return ModelSpecError(
        f"{where}: its first layer is a {type(layer).__name__}, which does not take tokens; a text source "
        "gives token indices: begin with an Embedding, e.g. 'embed: Embedding(auto, 64)'"
    )


def data_symbols(shape: tuple, n_classes: int, text: TextInfo | None = None) -> dict:
    if text is not None:
        return {"classes": n_classes, "vocabulary": len(text.vocabulary), "context": text.context}
    channels, height, width = shape
    return {
        "classes": n_classes,
        "channels": channels,
        "height": height,
        "width": width,
        "pixels": channels * height * width,
    }


def wants(layer: nn.Module) -> tuple[int, int, str] | None:
    """(axis, size, what) a layer needs of its input, where torch's own message would be cryptic."""
    if isinstance(layer, nn.Linear):
        return -1, layer.in_features, "inputs"
    if isinstance(layer, nn.modules.conv._ConvNd | nn.modules.batchnorm._BatchNorm):
        return 1, getattr(layer, "in_channels", None) or layer.num_features, "channels"
    if isinstance(layer, nn.LayerNorm | TransformerBlock | LAYERS["GRU"] | LAYERS["LSTM"]):
        norm = layer.norm1 if isinstance(layer, TransformerBlock) else layer
        return -1, getattr(layer, "input_size", None) or norm.normalized_shape[-1], "features"
    return None


def keyword_hint(layer_type: type, kwargs: dict) -> str:
    """For a keyword the layer does not take: its keywords, and the close one ('; did you mean ...')."""
    known = [p for p in inspect.signature(layer_type).parameters if p not in ("self", "args", "kwargs")]
    unknown = [k for k in kwargs if k not in known]
    if not unknown:
        return ""
    return f"; {layer_type.__name__} takes {', '.join(known)}" + did_you_mean(unknown[0], known)


def sequential_from_lines(spec: ModelSpec, inputs: Inputs) -> nn.Sequential:
    """The layer lines as an nn.Sequential, built and shape-checked one layer at a time."""
    symbols, shape = inputs.symbols, inputs.shape
    named, x, previous = OrderedDict(), inputs.dummy(), "the input"
    lines = cnn_layers(*shape[1:]) if spec.layers == CNN_LAYERS and not inputs.tokens else spec.layers  # fits the size
    for line in lines:
        try:
            name, layer_type, args, kwargs = parse_layer(line, symbols)
        except ModelSpecError as e:  # which model's line it is, as every other message here says
            raise ModelSpecError(f"models.{spec.name} {e}") from None
        where = f"models.{spec.name} layer {name}"
        if name in named:
            raise ModelSpecError(f"{where}: the name is used twice; give each layer its own name")
        if x.is_floating_point():
            auto = x.shape[inputs.features] if x.dim() > 1 else x.shape[-1]
        else:  # tokens: what an Embedding takes is the vocabulary
            auto = symbols["vocabulary"]
        args = [auto if a == "auto" else a for a in args]
        kwargs = {k: auto if v == "auto" else v for k, v in kwargs.items()}
        try:
            layer = layer_type(*args, **kwargs)
        except (TypeError, ValueError) as e:
            shown = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
            # The call as written (with `auto` filled in), keywords included; a misspelt keyword: the one meant.
            raise ModelSpecError(
                f"{where}: {layer_type.__name__}({shown}): {e}{keyword_hint(layer_type, kwargs)}"
            ) from None
        if not x.is_floating_point() and not isinstance(layer, nn.Embedding):
            raise not_tokens(f"models.{spec.name}", layer)
        need = wants(layer)
        got = x.shape[need[0]] if need and x.dim() >= 2 else None
        if need and got != need[1]:
            raise ModelSpecError(
                f"{where}: expects {need[1]} {need[2]}, gets {got} from {previous} "
                f"(shape {list(x.shape[1:])}); write {layer_type.__name__}(auto, ...) to take "
                "what comes"
            )
        try:
            with torch.no_grad():
                x = layer.eval()(x)
        except Exception as e:  # torch raises many kinds; the first line says what
            raise ModelSpecError(
                f"{where}: fails on shape {list(x.shape[1:])} from {previous}: {first_line(e)}"
            ) from None
        named[name], previous = layer, name
    if not named:
        raise ModelSpecError(
            f"models.{spec.name}.layers is empty; list the layers, e.g. ['flatten: Flatten()', "
            "'fc: Linear(auto, classes)']"
        )
    return nn.Sequential(named)


# --- kind 2: a factory -----------------------------------------------------------------------


def import_factory(spec: ModelSpec):
    """(function, where) for 'module.path:function' or 'file.py:function' (relative to base)."""
    module_name, sep, function_name = spec.factory.partition(":")
    where = f"models.{spec.name}.factory = '{spec.factory}'"
    if not sep or not function_name.isidentifier():
        raise ModelSpecError(f"{where}: write 'module.path:function' or 'file.py:function'")
    try:
        if module_name.endswith(".py"):
            path = (spec.base / module_name).resolve()
            if not path.exists():
                raise ModelSpecError(f"{where}: {path} does not exist; put the file there or fix the path")
            loader = importlib.util.spec_from_file_location(f"layerwise_factory_{path.stem}", path)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            sys.path.insert(0, str(spec.base.resolve()))
            try:
                module = importlib.import_module(module_name)
            finally:
                sys.path.remove(str(spec.base.resolve()))
    except ModelSpecError:
        raise
    except Exception as e:
        raise ModelSpecError(f"{where}: cannot import {module_name} ({type(e).__name__}: {first_line(e)})") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ModelSpecError(f"{where}: {module_name} has no function '{function_name}'")
    return function, where


def module_from_factory(spec: ModelSpec, inputs: Inputs) -> nn.Module:
    """Call the factory with config's args, plus the data's numbers its signature asks for:
    `shape`, `classes`; for text `vocabulary` and `context`."""
    function, where = import_factory(spec)
    kwargs = dict(spec.args)
    parameters = inspect.signature(function).parameters
    asked = {"shape": inputs.shape, "classes": inputs.n_classes}
    if inputs.tokens:
        asked |= {"vocabulary": inputs.symbols["vocabulary"], "context": inputs.symbols["context"]}
    for name, value in asked.items():
        if name in parameters and name not in kwargs:
            kwargs[name] = value
    try:
        module = function(**kwargs)
    except Exception as e:
        raise ModelSpecError(f"{where}: calling it fails ({type(e).__name__}: {first_line(e)})") from None
    if not isinstance(module, nn.Module):
        raise ModelSpecError(f"{where}: returned {type(module).__name__}, not a torch.nn.Module")
    return module


# --- one interface for every torch model -----------------------------------------------------


def page_name(path: str) -> str:
    """A shown submodule's name in the page and its ONNX file: its path, or layer_N for child N of
    a plain nn.Sequential (ONNX refuses a name that is a number)."""
    return f"layer_{path}" if path.isdigit() else path


LENS = ".lens"  # "<block>.lens": the logit lens of a transformer block (Network.lens)


class Network:
    """A torch module and the names of its submodules the page shows, in forward order.

    outputs(x) runs the module once and returns each shown layer's output (forward hooks), and
    the model's own output as 'output' when no shown layer gives it. Layers go by page_name.
    `lens`: for each transformer block of a model that predicts at every position, the layers
    after its last block (the final norm and unembedding), which read that block's residual
    stream as logits too ("<block>.lens", the logit lens)."""

    def __init__(
        self,
        name: str,
        module: nn.Module,
        shown: list[str],
        with_output: bool,
        head: nn.Module | None,
        inputs: Inputs | None = None,
        lens: dict[str, nn.Module] | None = None,
    ):
        self.paths = {page_name(path): path for path in shown}  # page name -> submodule path
        self.name, self.module, self.shown, self.with_output = name, module, list(self.paths), with_output
        self.head_module = head  # a final Softmax / Sigmoid / LogSoftmax, whose input is the logits
        self.head = HEADS.get(type(head), "logits")
        self.inputs = inputs
        self.lens = lens or {}  # shown block's page name -> the readout after the last block

    @property
    def layer_names(self) -> list[str]:
        names = [n for shown in self.shown for n in (shown, *([shown + LENS] if shown in self.lens else []))]
        return names + (["output"] if self.with_output else [])

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters(), torch.empty(0)).device

    def eval(self):
        self.module.eval()
        return self

    def load_weights(self, state: dict) -> None:
        self.module.load_state_dict(state)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.module.parameters())

    def submodule(self, name: str) -> nn.Module:
        return self.module.get_submodule(self.paths[name])

    def layer_type(self, name: str) -> str:
        if name.endswith(LENS) and name.removesuffix(LENS) in self.lens:
            return "Lens"
        return "Output" if name == "output" else type(self.submodule(name)).__name__

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        captured = {}

        def keep(name):
            def hook(module, args, output):
                if name in captured:
                    raise ModelSpecError(
                        f"models.{self.name}: layer '{name}' runs twice in one forward pass; "
                        "give each use its own module"
                    )
                captured[name] = output

            return hook

        handles = [self.submodule(n).register_forward_hook(keep(n)) for n in self.shown]
        try:
            final = self.module(x)
        finally:
            for handle in handles:
                handle.remove()
        for block, readout in self.lens.items():  # after the hooks are gone: the readout's layers run again
            captured[block + LENS] = readout(captured[block])  # (N, T, V)
        result = {name: captured[name] for name in self.layer_names if name != "output" or not self.with_output}
        if self.with_output:
            result["output"] = final
        return result

    def logits_and_output(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(what the loss reads, what the model says): a final Softmax/Sigmoid's input is the logits."""
        if self.head in ("softmax", "sigmoid"):
            seen = {}

            def keep_logits(module, args, output):  # returns None: the output stays the head's own
                seen["logits"] = args[0]

            handle = self.head_module.register_forward_hook(keep_logits)
            try:
                output = self.module(x)
            finally:
                handle.remove()
            return seen["logits"], output
        output = self.module(x)
        return output, output


def dry_run(spec: ModelSpec, module: nn.Module, inputs: Inputs) -> Network:
    """Run `module` on one dummy example with hooks on every submodule: the firing order gives the
    default shown layers (top-level children, and every Attention's probabilities), the last leaf
    gives the loss, and any failure names the layer. Text must meet an Embedding first."""
    names = {m: n for n, m in module.named_modules() if n}
    fired, running, leaves_started = [], [], []  # (module, output) as they finish; running; leaves as they start

    def started(module, args):
        running.append(module)
        if not any(True for _ in module.children()):
            leaves_started.append(module)

    def finished(module, args, output):  # returns None: the output stays as it is
        running.pop()
        fired.append((module, output))

    hooks = [h for m in names for h in (m.register_forward_pre_hook(started), m.register_forward_hook(finished))]
    x, shape = inputs.dummy(), inputs.shape
    try:
        with torch.no_grad():
            final = module.eval()(x)
    except Exception as e:
        if inputs.tokens and leaves_started and not isinstance(leaves_started[0], nn.Embedding):
            raise not_tokens(f"models.{spec.name}", leaves_started[0]) from None
        where = f" in layer {names[running[-1]]}" if running else ""
        raise ModelSpecError(
            f"models.{spec.name}: fails on one example of shape {list(shape)}{where}: {first_line(e)}"
        ) from None
    finally:
        for h in hooks:
            h.remove()
    if inputs.tokens and leaves_started and not isinstance(leaves_started[0], nn.Embedding):
        raise not_tokens(f"models.{spec.name}", leaves_started[0])
    if not isinstance(final, torch.Tensor) or tuple(final.shape[1:]) != inputs.expected:
        raise ModelSpecError(wrong_output(spec, final, inputs))
    order = [names[m] for m, _ in fired]
    outputs = {names[m]: out for m, out in fired}
    shown = shown_layers(spec, module, names, order, outputs)
    leaves = [(m, out) for m, out in fired if not any(True for _ in m.children())]
    last_leaf, last_out = leaves[-1] if leaves else (None, None)
    head = last_leaf if last_out is final and type(last_leaf) in HEADS else None
    with_output = not shown or outputs[shown[-1]] is not final
    lens = logit_lens(module, shown) if final.dim() == 3 else {}
    return Network(spec.name, module, shown, with_output, head, inputs, lens)


def shown_layers(spec: ModelSpec, module: nn.Module, names: dict, order: list[str], outputs: dict) -> list[str]:
    """models.NAME.show, or the top-level children and every Attention's probabilities, in the
    order they run; each must run once and give one tensor."""
    if spec.show:
        for wanted in spec.show:
            if wanted not in set(names.values()):
                known = ", ".join(n for n in names.values() if "." not in n)
                close = did_you_mean(wanted, names.values())
                raise ModelSpecError(f"models.{spec.name}.show: no submodule '{wanted}'; its layers: {known}{close}")
            if wanted not in outputs:
                raise ModelSpecError(f"models.{spec.name}.show: '{wanted}' does not run in the forward pass")
        shown = sorted(set(spec.show), key=order.index)
    else:
        children = {n for n, _ in module.named_children()}
        attention = {n for m, n in names.items() if isinstance(m, Attention)}
        shown = [n for n in dict.fromkeys(order) if n in children or n in attention]
    if len({page_name(name) for name in shown}) < len(shown):
        raise ModelSpecError(
            f"models.{spec.name}: layers {', '.join(shown)} would share a name in the page "
            "(a child N of an nn.Sequential is shown as layer_N); rename one"
        )
    for name in shown:
        if order.count(name) > 1:
            raise ModelSpecError(
                f"models.{spec.name}: layer '{name}' runs {order.count(name)} times in one forward "
                "pass; give each use its own module"
            )
        if not isinstance(outputs[name], torch.Tensor):
            raise ModelSpecError(
                f"models.{spec.name}: layer '{name}' gives a {type(outputs[name]).__name__}, "
                "not one tensor; show its parts instead (models.NAME.show)"
            )
    return shown


def wrong_output(spec: ModelSpec, final, inputs: Inputs) -> str:
    got = list(final.shape[1:]) if isinstance(final, torch.Tensor) else type(final).__name__
    if inputs.tokens and inputs.text.task == "next-token":
        return (
            f"models.{spec.name}: gives {got} per example; a next-token model gives logits over the "
            f"{inputs.expected[1]} tokens of the vocabulary at each position: end with Linear(auto, vocabulary)"
        )
    what = ", after pooling the positions (e.g. Pool('last'))" if inputs.tokens else ""
    return (
        f"models.{spec.name}: gives {got} per example but the data has {inputs.n_classes} classes; "
        f"make its last layer give {inputs.n_classes} (e.g. Linear(auto, classes)){what}"
    )


def logit_lens(module: nn.Module, shown: list[str]) -> dict[str, nn.Module]:
    """{shown transformer block: the layers after the last block}, for a model of layer lines
    (an nn.Sequential) whose output is per position: what the model would predict if it stopped
    after each block. A factory's model has none (its readout is its own)."""
    if not isinstance(module, nn.Sequential):
        return {}
    children = list(module.named_children())
    blocks = [i for i, (_, child) in enumerate(children) if isinstance(child, TransformerBlock)]
    if not blocks:
        return {}
    readout = nn.Sequential(*[child for _, child in children[blocks[-1] + 1 :]])
    return {page_name(children[i][0]): readout for i in blocks if children[i][0] in shown}


def build_network(spec: ModelSpec, shape, n_classes: int, text: TextInfo | None = None) -> Network:
    """The spec's module (untrained, or from its checkpoint), dry-run and ready to show."""
    inputs = Inputs(shape, n_classes, text)
    if spec.layers:
        module = sequential_from_lines(spec, inputs)
    else:
        module = module_from_factory(spec, inputs)
    network = dry_run(spec, module, inputs)
    if spec.checkpoint:
        network.module.load_state_dict(load_checkpoint(spec, network.module))
    return network


def load_checkpoint(spec: ModelSpec, module: nn.Module) -> dict:
    """The state_dict in spec.checkpoint, checked against the module key by key and shape by shape."""
    where = f"models.{spec.name}.checkpoint = '{spec.shown(spec.checkpoint)}'"
    if not spec.checkpoint.exists():
        raise ModelSpecError(f"{where}: no such file")
    try:
        state = torch.load(spec.checkpoint, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelSpecError(
            f"{where}: not a torch checkpoint ({first_line(e)}); save one with torch.save(model.state_dict(), path)"
        ) from None
    if isinstance(state, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(state.get(key), dict):
                state = state[key]
    if not isinstance(state, dict):
        raise ModelSpecError(f"{where}: holds a {type(state).__name__}, not a state_dict")
    state = {k.removeprefix("module."): v for k, v in state.items()}  # saved from DistributedDataParallel
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misfit = [
        f"{k} {list(state[k].shape)} vs {list(v.shape)}"
        for k, v in expected.items()
        if k in state and getattr(state[k], "shape", None) != v.shape
    ]
    problems = [
        f"missing {', '.join(missing[:3])}" if missing else "",
        f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
        f"shapes differ: {', '.join(misfit[:3])}" if misfit else "",
    ]
    if any(problems):
        raise ModelSpecError(f"{where}: does not fit the model ({'; '.join(p for p in problems if p)})")
    return state


def network_from_layers(
    lines: list[str], shape=MNIST_SHAPE, n_classes: int = 10, name: str = "model", text: TextInfo | None = None
) -> Network:
    """A Network from layer lines alone (for scripts and tests; MNIST's shape unless told)."""
    return build_network(ModelSpec(name=name, title=name, layers=list(lines)), shape, n_classes, text)
