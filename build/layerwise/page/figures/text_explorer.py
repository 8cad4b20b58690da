"""The text explorer: the reader's own text (or a held-out example) through a text model in the
page (templates/text-explorer.js): every shown layer per position, attention per head, the
prediction, the logit lens, and for a next-token model, generation one character at a time."""

import html
import json

import numpy as np

from ... import converters
from ...contract import INPUTS, site_path
from . import fallback, figure, number, text, whole

GENERATE = 200  # characters a press of Generate adds, one at a time
TOP = 5  # next characters (or classes) the prediction lists
DEFAULTS = {"temperature": 0.8, "top_k": 10, "seed": 1}


@converters.described({"type": "layer"})
def any_layer(value: str, result) -> str:
    return value


# What a link may set of the view ("#fig-x?text=...&layer=block0.attention&head=1"), with what
# each accepts: the page encodes and decodes the fragment by these converters' schemas (handed
# over in the contract: text-explorer-state.js) and the build checks a prose link by them. A
# layer is checked in the page (a codec of its own). In the order a link writes them.
STATE = {"text": text, "layer": any_layer, "head": whole(0, 63), "temperature": number(0.05, 5)}
STATE |= {"top_k": whole(1, 65536), "seed": whole(0, 2**31 - 1)}
STATE |= {"query": whole(0, 4095), "generate": whole(0, GENERATE)}


def text_model(value: str | None, result) -> str:
    """A model of this build (a text article's models all read tokens: Figure.kinds checks the
    data); by default the first."""
    if value is None:
        return next(iter(result.models))
    if value not in result.models:
        raise converters.not_one_of(value, result.models, "a model of this build")
    return value


@figure("text-explorer", widgets=("text-explorer",), state=STATE, kinds=("text",), model=(text_model, None))
def text_explorer(result, model: str | None) -> str:
    info = result.dataset.text
    described = result.models[model]
    page = {
        "model": model,
        "defaults": {**DEFAULTS, "top_k": min(DEFAULTS["top_k"], len(info.vocabulary))},
        "generate": GENERATE,
        "top": TOP,
    }
    origin = f'<p class="model-origin">{html.escape(described.title)}, {html.escape(described.origin)}.</p>'
    return (
        f'{origin}<div class="text-explorer" data-model="{html.escape(model)}"'
        f' data-explorer="{html.escape(json.dumps(page))}">'
        f"{fallback('This figure runs the model on your own text', still(result, model))}</div>"
    )


def still(result, model: str) -> str:
    """What a reader without JavaScript sees: the model's answer on the first held-out example,
    computed here by onnxruntime from the very file the page runs."""
    import onnxruntime

    info = result.dataset.text
    if not info.examples:
        return ""
    from ...model.sources.text import tokenize

    example = info.examples[0][-info.context :]
    tokens = np.asarray([tokenize(example, info.vocabulary, info.unknown)], dtype=np.int64)  # (1, T)
    session = onnxruntime.InferenceSession(result.files[site_path("model", model=model)])
    last = result.models[model].layers[-1].name  # the logits over the vocabulary, or the classes
    (logits,) = session.run([last], {INPUTS["text"]: tokens})  # (1, T, V) or (1, C)
    scores = logits[0, -1] if info.task == "next-token" else logits[0]  # (V,) or (C,)
    chances = np.exp(scores - scores.max())
    chances /= chances.sum()
    top = [i for i in np.argsort(-chances) if i != info.unknown][:TOP]
    next_token = info.task == "next-token"
    names = [f"“{shown(c)}”" for c in info.vocabulary] if next_token else result.classes
    listed = ", ".join(f"{html.escape(names[i])} {chances[i]:.0%}" for i in top)
    given = f"Given the held-out {html.escape(result.dataset.noun)} “{html.escape(example)}”"
    return f" {given}, it {'expects next' if next_token else 'answers'}: {listed}."


def shown(character: str) -> str:
    """A token as a reader can see it: a space or a line break named, not blank."""
    return {" ": "space", "\n": "line break", "\t": "tab"}.get(character, character)
