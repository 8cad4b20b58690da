"""The live widget: onnxruntime-web runs an exported model in the page and draws every layer."""

import html

from . import FigureError, figure


@figure("layer-explorer", widgets=("explorer",), model=(str, "cnn"))
def layer_explorer(data: dict, model: str) -> str:
    if model not in data["models"]:
        raise FigureError(f"layer-explorer: no model '{model}'; the build has {', '.join(data['models'])}")
    info = data["models"][model]
    return (
        f'<div class="layer-explorer" data-model="{html.escape(info["onnx"])}" '
        f'data-layers="{html.escape(info["layers_json"])}" data-digits="data/test-digits.json">'
        "<noscript>This figure runs the network in your browser and needs JavaScript.</noscript>"
        "</div>"
    )
