"""Layers for sequences of tokens, usable in layer lines by name: a positional embedding, a small
transformer block (its attention probabilities a shown layer), a GRU and an LSTM that give
their output sequence, and pooling over positions; and `transformer_lines`, a next-token model's layer lines.

Tensors are (N, T, D): examples, positions, features. Everything exports to ONNX with the number
of positions T dynamic (1 to the context), so the page runs one file on any length of text.
"""

import math

import torch
from torch import nn


class PositionalEmbedding(nn.Module):
    """A learned vector per position, added to each token's embedding: (N, T, D) -> (N, T, D)."""

    def __init__(self, context: int, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(context, width))  # (context, D)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight[: x.shape[1]]  # (N, T, D)


class Attention(nn.Identity):
    """The attention probabilities (N, H, T, T), query by key, per head: an identity placed after
    the softmax so a forward hook shows them. Shown by default wherever it sits in a model."""


class SelfAttention(nn.Module):
    """Multi-head self-attention; `causal`: a position attends only to itself and those before."""

    def __init__(self, width: int, heads: int, causal: bool):
        super().__init__()
        if width % heads:
            fits = [h for h in range(1, width + 1) if width % h == 0]
            raise ValueError(
                f"width {width} is not a multiple of heads = {heads}: each head reads width / heads features; "
                f"heads = {', '.join(map(str, fits[:-1]))} or {fits[-1]} divide {width}"
            )
        self.heads, self.causal = heads, causal
        self.qkv = nn.Linear(width, 3 * width)
        self.probabilities = Attention()
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4).unbind(0)  # each (N, H, T, d)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (N, H, T, T)
        if self.causal:
            # (T,) 1..T, from the input's own length: ONNX keeps it dynamic (an arange over
            # scores.shape is folded into a constant by the exporter, its shape being lost after unflatten)
            position = torch.ones_like(x[0, :, 0]).cumsum(0)
            allowed = position[None, :] <= position[:, None]  # (T, T): query by key
            scores = scores.masked_fill(~allowed, float("-inf"))
        weights = self.probabilities(scores.softmax(-1))  # (N, H, T, T)
        return self.out((weights @ v).transpose(1, 2).flatten(2))  # (N, T, D)


class TransformerBlock(nn.Module):
    """(N, T, D) -> (N, T, D): the residual stream. Pre-norm by default: x + attention(norm(x)),
    then + mlp(norm(x)). `norm_first=False` normalizes after each sum instead, as torch's
    TransformerEncoderLayer does unless told: the stream stays near unit scale, where a float32
    step is small enough for the page to stay within 1e-5 of PyTorch. (Pre-norm, the fortunes
    model's stream reached 44, where a float32 step is 4e-6: the page was 3.7e-5 off; post-norm
    5e-6, at about the same bits per character once its learning rate was tuned.)"""

    def __init__(self, width: int, heads: int = 4, causal: bool = True, mlp: int = 0, norm_first: bool = True):
        super().__init__()
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(width)
        self.attention = SelfAttention(width, heads, causal)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, mlp or 4 * width), nn.GELU(), nn.Linear(mlp or 4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm_first:
            x = x + self.attention(self.norm1(x))  # (N, T, D)
            return x + self.mlp(self.norm2(x))  # (N, T, D)
        x = self.norm1(x + self.attention(x))  # (N, T, D)
        return self.norm2(x + self.mlp(x))  # (N, T, D)


class GRU(nn.Module):
    """torch's GRU over (N, T, D), giving its output at every position (N, T, hidden): a layer line
    cannot take nn.GRU's (output, state) pair."""

    def __init__(self, inputs: int, hidden: int, layers: int = 1):
        super().__init__()
        self.input_size = inputs
        self.gru = nn.GRU(inputs, hidden, layers, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0]  # (N, T, hidden)


class LSTM(nn.Module):
    """torch's LSTM over (N, T, D), giving its hidden state h at every position (N, T, hidden), as
    GRU does (its cell state c is internal: the gates' detail view shows it for one step)."""

    def __init__(self, inputs: int, hidden: int, layers: int = 1):
        super().__init__()
        self.input_size = inputs
        self.lstm = nn.LSTM(inputs, hidden, layers, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]  # (N, T, hidden)


class Pool(nn.Module):
    """One vector per sequence, for classification: the last position's ("last") or the mean over
    positions ("mean"). (N, T, D) -> (N, D)."""

    def __init__(self, how: str = "last"):
        super().__init__()
        if how not in ("last", "mean"):
            raise ValueError(f"Pool('{how}'): write Pool('last') or Pool('mean')")
        self.how = how

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1] if self.how == "last" else x.mean(1)  # (N, D)


# What layer lines may name besides torch.nn's layers (this GRU and LSTM stand in for nn's).
LAYERS = {layer.__name__: layer for layer in (PositionalEmbedding, TransformerBlock, GRU, LSTM, Pool)}


def transformer_lines(blocks: int = 2, heads: int = 4, width: int = 64, norm_first: bool = False) -> list[str]:
    """A next-token transformer as layer lines, as content/transformer.toml writes it: token and
    position embeddings, causal blocks (post-norm unless `norm_first`), a final norm and the
    unembedding to the vocabulary."""
    return [
        f"embed: Embedding(auto, {width})",
        f"position: PositionalEmbedding(context, {width})",
        *[f"block{b}: TransformerBlock({width}, heads={heads}, norm_first={norm_first})" for b in range(1, blocks + 1)],
        f"norm: LayerNorm({width})",
        "output: Linear(auto, vocabulary)",
    ]
