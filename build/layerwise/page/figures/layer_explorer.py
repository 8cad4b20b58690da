"""The live widget: onnxruntime-web runs an exported model in the page and draws every layer."""

import html

from ...stats import percent
from . import fallback, figure, model


@figure("layer-explorer", widgets=("explorer",), model=(model, None))
def layer_explorer(result, model: str) -> str:
    noun = html.escape(result.dataset.noun)
    described = result.models[model]
    metrics = described.metrics
    # Where the weights come from, and what the number is measured on, in the figure itself.
    origin = (
        f'<p class="model-origin">{html.escape(described.title)}, {html.escape(described.origin)}: '
        f"{percent(metrics['test_accuracy'])} of {metrics['n_test']:,} held-out {noun}s right.</p>"
    )
    return (
        f'{origin}<div class="layer-explorer" data-model="{html.escape(model)}">'
        f"{fallback(f'This figure runs the network on your own {noun}')}</div>"
    )
