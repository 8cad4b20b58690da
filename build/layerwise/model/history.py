"""How the recorded next-token model changed over training: at every snapshot of its weights (the
Grand Tour's, from train), its held-out bits per character on a fixed sample of held-out windows,
and one held-out text's attention per head and logit-lens reading per position. The figure
training-history shows them under an epoch slider; the prose quotes the first and last."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import contract
from . import train
from .analysis import baselines
from .sources.text import tokenize

SENTENCE = 32  # characters of the held-out text whose attention and lens are recorded: 16 KB a snapshot
# Held-out windows each snapshot's bits are measured on: 8,192 characters of 64, 0.13 s a snapshot on
# the 2-core machine (the Grand Tour's sample, 500 in the tests' builds, cost 0.8 s: 8 s a build).
WINDOWS = 128


def held_out_sample(dataset, size: int) -> torch.Tensor:
    """Indices of `size` held-out windows spread evenly over them (all of them if fewer)."""
    count = len(dataset.test_x)
    return torch.arange(count) if size >= count else torch.linspace(0, count - 1, size).round().long()


def sentence_tokens(info) -> tuple[str, torch.Tensor]:
    """The first held-out text's first SENTENCE characters (within the context), as tokens (1, T)."""
    characters = list(info.examples[0])[: min(SENTENCE, info.context)] if info.examples else []
    text = "".join(characters)
    return text, torch.tensor([tokenize(text, info.vocabulary, info.unknown)])  # (1, T)


@torch.no_grad()
def record_history(network, trained: dict, dataset) -> dict:
    """{"files": the attention file, "summary": what the figure and the prose read}: per snapshot,
    bits per character (with its interval over held-out documents), each attention layer's
    probabilities on the sentence (uint8 of 1/255, contract's history_attention layout) and each
    lens's (and the output's) likeliest next character per position."""
    info = dataset.source.text
    picked = held_out_sample(dataset, WINDOWS)
    x, y = dataset.test_x[picked], dataset.test_y[picked]  # (n, T) each
    documents = dataset.test_groups[picked].flatten().numpy()  # (n * T,): each position's quotation
    text, tokens = sentence_tokens(info)
    attention = [n for n in network.layer_names if network.layer_type(n) == "Attention"]
    readers = [*(n for n in network.layer_names if network.layer_type(n) == "Lens"), network.layer_names[-1]]
    bits, intervals, maps, heads, lens = [], [], [], {}, {name: [] for name in readers}
    for state in trained["snapshots"]:
        network.load_weights(state)
        with train.one_thread():
            logits, _ = train.predict(network, x)  # (n, T, V)
        nats = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").numpy()  # (n * T,)
        found = baselines.bits_per_token(nats, documents)
        bits.append(float(found))
        intervals.append([float(v) for v in found.interval])
        outputs = network.outputs(tokens) if len(text) else {}
        for name in attention if outputs else ():
            maps.append((outputs[name][0].numpy() * 255).round().astype(np.uint8))  # (H, T, T)
            heads[name] = len(maps[-1])
        for name in readers if outputs else ():
            lens[name].append([info.vocabulary[i] for i in outputs[name][0].argmax(-1).tolist()])  # T characters
    network.load_weights(trained["snapshots"][-1])
    summary = {
        "epochs": [round(t, 2) for t in trained["snapshot_epochs"]],
        "seen": trained["snapshot_seen"],
        "bits": bits,  # per snapshot, on the sample
        "intervals": intervals,
        "windows": len(picked),
        "sentence": text,
        "attention": [{"name": name, "heads": heads.get(name, 0)} for name in attention],
        "lens": [{"name": name, "predicted": lens[name]} for name in readers],
    }
    path = contract.site_path("history_attention", model=network.name)
    return {"files": {path: b"".join(m.tobytes() for m in maps)}, "summary": summary}
