"""What one example is at a layer, for each kind of data: the vectors the Grand Tour (record) and the
manifold analysis read, what a point's hover shows, and how the page places the reader's example.

An image is its pixels at the input and each layer's output flattened. A text to classify (a word)
is the frequency of each character at the input (the bag of characters), each layer's output
averaged over the text's positions, and a layer without positions (the pooled vector, the logits)
as it is; attention probabilities (N, H, T, T) are not one vector per text and are left out. The
page pools the explorer's outputs the same way (templates/representation.js).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import record, train


@dataclass(frozen=True)
class Representation:
    """One kind of data's notion of "an example at a layer"."""

    # (network, examples, source) -> {"input": (N, w), layer: (N, width)}, float32
    vectors: Callable[..., dict[str, np.ndarray]]
    # (examples, source) -> what a point's hover shows: {"thumbnails": uint8 (N, size)} or {"texts": [str]}
    preview: Callable[..., dict]
    # The reader's point at every snapshot of the weights (a model file each) or at the trained model
    # only (the explorer's own outputs, pooled in the page): one ONNX per snapshot is not worth it there.
    every_snapshot: bool
    attacks: bool  # adversarial examples (they move pixels)
    left_out: tuple[str, ...] = ()  # layer types without one vector per example

    def layers(self, network) -> list[str]:
        """The layers an example has a vector at: the input and the shown layers not left out."""
        return ["input", *(n for n in network.layer_names if network.layer_type(n) not in self.left_out)]


def image_vectors(network, images: torch.Tensor, source) -> dict[str, np.ndarray]:
    return record.layer_outputs(network, images)


def image_preview(images: torch.Tensor, source) -> dict:
    return {"thumbnails": (images.flatten(1) * 255).round().numpy().astype(np.uint8)}  # (N, C*H*W)


@torch.no_grad()
def text_vectors(network, tokens: torch.Tensor, source, batch: int = 1000) -> dict[str, np.ndarray]:
    """Per text, run unpadded a length at a time (as training batches them): its characters'
    frequencies, and every layer's output averaged over its positions (attention left out)."""
    network.eval()
    batches = train.batches_of(tokens, torch.arange(len(tokens)), batch)
    with train.one_thread():  # a length's batch is small, as units.py found for its images
        parts = [pooled_batch(network, train.trimmed(tokens[chosen]), source) for chosen in batches]
    where = torch.cat(batches).argsort()  # each text back in its place
    return {name: torch.cat([p[name] for p in parts]).cpu()[where].numpy() for name in parts[0]}


def pooled_batch(network, x: torch.Tensor, source) -> dict[str, torch.Tensor]:
    """Texts of one length (n, T): their characters' frequencies and each kept layer's output
    averaged over positions, each (n, width)."""
    x = x.to(network.device)
    pooled = {"input": F.one_hot(x, len(source.text.vocabulary)).float().mean(1)}  # (n, vocabulary)
    outputs = network.outputs(x)
    for name in KINDS["text"].layers(network)[1:]:  # (n, T, D) averaged over positions; (n, D) as it is
        pooled[name] = outputs[name].mean(1) if outputs[name].dim() == 3 else outputs[name]  # (n, D)
    return pooled


def text_preview(tokens: torch.Tensor, source) -> dict:
    vocabulary = source.text.vocabulary
    return {"texts": ["".join(vocabulary[t] for t in row if t != train.PAD) for row in tokens.tolist()]}


KINDS = {
    "image": Representation(image_vectors, image_preview, every_snapshot=True, attacks=True),
    # Attention probabilities (N, H, T, T) and a logit lens are not one vector per text.
    "text": Representation(
        text_vectors, text_preview, every_snapshot=False, attacks=False, left_out=("Attention", "Lens")
    ),
}


def of(source) -> Representation:
    """The representation of a source's kind of data (sources.Source.kind)."""
    return KINDS[source.kind]
