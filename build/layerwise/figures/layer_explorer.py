"""The live widget: onnxruntime-web runs an exported model in the page and draws every layer."""

import html

from . import figure, model


@figure("layer-explorer", widgets=("explorer",), model=(model, None))
def layer_explorer(result, model: str) -> str:
    noun = html.escape(result.dataset.noun)
    return (
        f'<div class="layer-explorer" data-model="{html.escape(model)}">'
        f"<noscript>This figure runs the network on your own {noun} in your browser and needs JavaScript."
        "</noscript></div>"
    )
