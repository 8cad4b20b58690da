"""A layer's detail view: how it computes one output value, on the reader's own example, redone
in the page with the model's weights and checked against onnxruntime-web (templates/detail.js)."""

import html

from . import FigureError, fallback, figure, model, text, whole


def position_in(layer, position: str, channel: int) -> tuple[str, int]:
    """The directive's ':position:' ("row,column" in a map, "unit" in a vector; by default the
    middle) checked against the layer's shape, as the data attribute detail.js reads."""
    shape = layer.shape
    where = f"{layer.name} gives {'×'.join(map(str, shape))}"
    if len(shape) == 3:
        if not position:
            return f"{shape[1] // 2},{shape[2] // 2}", channel
        parts = position.replace(" ", "").split(",")
        numbers = [int(p) for p in parts if p.isdigit()]
        if len(parts) != 2 or len(numbers) != 2 or numbers[0] >= shape[1] or numbers[1] >= shape[2]:
            raise FigureError(
                f"layer-detail option ':position:' must be 'row,column' with row 0 to {shape[1] - 1} and "
                f"column 0 to {shape[2] - 1} ({where}); got '{position}'"
            )
        if channel >= shape[0]:
            raise FigureError(f"layer-detail option ':channel:' must be 0 to {shape[0] - 1} ({where}); got {channel}")
        return ",".join(parts), channel
    if not position:
        return "0", 0
    if not position.isdigit() or int(position) >= shape[0]:
        raise FigureError(
            f"layer-detail option ':position:' must be a unit, 0 to {shape[0] - 1} ({where}); got '{position}'"
        )
    return position, 0


OPTIONS = dict(model=(model, None), layer=(text, ""), position=(text, ""), channel=(whole(0, 100_000), 0))


@figure("layer-detail", widgets=("detail",), **OPTIONS)
def layer_detail(result, model: str, layer: str, position: str, channel: int) -> str:
    layers = {info.name: info for info in result.models[model].layers}
    if layer not in layers:
        raise FigureError(
            f"layer-detail option ':layer:' must be a layer of {model}: one of {', '.join(layers)}; got '{layer}'"
        )
    info = layers[layer]
    at, channel = position_in(info, position, channel)
    noun, name, kind = (html.escape(v) for v in (result.dataset.noun, layer, info.type))
    return (
        f'<div class="layer-detail" data-model="{html.escape(model)}" data-layer="{name}" '
        f'data-position="{at}" data-channel="{channel}">'
        f"{fallback(f'This figure redoes the arithmetic of {name} ({kind}) on a {noun}')}</div>"
    )
