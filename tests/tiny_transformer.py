"""A dev stand-in for the text-model half: a 2-block character transformer with random weights,
exported as the shared interface of #24 says (input 'tokens' int64 (N, T), one output per shown
layer, attention probabilities (H, T, T), the logit lens per block), and a BuildResult around it
that the page half can render without a pipeline."""

import io
import math
import warnings

import torch
from torch import nn

from layerwise.model.result import BuildResult, DatasetInfo, LayerInfo, ModelResult, TextInfo


class Block(nn.Module):
    def __init__(self, width: int, heads: int, context: int):
        super().__init__()
        self.heads, self.norm1, self.norm2 = heads, nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
        self.register_buffer("mask", torch.ones(context, context).triu(1).bool())

    def forward(self, x):  # (N, T, D) -> (N, T, D), (N, H, T, T)
        n, t, d = x.shape
        qkv = self.qkv(self.norm1(x)).view(n, t, 3, self.heads, d // self.heads)  # (N, T, 3, H, d/H)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # (N, H, T, d/H) each
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)  # (N, H, T, T)
        attention = scores.masked_fill(self.mask[:t, :t], float("-inf")).softmax(-1)  # (N, H, T, T)
        x = x + self.out((attention @ v).transpose(1, 2).reshape(n, t, d))  # (N, T, D)
        return x + self.mlp(self.norm2(x)), attention


class TinyTransformer(nn.Module):
    def __init__(self, vocabulary: int, context: int = 64, width: int = 32, heads: int = 2, blocks: int = 2):
        super().__init__()
        self.token, self.position = nn.Embedding(vocabulary, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads, context) for _ in range(blocks))
        self.norm, self.unembed = nn.LayerNorm(width), nn.Linear(width, vocabulary)

    def forward(self, tokens):  # (N, T) int64 -> every shown layer
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.token(tokens) + self.position(positions)  # (N, T, D)
        outputs = [x]
        for block in self.blocks:
            x, attention = block(x)
            outputs += [attention, x, self.unembed(self.norm(x))]  # (N, H, T, T), (N, T, D), (N, T, V)
        return (*outputs, self.unembed(self.norm(x)))


def layer_infos(vocabulary: int, context: int, width: int = 32, heads: int = 2, blocks: int = 2) -> list[LayerInfo]:
    layers = [LayerInfo("embed", "Embedding", [context, width])]
    for b in range(blocks):
        layers += [
            LayerInfo(f"block{b}.attention", "Attention", [heads, context, context]),
            LayerInfo(f"block{b}", "Block", [context, width]),
            LayerInfo(f"block{b}.lens", "Lens", [context, vocabulary]),
        ]
    return [*layers, LayerInfo("output", "Linear", [context, vocabulary])]


def export(model: TinyTransformer, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter's notices, as export.py keeps them out
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(), (torch.zeros(1, 5, dtype=torch.int64),), buffer, input_names=["tokens"], output_names=names,
            dynamic_axes={"tokens": {0: "batch", 1: "tokens"}, **{n: {0: "batch"} for n in names}},
            dynamo=False, opset_version=17,
        )  # fmt: skip
    return buffer.getvalue()


def tiny_result(text: str, examples: list[str], context: int = 64, seed: int = 0) -> BuildResult:
    """A next-token BuildResult whose one model is the tiny transformer on `text`'s characters."""
    from PIL import Image

    torch.manual_seed(seed)
    vocabulary = sorted(set(text)) + ["\ufffd"]  # the last one stands for the unknown
    model = TinyTransformer(len(vocabulary), context)
    layers = layer_infos(len(vocabulary), context)
    thumbnail = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(thumbnail, format="PNG")
    info = TextInfo("next-token", vocabulary, len(vocabulary) - 1, context, examples)
    dataset = DatasetInfo("tiny text", (context,), [], "quotation", "", 100, len(examples), text=info)
    onnx_path = "models/transformer.onnx"
    described = ModelResult(
        "transformer", "A tiny transformer", "random weights (a dev stand-in)", {}, layers, onnx_path
    )
    files = {onnx_path: export(model, [layer.name for layer in layers]), "thumbnail.png": thumbnail.getvalue()}
    return BuildResult(dataset, {"transformer": described}, {}, {}, {"layers": {}}, files)
