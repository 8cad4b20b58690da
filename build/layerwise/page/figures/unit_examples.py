"""What one unit responds to, for the prose: the held-out examples that excite a conv channel or
dense unit most and least (units.py), as still pictures with their classes and values."""

import base64
import html
import io
import json

from ... import contract
from . import FigureError, figure, model, text, whole


def crops(sprite_bytes: bytes, size: list[int], unit: int, count: int) -> list[str]:
    """The unit's row of the layer's sprite, one PNG data URL per example."""
    from PIL import Image

    sprite = Image.open(io.BytesIO(sprite_bytes))
    h, w = size
    urls = []
    for column in range(count):
        out = io.BytesIO()
        sprite.crop((column * w, unit * h, (column + 1) * w, (unit + 1) * h)).save(out, "PNG")
        urls.append("data:image/png;base64," + base64.b64encode(out.getvalue()).decode())
    return urls


def unit_layer(result, model: str, layer: str):
    """The LayerInfo of `layer`, a layer of `model` with units (by default its first)."""
    ranked = {info.name: info for info in result.models[model].layers if info.units}
    if not ranked:
        raise FigureError(f"unit-examples: '{model}' has no convolutional or dense layer; pick another :model:")
    if not layer:
        return next(iter(ranked.values()))
    if layer not in ranked:
        raise FigureError(
            f"unit-examples option ':layer:' must be a conv or dense layer of {model}: one of {', '.join(ranked)}; "
            f"got '{layer}'"
        )
    return ranked[layer]


@figure("unit-examples", model=(model, None), layer=(text, ""), unit=(whole(0, 100_000), 0))
def unit_examples(result, model: str, layer: str, unit: int) -> str:
    info = unit_layer(result, model, layer)
    count, what = info.shape[0], "map" if len(info.shape) == 3 else "unit"
    if unit >= count:
        raise FigureError(
            f"unit-examples option ':unit:' must be 0 to {count - 1} ({info.name} has {count} {what}s); got {unit}"
        )
    data = json.loads(result.files[contract.site_path("units", model=model, layer=info.name)])["units"][unit]
    sprite = result.files[contract.site_path("unit_crops", model=model, layer=info.name)]
    top, bottom = info.units["top"], info.units["bottom"]
    optimized = info.units.get("optimized")
    urls = crops(sprite, info.units["crop"], unit, top + bottom + bool(optimized))
    noun, classes = result.dataset.noun, result.classes

    def example(k: int) -> str:
        name, value = html.escape(classes[data["labels"][k]]), data["values"][k]
        alt = f"held-out {html.escape(noun)} {data['examples'][k]}, {name}, value {value:.3f}"
        return (
            f'<figure class="unit-example"><img class="unit-crop" src="{urls[k]}" alt="{alt}">'
            f"<figcaption>{name} <span>{value:.2f}</span></figcaption></figure>"
        )

    def row(title: str, columns) -> str:
        items = "".join(example(k) for k in columns)
        return (
            f'<div class="unit-row" role="group" aria-label="{title}"><p class="unit-row-title">{title}</p>'
            f'<div class="unit-examples-row">{items}</div></div>'
        )

    name = html.escape(f"{info.name}, {what} {unit}")
    made = ""
    if optimized:  # the sprite's last column: the input optimized to excite it, and what it reached
        value = data["optimized"]
        made = (
            f'<div class="unit-own unit-optimized"><figure class="unit-example"><img class="unit-crop" '
            f'src="{urls[-1]}" alt="an input optimized to excite it, value {value:.3f}"><figcaption>optimized '
            f"<span>{value:.2f}</span></figcaption></figure><p>An input made to excite it ({optimized['steps']} steps "
            f"of gradient ascent on a smooth image) reaches {value:.2f}; the best held-out {html.escape(noun)}, "
            f"{data['values'][0]:.2f}.</p></div>"
        )
    return (
        f'<div class="unit-examples-figure" data-model="{html.escape(model)}" data-layer="{html.escape(info.name)}">'
        f"{row(f'Most: the {top} held-out {html.escape(noun)}s that excite {name} most', range(top))}"
        f"{row(f'Least: the {bottom} that excite it least', range(top, top + bottom))}{made}</div>"
    )
