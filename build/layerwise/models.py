"""The ladder of models: each an nn.Sequential whose named children are the article's layers.

A layer is written "name: Type(args)", e.g. "conv1: Conv2d(1, 10, kernel_size=5)", where Type
is any torch.nn module. The arguments are Python literals, parsed without eval.
"""

import ast
from collections import OrderedDict

from torch import nn

from .errors import BuildError


class ModelSpecError(BuildError):
    pass


def parse_layer(text: str) -> tuple[str, nn.Module]:
    name, sep, call = text.partition(":")
    name, call = name.strip(), call.strip()
    if not sep or not name.isidentifier():
        raise ModelSpecError(f"layer '{text}': write it as 'name: Type(args)', e.g. 'fc1: Linear(320, 50)'")
    try:
        node = ast.parse(call, mode="eval").body
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (SyntaxError, ValueError):
        raise ModelSpecError(
            f"layer '{text}': '{call}' is not a call like Linear(320, 50) with literal arguments"
        ) from None
    layer_type = getattr(nn, node.func.id, None)
    if not (isinstance(layer_type, type) and issubclass(layer_type, nn.Module)):
        raise ModelSpecError(f"layer '{text}': torch.nn has no layer named '{node.func.id}'")
    try:
        return name, layer_type(*args, **kwargs)
    except TypeError as e:
        raise ModelSpecError(f"layer '{text}': {e}") from None


def build_model(layers: list[str]) -> nn.Sequential:
    """An nn.Sequential from layer lines, in order, each child named as written."""
    named = [parse_layer(line) for line in layers]
    names = [n for n, _ in named]
    if len(set(names)) != len(names):
        raise ModelSpecError(f"layer names must be unique, got {names}")
    return nn.Sequential(OrderedDict(named))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
