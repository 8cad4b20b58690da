"""One neuron per digit, judged honestly: a widget to pick the digit and move the threshold."""

import html

from . import FigureError, figure


@figure("one-neuron", widgets=("neuron",), model=(str, "one_neuron"), digit=(int, 5))
def one_neuron(data: dict, model: str, digit: int) -> str:
    path = f"ladder/{model}.json"
    if path not in data["files"]:
        raise FigureError(f"one-neuron: '{model}' is not a model of one sigmoid neuron per class")
    if not 0 <= digit < len(data["classes"]):
        raise FigureError(f"one-neuron: digit must be 0 to {len(data['classes']) - 1}")
    return (
        f'<div class="one-neuron" data-neuron="{html.escape(path)}" data-digit="{digit}" '
        f'data-classes="{html.escape(",".join(data["classes"]))}">'
        "<noscript>This figure is drawn in your browser and needs JavaScript.</noscript></div>"
    )
