"""The Grand Tour widget: every layer of the recorded model over training (templates/tour.js)."""

import html

from . import (
    class_list,
    example_pixels,
    fallback,
    figure,
    flag,
    fraction,
    numbers,
    sample_points,
    tour_epoch,
    tour_layer,
)

# What a link may set of the tour's view, declared here only: the page is handed these keys, in
# this order, with their converters' schemas, through the contract (templates/link-state.js reads
# them; tour-state.js has a codec for each of the tour's own types):
# #fig-tour?layer=relu3&epoch=1&select=1,7 (epoch: a recorded moment, 0.125 is an eighth of the
# first; t: a fraction towards the next layer; view: the projection's two columns; mistakes,
# play: 0 or 1; points: brushed points; example: the layer explorer's example).
STATE = {"layer": tour_layer, "t": fraction, "epoch": tour_epoch, "select": class_list, "mistakes": flag}
STATE |= {"play": flag, "view": numbers, "points": sample_points, "example": example_pixels}


@figure(
    "grand-tour",
    widgets=("tour",),
    state=STATE,
    kinds=("image", "text"),
    layer=(tour_layer, None),
    epoch=(tour_epoch, None),
)
def grand_tour(result, layer: str, epoch: int) -> str:  # epoch: the snapshot's index
    return (
        f'<div class="grand-tour" data-model="{html.escape(result.tour["model"])}" '
        f'data-layer="{html.escape(layer)}" data-snapshot="{epoch}">'
        f"{fallback('The Grand Tour is drawn')}</div>"
    )
