"""The Grand Tour widget: every layer of the recorded model at every epoch (templates/tour.js)."""

import html

from . import FigureError, figure


@figure("grand-tour", widgets=("tour",), layer=(str, "softmax"), epoch=(int, -1))
def grand_tour(data: dict, layer: str, epoch: int) -> str:
    tour = data["tour"]
    layers = ["input"] + [layer["name"] for layer in data["models"][tour["model"]]["layers"]]
    if layer not in layers:
        raise FigureError(f"grand-tour: no layer '{layer}' in {tour['model']}; its layers: {', '.join(layers)}")
    epoch = tour["epochs"] - 1 if epoch < 0 else epoch
    if not 0 <= epoch < tour["epochs"]:
        raise FigureError(f"grand-tour: epoch must be 0 to {tour['epochs'] - 1} (or -1 for the last)")
    return (
        f'<div class="grand-tour" data-tour="tour/{html.escape(tour["model"])}/" '
        f'data-layer="{html.escape(layer)}" data-epoch="{epoch}">'
        "<noscript>The Grand Tour is drawn in your browser and needs JavaScript.</noscript></div>"
    )
