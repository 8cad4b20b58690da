"""One neuron per class, judged honestly: a widget to pick the class and move the threshold."""

import html

from ... import contract
from . import FigureError, class_index, fallback, figure, model


@figure("one-neuron", widgets=("neuron",), model=(model, "one_neuron"), **{"class": (class_index, None)})
def one_neuron(result, model: str, **options) -> str:
    path = contract.site_path("neuron", model=model)
    if path not in result.files:
        raise FigureError(f"one-neuron: '{model}' is not a model of one sigmoid neuron per class over the pixels")
    return (
        f'<div class="one-neuron" data-model="{html.escape(model)}" data-class="{options["class"]}">{fallback()}</div>'
    )
