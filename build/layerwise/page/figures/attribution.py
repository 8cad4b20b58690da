"""Attribution: where the network looks on the reader's example (saliency, integrated gradients
from the model's exported gradient graph, occlusion from forward runs; templates/attribution.js);
and, for the prose, integrated gradients towards several classes on one held-out example,
computed by the build from the very graph the page runs."""

import functools
import html

import numpy as np

from ... import contract
from ...stats import percent
from . import FigureError, class_index, class_list, fallback, figure, model, plotly, plotly_html

STEPS = 32  # integrated gradients' steps, as the page takes them (templates/attribution-state.js)


@figure("attribution", widgets=("attribution",), model=(model, None))
def attribution(result, model: str) -> str:
    noun = html.escape(result.dataset.noun)
    return (
        f'<div class="attribution" data-model="{html.escape(model)}">'
        f"{fallback(f'This figure shows which pixels of your {noun} the network reads')}</div>"
    )


@functools.cache
def gradient_session(graph: bytes):
    import onnxruntime

    return onnxruntime.InferenceSession(graph)


def integrated_gradients(graph: bytes, image: np.ndarray, cls: int, classes: int, steps: int = STEPS):
    """Integrated gradients of class `cls`'s score from the blank (all-zero) image, as the page
    computes them: the gradient at the midpoints of `steps` equal pieces of the straight path,
    averaged, times the image. -> (attribution (C, H, W), completeness error: |sum - score change|
    over |score change|)."""
    along = (np.arange(steps) + 0.5) / steps  # (steps,)
    images = np.concatenate([along[:, None, None, None] * image, 0 * image[None], image[None]])  # (steps + 2, C, H, W)
    weights = np.zeros((steps + 2, classes), dtype=np.float32)  # (steps + 2, K): the path's rows only
    weights[:steps, cls] = 1
    feeds = {"image": images.astype(np.float32), "weights": weights}
    # scores (steps + 2, K), gradient (steps + 2, C, H, W)
    scores, gradient = gradient_session(graph).run(["scores", "gradient"], feeds)
    found = image * gradient[:steps].mean(axis=0)  # (C, H, W)
    change = scores[-1, cls] - scores[-2, cls]
    return found, float(abs(found.sum() - change) / max(abs(change), 1e-12))


def upper_share(found: np.ndarray, image: np.ndarray) -> float:
    """The share of the positive attribution that lies above the middle of the example's inked
    rows (rows with any non-zero pixel): where on the example the evidence for a class sits."""
    inked = np.flatnonzero(image.sum(axis=(0, 2)) > 0)  # (rows with ink,)
    middle = (inked[0] + inked[-1] + 1) / 2
    positive = np.clip(found.sum(axis=0), 0, None)  # (H, W)
    above = (np.arange(positive.shape[0]) + 0.5) < middle  # (H,)
    return float(positive[above].sum() / positive.sum()) if positive.sum() > 0 else 0.0


def first_example(result, cls: int) -> np.ndarray:
    """The first held-out example of a class (the explorer's picker's first of it), (C, H, W) in [0, 1]."""
    examples = result.examples
    if cls not in examples["labels"]:
        raise FigureError(f"no held-out {result.dataset.noun} labelled {result.classes[cls]} in the picker")
    pixels = np.asarray(examples["pixels"][examples["labels"].index(cls)], dtype=np.float32) / 255
    return pixels.reshape(result.dataset.shape)


def towards(result, model_name: str, of: int, cls: int) -> dict:
    """Integrated gradients towards class `cls` on the first held-out example of class `of`."""
    graph = result.files[contract.site_path("gradients", model=model_name)]
    image = first_example(result, of)
    found, error = integrated_gradients(graph, image, cls, len(result.classes))
    return {"attribution": found, "upper_share": upper_share(found, image), "error": error, "image": image}


def attribution_numbers(result, remember):
    """The prose's integrated_gradients(model, of, towards): {upper_share, error} of integrated
    gradients towards class `towards` on the first held-out example of class `of`; remembered
    by the result's key (render.prose_memory), so a content-only rebuild runs no graph."""

    def compute(model_name: str, of: str, cls: str) -> dict:
        if model_name not in result.models or result.models[model_name].gradients is None:
            raise ValueError(f"integrated_gradients: '{model_name}' is not a model of this build with a gradient graph")
        try:
            of_index, cls_index = class_index(str(of), result), class_index(str(cls), result)
        except ValueError as e:
            raise ValueError(f"integrated_gradients(model, of, towards): each class must be {e}") from None
        found = towards(result, model_name, of_index, cls_index)
        return {"upper_share": found["upper_share"], "error": found["error"]}

    @functools.cache
    def numbers(model_name: str, of: str, cls: str) -> dict:
        arguments = [result.key, model_name, str(of), str(cls)]
        return remember("attribution", arguments, lambda: compute(model_name, of, cls))

    return numbers


@figure(
    "attribution-classes",
    widgets=("figures",),
    model=(model, None),
    example=(class_index, None),
    classes=(class_list, ""),
)
def attribution_classes(result, model: str, example: int, classes: list[int]) -> str:
    """One held-out example (the first of class :example:) and integrated gradients towards each
    of :classes: side by side, on one colour scale (red raises the class's score, blue lowers it)."""
    if result.models[model].gradients is None:
        raise FigureError(f"attribution-classes: '{model}' has no gradient graph ({result.models[model].no_gradients})")
    classes = classes or [example]
    go, make_subplots = plotly()
    found = [towards(result, model, example, c) for c in classes]
    names, noun = result.classes, result.dataset.noun
    # Titles broken into short lines: on a phone each picture is under 100 px wide, and one-line
    # titles ran into each other.
    titles = [f"the {noun},<br>a {names[example]}"] + [
        f"towards {names[c]}:<br>{percent(f['upper_share'])} above<br>its middle" for c, f in zip(classes, found)
    ]
    fig = make_subplots(rows=1, cols=1 + len(classes), subplot_titles=titles, horizontal_spacing=0.03)
    image = found[0]["image"].sum(axis=0)  # (H, W) ink
    fig.add_trace(go.Heatmap(z=image, colorscale="Greys", showscale=False, hoverinfo="skip"), 1, 1)
    limit = max(float(np.abs(f["attribution"]).max()) for f in found) or 1.0
    for col, f in enumerate(found, start=2):
        fig.add_trace(
            go.Heatmap(
                z=f["attribution"].sum(axis=0),
                colorscale=contract.diverging_colorscale(),
                zmin=-limit,
                zmax=limit,
                showscale=col == 1 + len(found),
                hovertemplate="row %{y}, column %{x}: %{z:.3f}<extra></extra>",
            ),
            1,
            col,
        )
    for col in range(1, 2 + len(classes)):  # each picture square, rows top-down
        fig.update_yaxes(
            autorange="reversed", showticklabels=False, scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col
        )
    # No grid: where a narrow page leaves a square picture room above and below, it drew there.
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=60, b=10))
    return plotly_html(fig)
