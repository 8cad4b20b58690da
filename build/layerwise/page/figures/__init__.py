"""The figure registry: the one place that knows every name a ```{figure} directive may use.

A figure is a function (BuildResult, **options) -> HTML, registered with its options and the
browser modules (templates/*.js) it needs on the page. An option is name=(converter, default):
a converter takes the directive's text and the build's result and returns the typed value, or
raises ValueError saying what it accepts ("one of cnn, mlp"). Converters for the kinds every
figure shares (a model, a layer, a class, a count) live here, built on the checks settings use
too (converters.py), so no figure checks by hand. A figure's `state` (what a link may set of its
view) is converters too, each carrying its schema: the page reads a link by them (link_schema).
"""

import base64
import html
import io
import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ... import converters
from ...contract import class_colours
from ...errors import BuildError, did_you_mean
from ...stats import percent


class FigureError(BuildError):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def fallback(what: str = "This figure is drawn", picture: str = "", until_script: bool = True) -> str:
    """The one sentence a figure shows where it cannot be drawn: without JavaScript, or opened
    from a file (browsers refuse module scripts and fetch there, and a <noscript> stays hidden
    while scripts are on). A widget's goes as soon as its script runs (lifecycle.js); a Plotly
    figure's stays, as its placeholder, until it is drawn (`until_script=False`)."""
    until = ' data-until="script"' if until_script else ""
    return (
        f'<p class="figure-fallback"{until}>{what} in your browser: it needs JavaScript, and the site served over '
        "HTTP (by <code>layerwise serve</code> or any static server); opened from a file, browsers block what "
        f"it loads.{picture}</p>"
    )


# --- converters: (the directive's text, the build's result) -> value, on converters.py's checks ---


def from_text(check: Callable, kind: type | None = None) -> Callable:
    """A check of converters.py as a figure's converter: the directive's text (parsed as `kind`
    first, where given) -> the checked value; its schema goes with it."""

    @converters.described(check.schema)
    def convert(value: str, result):
        return check(value if kind is None else converters.parsed(kind, value))

    return convert


text = from_text(converters.text)


def whole(low: int, high: int) -> Callable:
    return from_text(converters.whole(low, high), int)


def choice(*allowed: str) -> Callable:
    return from_text(converters.choice(*allowed, written=str))  # a directive writes text unquoted


def number(low: float, high: float) -> Callable:
    """One number from `low` to `high`, both included."""

    @converters.described({"type": "number", "min": low, "max": high})
    def convert(value: str, result) -> float:
        given = numbers(value, result)
        if len(given) != 1 or not low <= given[0] <= high:
            raise ValueError(f"a number from {low:g} to {high:g}")
        return given[0]

    return convert


def model(value: str | None, result) -> str:
    """A model of this build; by default the one the Grand Tour records."""
    if value is None:
        return result.tour["model"]
    if value not in result.models:
        raise converters.not_one_of(value, result.models, "a model of this build")
    return value


@converters.described({"type": "layer"})  # a codec of the widget's: it knows the layers
def tour_layer(value: str | None, result) -> str:
    """A layer the Grand Tour recorded (the model's shown layers with the input; for text, those
    with a vector per example: not attention), by default the last; or why this data has no tour."""
    if "not_recorded" in result.tour:
        raise ValueError(f"this article's data has no Grand Tour: {result.tour['not_recorded']}")
    layers = result.tour.get("layers") or [
        "input",
        *(layer.name for layer in result.models[result.tour["model"]].layers),
    ]
    if value is None:
        return layers[-1]
    if value not in layers:
        raise converters.not_one_of(value, layers, f"a layer of {result.tour['model']}")
    return value


def analysed_layer(value: str | None, result) -> str:
    layers = list(result.manifold["layers"])
    if value is None:
        return layers[0]
    if value not in layers:
        raise converters.not_one_of(value, layers, "an analysed layer (analysis.layers in the config)")
    return value


def class_index(value: str | None, result) -> int:
    """A class, by name or by number; by default the first."""
    classes = result.classes
    if value is None:
        return 0
    if value in classes:
        return classes.index(value)
    if value.isdigit() and int(value) < len(classes):
        return int(value)
    raise ValueError(f"a class: one of {', '.join(classes)} (or its number, 0 to {len(classes) - 1})")


@converters.described({"type": "epoch"})
def tour_epoch(value: str | None, result) -> int:
    """A recorded moment of training, in epochs (0 = before training, 0.5 = half-way through the
    first, 1 = after it; by default the last) -> the index of its snapshot of the weights."""
    times = result.tour["epochs"]
    if value is None:
        return len(times) - 1
    try:
        return [float(value) == t for t in times].index(True)
    except ValueError:
        shown = ", ".join(f"{t:g}" for t in times)
        raise ValueError(f"a recorded epoch: one of {shown}") from None


# Converters that need the trained build's result; the others also work on a Preview.
NEEDS_RESULT = {tour_layer, analysed_layer, tour_epoch}
# Converters that read a file the directive names, relative to the file that wrote it: called
# as convert(text, result, source), source being that file (the article's .md).
NEEDS_SOURCE: set = set()


@dataclass
class Preview:
    """What is known of a build before anything trains: enough to check a model or class option."""

    models: dict  # name -> None
    tour: dict  # {"model": the recorded model}
    classes: list[str]
    kind: str = "image"  # the data's kind (sources.Source.kind): "image" | "text"


def data_kind(result) -> str:
    """The kind of data a figure would show: "image" or "text" (sources.Source.kind)."""
    return result.kind if isinstance(result, Preview) else ("text" if result.dataset.text else "image")


@converters.described({"type": "classes"})
def class_list(value: str, result) -> list[int]:
    """Classes, by name or number, separated by commas: "1,7" or "shirt,coat"."""
    return [class_index(part.strip(), result) for part in value.split(",") if part.strip()]


flag = from_text(converters.switch("0", "1"))  # a link writes 0 or 1
numbers = from_text(converters.numbers)


def base64url(value: str) -> bytes:
    """Bytes as the page writes them into a link: base64url, unpadded."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", value):
        raise ValueError("base64url text (letters, digits, - and _)")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@converters.described({"type": "points"})
def sample_points(value: str, result) -> list[int]:
    """Points of the Grand Tour's sample, as the tour writes a brushed selection: a bitmask over
    their positions (point p is bit p % 8 of byte p // 8), base64url."""
    bits = base64url(value)
    n = result.tour["sample_size"]
    if len(bits) != (n + 7) // 8:
        raise ValueError(f"a bitmask of the {n} points ({(n + 7) // 8} bytes, base64url) as the tour writes it")
    return [p for p in range(n) if bits[p // 8] >> (p % 8) & 1]


@converters.described({"type": "example"})
def example_pixels(value: str, result) -> bytes:
    """An example, as the tour writes the explorer's: its uint8 C*H*W pixels, raw deflate, base64url."""
    size = math.prod(result.dataset.shape)
    try:
        pixels = zlib.decompress(base64url(value), wbits=-15)
    except zlib.error:
        pixels = b""
    if len(pixels) != size:
        raise ValueError(f"an example as the tour writes it ({size} pixels, deflated, base64url)")
    return pixels


NEEDS_RESULT |= {sample_points, example_pixels}


@converters.described({"type": "number", "min": 0, "below": 1})
def fraction(value: str, result) -> float:
    number = numbers(value, result)
    if len(number) != 1 or not 0 <= number[0] < 1:
        raise ValueError("a number from 0 up to 1")
    return number[0]


@dataclass(frozen=True)
class OwnData:
    """Data a figure draws that is not the article's (a playground's points): where every figure
    of an article draws its own, its byline and share picture say what they draw."""

    kind: str  # what it is, for the byline: "2-D points"
    name: str  # which: "circle", "moons.csv"
    tile: Callable[[int], object]  # a size in pixels -> a square RGB PIL image of it
    identity: str  # what the tile is drawn from, in full (a setup, an author's points included): its cache key


@dataclass
class Figure:
    name: str
    render: Callable[..., str]
    options: dict  # option name -> (converter, default)
    widgets: tuple[str, ...]
    state: dict = field(default_factory=dict)  # what a link may set of its view: key -> converter
    kinds: tuple[str, ...] = ("image",)  # the kinds of data it can show (one that reads none: both)
    exports: tuple = ()  # graphs of code and numbers it loads (model/exports.py): made beside training
    shows: Callable[[dict], OwnData] | None = None  # its typed options -> the data it draws; None: the article's

    def check_state(self, query: str, result) -> dict:
        """A link's view ("layer=relu3&epoch=1&select=1,7") -> {key: typed value}; ValueError
        naming the key and what it accepts. Keys needing a trained build are checked once it is."""
        from urllib.parse import parse_qsl

        typed = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key not in self.state:
                raise ValueError(f"figure '{self.name}' has no view key '{key}'; its keys: {', '.join(self.state)}")
            if isinstance(result, Preview) and self.state[key] in NEEDS_RESULT:
                continue
            try:
                typed[key] = self.state[key](value, result)
            except ValueError as e:
                raise ValueError(f"'{key}' must be {e}; got '{value}'") from None
        return typed

    def check_options(self, given: dict, result, source: Path | None = None) -> dict:
        """{name: (text, line)} from the directive -> {name: typed value}, defaults filled in;
        `source` the file that wrote them (what a file an option names is relative to)."""
        if result is not None and data_kind(result) not in self.kinds:
            kind = data_kind(result)
            able = [name for name, f in FIGURES.items() if kind in f.kinds]
            raise FigureError(
                f"figure '{self.name}' shows {' or '.join(self.kinds)} data, and this article's is {kind}:"
                f" use one of {', '.join(able)}"
            )
        known = {"label": (text, None), **self.options}
        typed = {}
        for name, (text_value, line) in given.items():
            if name not in known:
                raise FigureError(
                    f"figure '{self.name}' has no option ':{name}:'; its options: {', '.join(f':{k}:' for k in known)}"
                    + did_you_mean(f":{name}:", [f":{k}:" for k in known]),  # as the article writes it
                    line,
                )
            if isinstance(result, Preview) and known[name][0] in NEEDS_RESULT:
                continue  # checked again when the build's result is there
            convert, relative = known[name][0], ((source,) if known[name][0] in NEEDS_SOURCE else ())
            try:
                typed[name] = convert(text_value, result, *relative)
            except ValueError as e:
                raise FigureError(
                    f"figure '{self.name}' option ':{name}:' must be {e}; got '{text_value}'", line
                ) from None
        for name, (convert, default) in known.items():
            # A default of None means "the converter's choice" (e.g. the recorded model).
            if name not in typed and not (isinstance(result, Preview) and convert in NEEDS_RESULT):
                typed[name] = convert(None, result) if default is None and convert is not text else default
        return typed


FIGURES: dict[str, Figure] = {}


def link_schema() -> dict[str, dict[str, dict]]:
    """Each figure's link keys, in the order its page writes them, with what each accepts (its
    converter's schema): declared once (its `state`), handed to the page in the contract
    ("link_state"), which decodes and encodes a link by it (templates/link-state.js)."""
    return {name: {key: convert.schema for key, convert in f.state.items()} for name, f in FIGURES.items() if f.state}


def figure(
    name: str,
    widgets: tuple[str, ...] = (),
    state: dict | None = None,
    kinds: tuple[str, ...] = ("image",),
    exports: tuple = (),
    shows: Callable[[dict], OwnData] | None = None,
    **options,
):
    """Register the decorated function as figure `name`; options are name=(converter, default);
    `state` the keys a link may set of its view (key -> converter); `kinds` the kinds of data it
    can show (every figure written for images says so here, once, rather than each testing);
    `exports` the graphs of code and numbers it loads (model/exports.py); `shows`, for a figure
    that draws data of its own rather than the article's, what that is (OwnData) by its options."""

    undescribed = [key for key, convert in (state or {}).items() if not hasattr(convert, "schema")]
    if undescribed:  # the page could not decode them
        raise TypeError(f"figure '{name}': link keys {', '.join(undescribed)} have converters without a schema")

    def register(render):
        FIGURES[name] = Figure(name, render, options, widgets, state or {}, kinds, exports, shows)
        return render

    return register


def own_data_said(shown: list[OwnData]) -> str:
    """Figures' own data for a byline, each kind once with its names: "2-D points: circle, moons.csv"."""
    kinds = {d.kind: list(dict.fromkeys(o.name for o in shown if o.kind == d.kind)) for d in shown}
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in kinds.items())


def own_data_png(shown: list[OwnData], tile: int = 120, gap: int = 4) -> bytes:
    """Each different data of `shown` as a tile, in one row on white: an article's picture (its card
    on the index, its share image) where its figures draw data of their own."""
    from PIL import Image

    tiles = list({(d.kind, d.name): d for d in shown}.values())
    sheet = Image.new("RGB", (len(tiles) * (tile + gap) + gap, tile + 2 * gap), "white")
    for k, data in enumerate(tiles):
        sheet.paste(data.tile(tile), (gap + k * (tile + gap), gap))
    out = io.BytesIO()
    sheet.save(out, "PNG")  # (optimize=True: 10% smaller, 4x the time, on every render)
    return out.getvalue()


def plotly():
    """plotly's graph_objects and make_subplots, imported on first use: a rebuild whose figures
    all come from the cache does not pay for the import (0.3 s)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    return go, make_subplots


def plotly_html(fig, thumbnails: str | None = None) -> str:
    """A Plotly figure as a div that templates/figures.js draws (data inline, no script), and
    its numbers as a table after it, or where a table would not help, a still picture of it
    (data-still, a PNG the render stage writes as a file). With `thumbnails` (a recorded model's
    name), hovering a point shows its example: the points' customdata are indices into that
    model's recorded sample."""
    from .still import still_png

    table = numbers_table(fig)
    extra = f' data-thumbnails="{html.escape(thumbnails)}"' if thumbnails else ""
    picture = None if table else still_png(fig)
    if picture:
        extra += f' data-still="{base64.b64encode(picture).decode()}"'
    div = f'<div class="plotly-figure" data-plotly="{html.escape(fig.to_json())}"{extra}></div>'
    return div + (f'<details class="figure-numbers"><summary>The numbers</summary>{table}</details>' if table else "")


MAX_CELLS = 400  # beyond this a table is no help (a scatter of 1,000 points, a 28x28 image)


def formatter(tickformat) -> Callable:
    """A value as the figure's axis writes it (a percentage where its ticks are), blank if none."""

    def show(v) -> str:
        if v is None:
            return ""
        if tickformat and "%" in tickformat:
            return percent(v)
        return f"{v:,}" if isinstance(v, int | np.integer) else f"{v:.3g}"

    return show


def numbers_table(fig) -> str:
    """A small figure's numbers as an HTML table: what readers without JavaScript, on paper or
    with a screen reader get in its place. "" for pictures and large scatters."""
    if not fig.data or any(t.type not in ("scatter", "heatmap") for t in fig.data):
        return ""
    if sum(np.asarray(t.z if t.type == "heatmap" else t.x).size for t in fig.data) > MAX_CELLS:
        return ""
    # The lines and maps themselves: not the bands around lines, nor legend-only entries.
    traces = [t for t in fig.data if t.type == "heatmap" or (t.fill is None and t.showlegend is not False)]
    cell = html.escape
    if len(traces) == 1 and traces[0].type == "heatmap":
        z, fmt = np.asarray(traces[0].z), formatter(traces[0].colorbar.tickformat)
        x_title, y_title = fig.layout.xaxis.title.text or "", fig.layout.yaxis.title.text or ""
        corner = f"{cell(y_title)} ↓ {cell(x_title)} →" if x_title or y_title else ""
        columns = traces[0].x if traces[0].x is not None else range(z.shape[1])
        rows = traces[0].y if traces[0].y is not None else range(z.shape[0])
        head = "".join(f'<th scope="col">{cell(str(c))}</th>' for c in columns)
        body = "".join(
            f'<tr><th scope="row">{cell(str(r))}</th>' + "".join(f"<td>{fmt(v)}</td>" for v in z[i]) + "</tr>"
            for i, r in enumerate(rows)
        )
        return f"<table><thead><tr><th>{corner}</th>{head}</tr></thead><tbody>{body}</tbody></table>"
    if any(t.type != "scatter" for t in traces):
        return ""
    x_title, y_title = fig.layout.xaxis.title.text or "", fig.layout.yaxis.title.text or ""
    fmt = formatter(fig.layout.yaxis.tickformat)

    def axis_format(trace) -> Callable:  # a line on a second axis (y2) has that axis's format
        return formatter(fig.layout[f"yaxis{(trace.yaxis or 'y')[1:]}"].tickformat)

    if len(traces) == 1 and traces[0].text is not None:  # one point per labelled item (the ladder chart)
        t = traces[0]
        head = f'<th></th><th scope="col">{cell(x_title)}</th><th scope="col">{cell(y_title)}</th>'
        body = "".join(
            f'<tr><th scope="row">{cell(str(label))}</th><td>{formatter(None)(x)}</td><td>{fmt(y)}</td></tr>'
            for label, x, y in zip(t.text, t.x, t.y)
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    xs = list(dict.fromkeys(x for t in traces for x in t.x))  # one row per x, one column per line
    values = [(dict(zip(t.x, t.y)), axis_format(t)) for t in traces]
    head = f'<th scope="col">{cell(x_title)}</th>' + "".join(
        f'<th scope="col">{cell(t.name or "")}</th>' for t in traces
    )
    body = "".join(
        f'<tr><th scope="row">{cell(str(x))}</th>'
        + "".join(f"<td>{show(v[x]) if x in v else ''}</td>" for v, show in values)
        + "</tr>"
        for x in xs
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def colours_of(labels, n_classes: int) -> list[str]:
    palette = class_colours(n_classes)
    return [palette[label] for label in labels]


def as_rgb(pixels, shape) -> np.ndarray:
    """uint8 (C, H, W) values -> an (H, W, 3) image for go.Image: grey as dark ink on white
    (as the page draws one channel), colour as it is."""
    image = np.asarray(pixels, dtype=np.uint8).reshape(shape)
    if shape[0] == 1:
        return np.repeat(255 - image[0][:, :, None], 3, axis=2)
    return image.transpose(1, 2, 0)


from . import (  # noqa: E402,F401
    atlas,
    attribution,
    grand_tour,
    ladder,
    layer_detail,
    layer_explorer,
    live_training,
    manifold,
    one_neuron,
    playground,
    ten_neurons,
    text_explorer,
    training_curves,
    training_history,
    unit_examples,
)
