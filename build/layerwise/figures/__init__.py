"""The figure registry: the one place that knows every name a ```{figure} directive may use.

A figure is a function (build data, **options) -> HTML, registered with the options it takes and
their types, and the browser modules (templates/*.js) it needs on the page.
"""

import html
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import BuildError


class FigureError(BuildError):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass
class Figure:
    name: str
    render: Callable[..., str]
    options: dict  # option name -> (type, default)
    widgets: tuple[str, ...]

    def check_options(self, given: dict) -> dict:
        """{name: (text, line)} from the directive -> {name: typed value}, defaults filled in."""
        known = {"label": (str, None), **self.options}
        typed = {name: default for name, (_, default) in known.items()}
        for name, (text, line) in given.items():
            if name not in known:
                raise FigureError(
                    f"figure '{self.name}' has no option ':{name}:'; its options: {', '.join(f':{k}:' for k in known)}",
                    line,
                )
            kind = known[name][0]
            try:
                typed[name] = parse_value(kind, text)
            except ValueError:
                raise FigureError(
                    f"figure '{self.name}' option ':{name}:' must be {describe(kind)}, got '{text}'", line
                ) from None
        return typed


def parse_value(kind, text: str):
    if kind is bool:
        if text.lower() not in ("true", "false", "yes", "no"):
            raise ValueError(text)
        return text.lower() in ("true", "yes")
    if isinstance(kind, tuple):  # a choice among fixed words
        if text not in kind:
            raise ValueError(text)
        return text
    return kind(text)


def describe(kind) -> str:
    if isinstance(kind, tuple):
        return "one of " + ", ".join(kind)
    return {int: "a whole number", float: "a number", bool: "true or false", str: "text"}[kind]


FIGURES: dict[str, Figure] = {}


def figure(name: str, widgets: tuple[str, ...] = (), **options):
    """Register the decorated function as figure `name`; options are name=(type, default)."""

    def register(render):
        FIGURES[name] = Figure(name, render, options, widgets)
        return render

    return register


def plotly_html(fig, thumbnails: str | None = None) -> str:
    """A Plotly figure as a div that templates/figures.js draws (data inline, no script).
    With `thumbnails` (a recorded sample's folder), hovering a point shows its digit: the points'
    customdata are indices into that sample."""
    extra = f' data-thumbnails="{html.escape(thumbnails)}"' if thumbnails else ""
    return f'<div class="plotly-figure" data-plotly="{html.escape(fig.to_json())}"{extra}></div>'


from . import grand_tour, ladder, layer_explorer, manifold, one_neuron, ten_neurons, training_curves  # noqa: E402,F401
