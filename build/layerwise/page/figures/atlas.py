"""An atlas of one layer (after Carter et al., "Activation Atlas", 2019): the manifold analysis'
2-D map of the recorded sample cut into a grid, each occupied cell tiled with the mean of the
sample's examples in it, bordered in its commonest class's colour; the reader's example is
placed by the page (templates/atlas.js) at the cell of its nearest neighbour in that layer."""

import base64
import functools
import html
import io
import json
from dataclasses import dataclass

import numpy as np

from ... import contract
from ...contract import class_colours
from ...stats import percent
from . import NEEDS_RESULT, analysed_layer, as_rgb, figure, plotly, plotly_html

# Cells per side, over the map's occupied extent: UMAP leaves most of a map empty between its
# clusters, where 12 per side gave the MNIST CNN's relu3 only 30 cells of 33 digits each.
GRID = 20
BORDER = 2  # pixels of class colour around each tile
PREFERRED = ("umap", "tsne", "pca")  # the default map: the first of these the analysis made
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def analysed_method(value: str | None, result) -> str:
    """A 2-D view the manifold analysis made (analysis.methods); by default UMAP, else t-SNE, else PCA."""
    made = list(next(iter(result.manifold["layers"].values()))["views"])
    if value is None:
        return next(m for m in (*PREFERRED, *made) if m in made)
    if value not in made:
        raise ValueError(f"a view the analysis made (analysis.methods in the config): one of {', '.join(made)}")
    return value


NEEDS_RESULT.add(analysed_method)  # checked once the analysis has run


@dataclass
class Atlas:
    columns: int  # cells per side; cell = row * columns + column, row 0 at the top of the map
    cells: np.ndarray  # (N,) each sample point's cell
    counts: np.ndarray  # (columns**2,) sample points per cell
    majority: np.ndarray  # (columns**2,) the commonest class per cell (-1: empty)
    majority_counts: np.ndarray  # (columns**2,) how many of the cell's points are of that class
    tiles: np.ndarray  # (columns**2, C*H*W) the mean pixels (0-255) of each cell's points; NaN where empty

    @property
    def occupied(self) -> int:
        return int((self.counts > 0).sum())

    @property
    def pure(self) -> int:
        """Occupied cells whose points all carry one label."""
        return int(((self.counts > 0) & (self.majority_counts == self.counts)).sum())


def grid_cells(view: np.ndarray, columns: int) -> np.ndarray:
    """(N, 2) map positions -> (N,) cells of a columns x columns grid over their extent."""
    low, high = view.min(axis=0), view.max(axis=0)  # (2,)
    span = np.where(high > low, high - low, 1.0)  # a map flat along an axis: one column there
    steps = np.minimum(((view - low) / span * columns).astype(int), columns - 1)  # (N, 2)
    rows = columns - 1 - steps[:, 1]  # the map's top (largest y) is the first row
    return rows * columns + steps[:, 0]


def sample_pixels(result) -> np.ndarray:
    """The recorded sample's uint8 pixels (N, C*H*W), read from the tour's files."""
    model = result.tour["model"]
    meta = json.loads(result.files[contract.site_path("tour_meta", model=model)])
    start, length = meta["layout"]["thumbnails"]
    sample = result.files[contract.site_path("tour_sample", model=model)][start : start + length]
    return np.frombuffer(sample, dtype=np.uint8).reshape(meta["n"], -1)


def compute_atlas(result, layer: str, method: str, columns: int = GRID) -> Atlas:
    view = np.asarray(result.manifold["layers"][layer]["views"][method])  # (N, 2)
    labels = np.asarray(result.manifold["labels"])  # (N,)
    pixels = sample_pixels(result).astype(np.float64)  # (N, C*H*W)
    assert len(pixels) == len(view), "the analysis and the tour record the same sample"
    cells = grid_cells(view, columns)
    size = columns * columns
    counts = np.bincount(cells, minlength=size)
    by_class = np.zeros((size, len(result.classes)), dtype=int)  # (cells, K)
    np.add.at(by_class, (cells, labels), 1)
    sums = np.zeros((size, pixels.shape[1]))  # (cells, C*H*W)
    np.add.at(sums, cells, pixels)
    with np.errstate(invalid="ignore"):
        tiles = sums / counts[:, None]  # NaN where a cell is empty
    majority = np.where(counts > 0, by_class.argmax(axis=1), -1)
    return Atlas(columns, cells, counts, majority, by_class.max(axis=1), tiles)


def atlas_numbers(result, remember):
    """The prose's atlas(layer, method): {{ atlas("relu3").pure }} of {{ atlas("relu3").occupied }};
    remembered by the result's key (render.prose_memory), so a content-only rebuild computes none."""

    def compute(layer: str, method: str) -> dict:
        found = compute_atlas(result, layer, method)
        return {
            "columns": found.columns,
            "occupied": found.occupied,
            "pure": found.pure,
            "pure_share": found.pure / found.occupied,
            "method": METHOD_NAMES.get(method, method),
        }

    @functools.cache
    def numbers(layer: str, method: str | None = None) -> dict:
        chosen = {}
        for what, convert, given in (("layer", analysed_layer, layer), ("method", analysed_method, method)):
            try:
                chosen[what] = convert(given, result)
            except ValueError as e:
                raise ValueError(f"atlas(layer, method): the {what} must be {e}; got '{given}'") from None
        return remember("atlas", [result.key, chosen["layer"], chosen["method"]], lambda: compute(**chosen))

    return numbers


def atlas_png(found: Atlas, shape, colours: list[str]) -> bytes:
    """The tiles as one RGBA picture: each occupied cell its mean image inside a border of its
    majority class's colour; empty cells transparent."""
    from PIL import Image, ImageColor

    channels, height, width = shape
    cell_h, cell_w = height + 2 * BORDER, width + 2 * BORDER
    picture = np.zeros((found.columns * cell_h, found.columns * cell_w, 4), dtype=np.uint8)  # (rows, cols, RGBA)
    for cell in np.flatnonzero(found.counts):
        top, left = (cell // found.columns) * cell_h, (cell % found.columns) * cell_w
        picture[top : top + cell_h, left : left + cell_w] = (*ImageColor.getrgb(colours[found.majority[cell]]), 255)
        tile = as_rgb(np.round(found.tiles[cell]), shape)  # (H, W, 3)
        picture[top + BORDER : top + BORDER + height, left + BORDER : left + BORDER + width, :3] = tile
    out = io.BytesIO()
    Image.fromarray(picture).save(out, "PNG")
    return out.getvalue()


def cell_text(found: Atlas, cell: int, classes: list[str], noun: str) -> str:
    """Hover text: how many examples the cell holds, and how many carry its commonest label."""
    count, most = found.counts[cell], found.majority_counts[cell]
    share = f" ({percent(most / count)})" if count > 1 else ""
    return f"{count} {noun}{'s' if count > 1 else ''}, {most} labelled {classes[found.majority[cell]]}{share}"


@figure("atlas", widgets=("figures",), layer=(analysed_layer, None), method=(analysed_method, None))
def atlas(result, layer: str, method: str) -> str:
    go = plotly()[0]
    found = compute_atlas(result, layer, method)
    shape, classes, noun = result.dataset.shape, result.classes, result.dataset.noun
    cell_w, cell_h = shape[2] + 2 * BORDER, shape[1] + 2 * BORDER
    side_w, side_h = found.columns * cell_w, found.columns * cell_h
    png = atlas_png(found, shape, class_colours(len(classes)))
    fig = go.Figure()
    fig.add_trace(
        go.Image(source="data:image/png;base64," + base64.b64encode(png).decode(), x0=0, y0=0, hoverinfo="skip")
    )
    occupied = np.flatnonzero(found.counts)
    fig.add_trace(  # invisible squares over the tiles, for hover
        go.Scatter(
            x=(occupied % found.columns + 0.5) * cell_w,
            y=(occupied // found.columns + 0.5) * cell_h,
            mode="markers",
            marker=dict(symbol="square", size=14, opacity=0),
            hovertext=[cell_text(found, c, classes, noun) for c in occupied],
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_trace(  # the reader's example, placed by templates/atlas.js
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers+text",
            text=[f"your {noun}"],
            textposition="top center",
            cliponaxis=False,  # its label may stand above the top row
            marker=dict(symbol="circle-open", size=24, line=dict(width=3), color="#000"),
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    for name, colour in zip(classes, class_colours(len(classes))):  # the border colours, as a legend
        fig.add_trace(
            go.Scatter(x=[None], y=[None], mode="markers", name=name, marker=dict(color=colour, symbol="square"))
        )
    model = result.tour["model"]
    fig.update_layout(
        height=560,
        margin=dict(l=10, r=10, t=24, b=10),
        legend=dict(orientation="h", y=-0.02, yanchor="top", itemclick=False, itemdoubleclick=False),
        xaxis=dict(range=[0, side_w], visible=False, constrain="domain"),
        yaxis=dict(range=[side_h, 0], visible=False, scaleanchor="x", constrain="domain"),
        meta={
            "atlas": {
                "model": model,
                "layer": layer,
                "columns": found.columns,
                "cell": [cell_w, cell_h],
                "cells": found.cells.tolist(),  # per point of the recorded sample
                "trace": 2,  # the reader's
            }
        },
    )
    return note(found, result, layer, method) + plotly_html(fig) + cells_table(found, classes, noun)


def cells_table(found: Atlas, classes: list[str], noun: str) -> str:
    """The occupied cells in words, row by row: what the hover says, for the keyboard and screen
    readers (a Plotly picture's cells take no focus)."""
    rows = "".join(
        f"<tr><td>{cell // found.columns + 1}</td><td>{cell % found.columns + 1}</td>"
        f"<td>{html.escape(cell_text(found, cell, classes, noun))}</td></tr>"
        for cell in np.flatnonzero(found.counts)
    )
    return (
        '<details class="figure-numbers"><summary>The cells, row by row</summary>'
        f'<div class="table-scroll" tabindex="0" role="region" aria-label="The atlas\'s cells"><table>'
        f"<thead><tr><th>row</th><th>column</th><th>{html.escape(noun)}s in it</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></details>"
    )


def note(found: Atlas, result, layer: str, method: str) -> str:
    """How to read the picture, which the prose and the caption (the article's) do not say: what a
    cell's picture and border are, how many it averages, and where its counts are in words. (It
    said the grid, the pure cells, the hover and the ring too: the MNIST article's paragraph and
    caption above it said them again.)"""
    noun, n = result.dataset.noun, len(found.cells)
    return html.escape(
        f"The {METHOD_NAMES.get(method, method)} map of {layer}'s activations for {n:,} held-out {noun}s, in a "
        f"{found.columns}×{found.columns} grid: each cell is the mean of the {noun}s that fall in it (real {noun}s "
        f"averaged, not pictures made up to excite the layer), bordered in the colour of their commonest label. "
        "The table below gives every cell's counts."
    ).join(['<p class="atlas-note">', "</p>"])
