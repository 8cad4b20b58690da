"""The playground figure: the reader trains a small network on 2-D points in the page
(templates/playground.js), with the build's exported training step; the directive sets it up."""

import base64
import functools
import html
import json
from pathlib import Path

import numpy as np

from ... import contract, converters
from ...model import exports, playground
from . import FIGURES, NEEDS_SOURCE, FigureError, OwnData, choice, fallback, figure, number, whole


@converters.described({"type": "list", "of": {"type": "choice", "values": list(playground.FEATURES)}, "min_length": 1})
def feature_list(value: str, result) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    if not chosen or any(name not in playground.FEATURES for name in chosen):
        raise ValueError(f"features separated by commas, from {', '.join(playground.FEATURES)}")
    return tuple(name for name in playground.FEATURES if name in chosen)


# A list's items, at most max_length of them; "none" writes no hidden layer (an empty list).
@converters.described(
    {
        "type": "list",
        "of": {"type": "int", "min": 1, "max": playground.WIDTH},
        "max_length": playground.LAYERS,
        "empty": "none",
    }
)
def layer_list(value: str, result) -> tuple[int, ...]:
    """Hidden layers' neuron counts, "8,8,4"; "none" for none."""
    if value.strip() == "none":
        return ()
    try:
        counts = tuple(int(part) for part in value.split(","))
    except ValueError:
        counts = ()
    if not 1 <= len(counts) <= playground.LAYERS or not all(1 <= c <= playground.WIDTH for c in counts):
        raise ValueError(
            f"up to {playground.LAYERS} neuron counts from 1 to {playground.WIDTH} separated by commas"
            " (e.g. 4,2), or none"
        )
    return counts


DEFAULT = playground.Setup()
DATASETS = choice(*playground.CLASSIFY, *playground.REGRESS)
ACTIVATION = choice(*playground.ACTIVATIONS)
REGULARIZATION = choice("none", "l1", "l2")


@converters.described(DATASETS.schema)  # a link names a generated dataset; only the directive a file
def dataset_or_csv(value: str, result, source: Path | None = None) -> "str | playground.OwnPoints":
    """A generated dataset's name, or an author's CSV (x1,x2,label or x1,x2,target) relative to
    the article's file: read and checked here, its errors at the CSV's lines."""
    if not value.lower().endswith(".csv"):
        return DATASETS(value, result)
    path = (source.parent if source else Path()) / value
    if not path.is_file():
        raise ValueError(
            f"one of {', '.join((*playground.CLASSIFY, *playground.REGRESS))}, or a CSV file beside the article:"
            f" {path} is not there"
        )
    return playground.read_points(path, value)


NEEDS_SOURCE.add(dataset_or_csv)

# What a link may set, and what each key accepts (the page decodes and encodes the fragment by
# these converters' schemas, handed over in the contract: templates/link-state.js):
# [a deeper spiral](#fig-spiral?layers=8,8,8&activation=relu).
STATE = {"data": DATASETS, "noise": whole(0, 50), "ratio": whole(10, 90), "features": feature_list}
STATE |= {"layers": layer_list, "activation": ACTIVATION, "learningRate": number(1e-5, 10)}
STATE |= {"batch": whole(1, playground.BATCH), "regularization": REGULARIZATION, "rate": number(0, 10)}
STATE |= {"seed": whole(0, 2**31 - 1)}


@functools.cache
def exported() -> tuple[dict[str, bytes], dict[str, dict]]:
    """The exported graphs, once per process (every playground of the site shares them): the step,
    the network, and the network as a reader's download ("template"), with where in that file
    the page writes each of its tensors."""
    files = dict(exports.load(playground.export_graphs))
    files["template"], places = playground.download_template(files["network"])
    return files, places


def graphs() -> dict[str, str]:
    """The exported graphs, base64: the page's files (render.externalise_figures)."""
    return {name: base64.b64encode(data).decode() for name, data in exported()[0].items()}


def model_description() -> dict:
    """What the page needs to know of the graphs, defined once here (playground.py)."""
    p = playground
    return {
        "features": p.FEATURES,
        "layers": p.LAYERS,
        "width": p.WIDTH,
        "batch": p.BATCH,
        "activations": p.ACTIVATIONS,
        "datasets": {"classification": p.CLASSIFY, "regression": p.REGRESS},
        "points": p.POINTS,
        "extent": p.EXTENT,
        "layout": p.layout(),
        "template": exported()[1],  # {tensor: {offset, length}}: float32 LE in the template's bytes
    }


def own_points(options: dict) -> OwnData:
    """The points a playground trains on (the article's data is not read): its byline and picture."""
    setup = setup_from(options)
    return OwnData("2-D points", setup.data, functools.partial(points_tile, setup), repr(setup))


def points_tile(setup: playground.Setup, size: int):
    """Every point of `setup` over the plane the figure shows, a small disc coloured by its label
    (or target) as the page colours them: a square PIL image `size` pixels a side. (Discs as
    arrays: PIL's ellipse a point was 60 ms of every render.)"""
    from PIL import Image

    points, extent = setup.points(), playground.EXTENT  # (N, 3): x1, x2, label or target
    scale, radius = size / (2 * extent), max(1, round(size / 80))
    rows, columns = (extent - points[:, 1]) * scale, (points[:, 0] + extent) * scale  # (N,) each
    centres = np.rint(np.stack([rows, columns], 1)).astype(int)  # (N, 2)
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disc = dy**2 + dx**2 <= radius * (radius + 1)
    offsets = np.stack([dy[disc], dx[disc]], 1)  # (K, 2)
    pixels = (centres[:, None, :] + offsets[None]).reshape(-1, 2).clip(0, size - 1)  # (N * K, 2)
    colours = np.array([contract.diverging(value) for value in points[:, 2]], np.uint8)  # (N, 3)
    tile = np.full((size, size, 3), 255, np.uint8)  # (H, W, 3) white
    tile[pixels[:, 0], pixels[:, 1]] = np.repeat(colours, len(offsets), 0)
    return Image.fromarray(tile)


@figure(
    "playground",
    shows=own_points,
    widgets=("playground",),
    state=STATE,
    kinds=("image", "text"),  # its own points: the article's data is not read
    exports=(playground.export_graphs,),
    data=(dataset_or_csv, DEFAULT.data),
    noise=(STATE["noise"], 0),  # percent, as TensorFlow Playground's slider
    ratio=(STATE["ratio"], 50),  # percent of the points trained on
    features=(feature_list, DEFAULT.features),
    layers=(layer_list, DEFAULT.layers),
    activation=(ACTIVATION, DEFAULT.activation),
    **{"learning-rate": (STATE["learningRate"], DEFAULT.learning_rate)},
    batch=(STATE["batch"], DEFAULT.batch),
    regularization=(REGULARIZATION, DEFAULT.regularization),
    **{"regularization-rate": (STATE["rate"], DEFAULT.rate)},
    seed=(STATE["seed"], DEFAULT.seed),
)
def playground_figure(result, **options) -> str:
    setup, own = page_setup(options), options["data"]
    # The graphs leave the page as files of their own (render.externalise_figures), fetched when
    # the figure nears the viewport.
    files = "".join(f' data-inline-graph-{name}="{data}"' for name, data in graphs().items())
    if isinstance(own, playground.OwnPoints):  # an author's points, as Python read them
        points = {"name": own.name, "problem": own.problem, "labels": own.labels, "rows": own.rows}
        files += f' data-points="{html.escape(json.dumps(points))}"'
    return (
        f'<div class="playground" data-setup="{html.escape(json.dumps(setup))}"'
        f' data-model="{html.escape(json.dumps(model_description()))}"{files}>'
        f"{fallback('This network trains')}</div>"
    )


def page_setup(options: dict) -> dict:
    """The directive's options as the page's setup (templates/playground-state.js)."""
    data = options["data"]
    return {
        "data": data.name if isinstance(data, playground.OwnPoints) else data,
        "noise": options["noise"],
        "ratio": options["ratio"],
        "features": list(options["features"]),
        "layers": list(options["layers"]),
        "activation": options["activation"],
        "learningRate": options["learning-rate"],
        "batch": options["batch"],
        "regularization": options["regularization"],
        "rate": options["regularization-rate"],
        "seed": options["seed"],
    }


def setup_of(options: dict, source: Path | None = None) -> playground.Setup:
    """The directive's options, as prose writes them (data="spiral", learning_rate=0.1), as a
    Setup; a CSV named is read relative to `source`, the article's file."""
    given = {name.replace("_", "-"): (str(value), None) for name, value in options.items()}
    try:
        typed = FIGURES["playground"].check_options(given, None, source)
    except FigureError as e:
        raise ValueError(str(e)) from None
    return setup_from(typed)


def setup_from(typed: dict) -> playground.Setup:
    """The directive's typed options (check_options) as a Setup."""
    setup, own = page_setup(typed), typed["data"]
    return playground.Setup(
        **{key: setup[key] for key in ("data", "activation", "batch", "regularization", "rate", "seed")},
        noise=setup["noise"] / 100,
        ratio=setup["ratio"] / 100,
        features=tuple(setup["features"]),
        layers=tuple(setup["layers"]),
        learning_rate=setup["learningRate"],
        own=own if isinstance(own, playground.OwnPoints) else None,
    )


def trained(epochs: int, setup: playground.Setup) -> dict:
    """For prose and claims: a setup trained in PyTorch as the page trains it, for `epochs`:
    {{ playground(data="spiral", layers="8,8", epochs=50).test_loss }}."""
    return playground.reference(setup, epochs)
