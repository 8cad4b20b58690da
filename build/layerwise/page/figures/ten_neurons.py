"""A linear model up close: its weight templates, its confusion matrix, its mistakes."""

import math

import numpy as np

from ...contract import diverging_colorscale
from . import FigureError, as_rgb, figure, model, plotly, plotly_html, whole

# Axes of a picture: no ticks, grid or lines around it.
PICTURE_AXES = dict(showticklabels=False, showgrid=False, zeroline=False, showline=False)


def grid(n: int) -> tuple[int, int]:
    """Rows and columns for n small images, at most 5 to a row."""
    columns = min(n, 5)
    return math.ceil(n / columns), columns


def two_lines(name: str, width: int = 8) -> str:
    """A class name longer than `width` characters broken at its last space or slash: at 12 px over
    a fifth of a phone's width, "T-shirt/top" ran into "Trouser" beside it."""
    cut = max(name.rfind(" ", 1, len(name) - 1), name.rfind("/", 1, len(name) - 1))
    if len(name) <= width or cut < 0:
        return name
    return name[: cut + 1].rstrip() + "<br>" + name[cut + 1 :]


@figure("weight-templates", widgets=("figures",), model=(model, "softmax"))
def weight_templates(result, model: str) -> str:
    """Each output neuron's weights in the shape of the input: red votes for the class, blue
    against (for colour input, one small image per channel side by side)."""
    go, make_subplots = plotly()
    templates = result.models[model].templates
    if templates is None:
        raise FigureError(f"weight-templates: '{model}' is not a single linear layer over the pixels")
    channels, height, width = result.dataset.shape
    classes = result.classes
    weights = np.asarray(templates).reshape(len(classes), channels, height, width)
    # Channels side by side, one pixel of gap (NaN draws as background).
    gap = np.full((len(classes), height, 1), np.nan)
    tiles = np.concatenate([part for c in range(channels) for part in (weights[:, c], gap)][:-1], axis=2)
    rows, columns = grid(len(classes))
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[two_lines(c) for c in classes],
        horizontal_spacing=0.02,
        vertical_spacing=0.08,
    )
    limit = float(np.nanmax(np.abs(weights)))
    for i, tile in enumerate(tiles):
        fig.add_trace(
            go.Heatmap(
                z=tile.tolist(),
                zmid=0,
                zmin=-limit,
                zmax=limit,
                colorscale=diverging_colorscale(),
                showscale=i == 0,
                hovertemplate=f"{classes[i]}: weight %{{z:.3f}}<extra></extra>",
            ),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    fig.update_yaxes(autorange="reversed", scaleanchor="x", **PICTURE_AXES)
    fig.update_xaxes(**PICTURE_AXES)
    fig.update_annotations(font_size=12)  # class names over a fifth of a phone's width each
    fig.update_layout(height=180 * rows, margin=dict(l=10, r=10, t=44, b=10))  # room for a title on two lines
    return plotly_html(fig)


@figure("confusion-matrix", widgets=("figures",), kinds=("image", "text"), model=(model, "softmax"))
def confusion_matrix(result, model: str) -> str:
    go = plotly()[0]
    matrix = result.models[model].metrics["confusion"]
    classes = result.classes
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=classes,
            y=classes,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="true %{y}, said %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis=dict(title="the model said", type="category"),
        yaxis=dict(title=f"true {result.dataset.noun}", type="category", autorange="reversed"),
        height=420,
        margin=dict(l=90, r=20, t=20, b=90),
    )
    return plotly_html(fig)


@figure("mistakes", widgets=("figures",), model=(model, "softmax"), count=(whole(1, 20), 10))
def mistakes(result, model: str, count: int) -> str:
    """Held-out examples the model gets wrong, each titled 'true → said'."""
    go, make_subplots = plotly()
    described, noun = result.models[model], result.dataset.noun
    wrong = described.mistakes[:count]
    if not wrong:  # mistakes are kept from every held-out example, so none means none at all
        n_test = described.metrics["n_test"]
        return f"<p>{described.title} gets every one of the {n_test:,} held-out {noun}s right.</p>"
    classes = result.classes
    rows, columns = grid(len(wrong))  # five to a row: ten titles in one row ran together on a phone
    fig = make_subplots(
        rows=rows,
        cols=columns,
        horizontal_spacing=0.02,
        vertical_spacing=0.12,
        # true and said on two lines: "Ankle boot → Sneaker" fits a fifth of a phone's width so
        subplot_titles=[f"{classes[w['label']]}<br>→ {classes[w['predicted']]}" for w in wrong],
    )
    for i, w in enumerate(wrong):
        picture = go.Image(z=as_rgb(w["pixels"], result.dataset.shape), hoverinfo="skip")
        fig.add_trace(picture, row=i // columns + 1, col=i % columns + 1)
    fig.update_yaxes(**PICTURE_AXES)
    fig.update_xaxes(**PICTURE_AXES)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=150 * rows, margin=dict(l=5, r=5, t=40, b=5))
    # Which held-out example each picture is (templates/figures.js links them to a selection
    # elsewhere, and a click loads one into the layer explorer).
    pixels = [np.ravel(w["pixels"]).tolist() for w in wrong]  # each C*H*W, as the explorer takes them
    fig.update_layout(
        meta={
            "examples": [w["example"] for w in wrong],
            "pixels": pixels,
            "labels": [w["label"] for w in wrong],
            "predicted": [w["predicted"] for w in wrong],
        }
    )
    return plotly_html(fig)
