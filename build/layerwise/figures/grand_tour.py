"""The Grand Tour widget: every layer of the recorded model at every epoch (templates/tour.js)."""

import html

from . import figure, tour_epoch, tour_layer


@figure("grand-tour", widgets=("tour",), layer=(tour_layer, None), epoch=(tour_epoch, None))
def grand_tour(result, layer: str, epoch: int) -> str:
    return (
        f'<div class="grand-tour" data-model="{html.escape(result.tour["model"])}" '
        f'data-layer="{html.escape(layer)}" data-epoch="{epoch}">'
        "<noscript>The Grand Tour is drawn in your browser and needs JavaScript.</noscript></div>"
    )
