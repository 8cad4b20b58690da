"""The one contract between the build and the page: every file the site carries, its binary
layout, the dataset's shape and classes, and the class palette. Defined here once; each page
carries it as JSON (templates/runtime.js `contract()` reads it), so Python and JavaScript never
restate a path, a layout or a colour.
"""

import json
import math

# The name of a page's model's input, by the kind of data (sources.Source.kind): images
# (N, C, H, W) float32 in [0, 1]; text, int64 token indices (N, T), T from 1 to the context.
INPUTS = {"image": "image", "text": "tokens"}

# The site's own files, one each for the whole site.
SITE_FILES = {"index": "index.html", "feed": "feed.xml", "vendor": "vendor/", "assets": "assets/"}

# Every generated file of one article, under its folder site/NAME/, by kind; {placeholders} are
# filled by `site_path`. The page's modules find them below the contract's "root".
PATHS = {
    "thumbnail": "thumbnail.png",  # a grid of held-out examples: the index card and share image
    "figure": "figures/{digest}.json",  # a Plotly figure's data and layout, fetched when it nears the view
    "still": "figures/{digest}.png",  # the same figure as a still picture, for browsers that cannot draw it
    "graph": "figures/{digest}.onnx",  # an ONNX graph a widget runs (the playground's training step)
    "model": "models/{model}.onnx",  # every shown layer a named output; input INPUTS[the data's kind]
    # PyTorch's autograd as ONNX (gradients.py): inputs 'image' (N, C, H, W) and 'weights' (N, K),
    # outputs 'scores' (N, K) and 'gradient' (N, C, H, W); not for a model brought in as ONNX.
    "gradients": "models/{model}.gradients.onnx",
    "weights": "models/{model}.weights.f32",  # float32 LE: each layer's step's weights (layers[].step.weights)
    "examples": "data/examples.json",  # the explorer's picker: held-out examples as uint8 lists
    "neuron": "ladder/{model}.json",  # one-vs-rest neurons: weights, bias, every held-out score
    "live_examples": "data/live.u8",  # live training's examples: see live_layout
    # The Grand Tour records the weights' snapshots: after each epoch, and within the first.
    "tour_meta": "tour/{model}/meta.json",  # snapshots (with epochs and examples seen), n, layers, sample layout
    "tour_sample": "tour/{model}/sample.u8",  # see sample_layout
    "tour_layer": "tour/{model}/{layer}.f16",  # float16 LE, (snapshots, n, dims)
    "tour_basis": "tour/{model}/{layer}.basis.f32",  # float32 LE, (1 + dims, width): mean, then components
    "tour_align": "tour/{model}/align.f32",  # float32 LE, (snapshots, layers - 1, D, D): record.alignments
    # Adversarial examples (adversarial.py), per method: every layer's points at every step,
    # float16 LE (steps + 1, count, dims) one layer after another (meta.json: attacks), and the
    # final images, uint8 (count, C*H*W).
    "tour_attack": "tour/{model}/attack-{method}.f16",
    "tour_attack_images": "tour/{model}/attack-{method}.u8",
    "tour_snapshot_model": "tour/{model}/snapshot-{snapshot}.onnx",  # the model with that snapshot's weights
    # A next-token model's history (history.py): one held-out text's attention at every snapshot,
    # uint8 of 1/255, (snapshots, then each attention layer's (heads, T, T)) in the layers' order.
    "history_attention": "history/{model}/attention.u8",
    # What each unit of a conv or dense layer responds to (units.py), fetched when the reader
    # opens one: per unit its most and least exciting held-out examples, values, positions and
    # percentiles (JSON), and their crops, a row per unit in that order (RGBA PNG).
    "units": "units/{model}/{layer}.json",
    "unit_crops": "units/{model}/{layer}.png",
}

# Files written only for an article whose page carries the widget that reads them (all its
# examples: megabytes no other page fetches): kind -> that widget (templates/NAME.js).
ON_DEMAND = {"live_examples": "live-training"}

# An attention layer's inner tensors (its probabilities being a shown 'Attention' layer), which the
# page's model exposes for the detail of its arithmetic (anatomy.attention_step), each per head:
# part -> what it holds. Exposed as "<layer>.<part>" (attention_part); each step lists its own.
ATTENTION_PARTS = {
    "q": "the queries (N, H, T, d)",
    "k": "the keys (N, H, T, d)",
    "v": "the values (N, H, T, d)",
    "scores": "q·k/√d after the mask, the softmax's input (N, H, T, T): -inf where masked",
    "heads": "each head's weighted sum of values, before the output projection (N, H, T, d)",
}


def attention_part(layer: str, part: str) -> str:
    return f"{layer}.{part}"


# One colour per class for the whole article (20 distinct: Tableau 10, then their light pairs).
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
]  # fmt: skip


# The article's one diverging scale, for signed values (weights, feature maps, attributions):
# blue below zero, white at zero, red above. Stops as (value in [-1, 1], [r, g, b]); the page
# interpolates them (runtime.diverging), Plotly's figures take them as a colorscale.
DIVERGING = [(-1, [0, 0, 255]), (0, [255, 255, 255]), (1, [255, 0, 0])]


def diverging(t: float) -> tuple[int, int, int]:
    """DIVERGING's colour at t in [-1, 1], interpolated as the page does (runtime.diverging): for
    pictures the build draws."""
    t = max(-1.0, min(1.0, t))
    (_, low), (_, zero), (_, high) = DIVERGING
    to, share = (high, t) if t >= 0 else (low, -t)
    return tuple(round(z + (o - z) * share) for z, o in zip(zero, to))


def diverging_colorscale() -> list:
    """DIVERGING as a Plotly colorscale over [zmin, zmax] = [-limit, limit]."""
    return [[(value + 1) / 2, "rgb({}, {}, {})".format(*rgb)] for value, rgb in DIVERGING]


def site_path(kind: str, **parts) -> str:
    return PATHS[kind].format(**parts)


def class_colours(n_classes: int) -> list[str]:
    return PALETTE[:n_classes]


def sample_layout(n: int, snapshots: int, thumbnail: int) -> dict:
    """sample.u8, as {part: [byte offset, length]}: labels (n), predictions (snapshots x n), and
    thumbnails (n x `thumbnail` bytes: an image's C*H*W, channel-major like the tensors; none for
    text, whose hover shows meta.json's texts)."""
    return {
        "labels": [0, n],
        "predictions": [n, snapshots * n],
        "thumbnails": [n + snapshots * n, n * thumbnail],
    }


def page_contract(
    result, root: str, runtime_bytes: int = 0, glossary: dict | None = None, link_state: dict | None = None
) -> str:
    """The JSON each page carries: its files' folder and paths, palette, the dataset, each
    model's layers (with how each computes), the size of the onnxruntime wasm (for an honest
    download counter on compressing hosts), the reader's attack's settings, the glossary
    (the detail views define terms) and each figure's link state (figure -> {key: schema}, in
    order: figures.link_schema)."""
    dataset = result.dataset
    return json.dumps(
        {
            "root": root,
            "paths": PATHS,
            "runtime_bytes": runtime_bytes,
            "attack": result.tour.get("attack"),  # the reader's attack: epsilon, step, steps (or null)
            "glossary": glossary or {},
            "link_state": link_state or {},
            "palette": class_colours(len(dataset.classes)),
            "diverging": DIVERGING,
            "live_layout": live_layout(dataset.n_train, dataset.n_test, dataset.shape),
            "input": INPUTS["image" if dataset.text is None else "text"],
            "text": None if dataset.text is None else vars(dataset.text),  # result.TextInfo
            "not_shown": result.not_shown,  # stage -> why the page cannot show it for this data
            "dataset": {
                "name": dataset.name,
                "shape": list(dataset.shape),
                "classes": dataset.classes,
                "noun": dataset.noun,
                "preprocessing": dataset.preprocessing,
                "drawable": dataset.drawable,
            },
            "models": {
                name: {
                    "title": m.title,
                    "origin": m.origin,
                    "layers": [vars(layer) for layer in m.layers],
                    "inner": m.inner,
                    "gradients": m.gradients is not None,  # at PATHS["gradients"]
                    "no_gradients": m.no_gradients,  # why not, in words
                }
                for name, m in result.models.items()
            },
        },
        separators=(",", ":"),
    ).replace("</", "<\\/")  # safe inside <script type="application/json">


LIVE_MAX_CLASSES = 256  # live.u8 keeps each label in a byte


def live_layout(n_train: int, n_test: int, shape) -> dict:
    """live.u8 (live training's examples), as {part: [byte offset, length]}: labels (one byte
    each) and uint8 pixels (C*H*W a row, channel-major), the training split then the held-out."""
    size = math.prod(shape)
    parts, offset = {}, 0
    for name, length in (
        ("train_labels", n_train),
        ("train_pixels", n_train * size),
        ("test_labels", n_test),
        ("test_pixels", n_test * size),
    ):
        parts[name], offset = [offset, length], offset + length
    return parts


def live_examples(train_pixels, train_labels, test_pixels, test_labels) -> bytes:
    """live.u8 written in live_layout's order: uint8 arrays, pixels (N, C*H*W) channel-major."""
    return b"".join(bytes(memoryview(part)) for part in (train_labels, train_pixels, test_labels, test_pixels))
