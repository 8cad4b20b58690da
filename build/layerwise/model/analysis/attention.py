"""What a sequence model's inner layers do on held-out text: where each attention head looks, and
how well each block's logit lens already predicts the next token (bits per character)."""

import numpy as np
import torch
import torch.nn.functional as F

from ..train import batches_of, trimmed
from .baselines import bits_per_token


def head_summary(weights: torch.Tensor) -> dict[str, np.ndarray]:
    """Per head, summed over examples and queries: the attention on the query's own token, on the
    one before it, on the window's first, and the distance looked back. (N, H, T, T) -> {(H,)}."""
    n, heads, length, _ = weights.shape
    query = torch.arange(length)
    before = weights[:, :, query[1:], query[1:] - 1]  # (N, H, T - 1): each query's previous token
    back = (query[:, None] - query[None, :]).clamp(min=0).float()  # (T, T): how far back each key is
    visible = (weights[:, :1] > 0).float()  # (N, 1, T, T): the keys a query may see (a mask's are 0)
    return {
        # How far back a head spreading its attention evenly over what it sees would look.
        "even_distance": np.full(heads, float(((visible * back).sum(-1) / visible.sum(-1)).sum())),
        "self": weights.diagonal(dim1=-2, dim2=-1).sum((0, 2)).numpy(),
        "previous": before.sum((0, 2)).numpy(),
        "first": weights[:, :, 1:, 0].sum((0, 2)).numpy(),
        "distance": (weights * back).sum((0, 2, 3)).numpy(),
        "queries": np.full(heads, n * length, dtype=float),
        "later_queries": np.full(heads, n * (length - 1), dtype=float),
    }


@torch.no_grad()
def inner_readings(network, x: torch.Tensor, y: torch.Tensor | None, documents, batch: int = 200) -> dict:
    """{"attention": {layer: [per head: self, previous, first (shares of its attention), distance
    (tokens back, on average) and even_distance (as far back as attending evenly would look)]},
    "lens_bits": {layer: bits per token, with its interval}} over
    the held-out windows x (N, T); a lens needs the next tokens y (N, T) and their documents."""
    network.eval()
    kinds = {name: network.layer_type(name) for name in network.layer_names}
    sums, nats = {}, {name: [] for name, kind in kinds.items() if kind == "Lens" and y is not None}
    for rows in batches_of(x, torch.arange(len(x)), batch):  # texts of one length at a time
        outputs = network.outputs(trimmed(x[rows]).to(network.device))
        for name, kind in kinds.items():
            if kind == "Attention":
                part = head_summary(outputs[name].cpu())
                sums[name] = {k: sums[name][k] + v for k, v in part.items()} if name in sums else part
            elif name in nats:
                logits = outputs[name].cpu()  # (n, T, V)
                nats[name].append(F.cross_entropy(logits.flatten(0, 1), y[rows].flatten(), reduction="none"))
    attention = {
        name: [
            {
                "head": h + 1,
                "self": float(s["self"][h] / s["queries"][h]),
                "previous": float(s["previous"][h] / s["later_queries"][h]),
                "first": float(s["first"][h] / s["later_queries"][h]),
                "distance": float(s["distance"][h] / s["queries"][h]),
                "even_distance": float(s["even_distance"][h] / s["queries"][h]),
            }
            for h in range(len(s["self"]))
        ]
        for name, s in sums.items()
    }
    lens = {name: bits_per_token(torch.cat(parts).numpy(), documents) for name, parts in nats.items()}
    return {"attention": attention, "lens_bits": lens}
