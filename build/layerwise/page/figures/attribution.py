"""Attribution: where the network looks on the reader's example (saliency, integrated gradients
from the model's exported gradient graph, occlusion from forward runs; templates/attribution.js)."""

import html

from . import fallback, figure, model


@figure("attribution", widgets=("attribution",), model=(model, None))
def attribution(result, model: str) -> str:
    noun = html.escape(result.dataset.noun)
    return (
        f'<div class="attribution" data-model="{html.escape(model)}">'
        f"{fallback(f'This figure shows which pixels of your {noun} the network reads')}</div>"
    )
