"""The live-training figure: the reader trains one of the article's linear models from zero in the
page (templates/live-training.js), with the build's exported SGD step, on the article's own
examples; the held-out accuracy is computed live, the build's own beside it as the target."""

import base64
import html
import json
import math

from ...contract import LIVE_MAX_CLASSES
from ...model import exports, live_training
from ...stats import percent
from . import FigureError, fallback, figure, model

# The loss each linear model's last layer calls for (live_training.LOSSES).
LOSS_OF_HEAD = {"Softmax": "softmax", "Sigmoid": "one_neuron"}


def loss_of(result, name: str) -> str | None:
    """The live step's loss for a model: a single linear layer over the pixels with a softmax or
    sigmoid head; None for any other."""
    described = result.models[name]
    if described.templates is None or not described.layers:
        return None
    return LOSS_OF_HEAD.get(described.layers[-1].type)


@figure(
    "live-training",
    widgets=("live-training",),
    model=(model, "softmax"),
    exports=((live_training.export_graphs, live_training.graph_arguments),),
)
def live_training_figure(result, model: str) -> str:
    loss = loss_of(result, model)
    if loss is None:
        able = [name for name in result.models if loss_of(result, name)]
        raise FigureError(
            f"live-training: '{model}' is not one linear layer over the pixels with a softmax or sigmoid;"
            f" choose :model: {' or '.join(able) or '(none of this build can)'}"
        )
    pixels, classes = math.prod(result.dataset.shape), len(result.classes)
    if classes > LIVE_MAX_CLASSES:
        raise FigureError(
            f"live-training: the page keeps each label in a byte, so at most {LIVE_MAX_CLASSES}"
            f" classes; this dataset has {classes}: leave the figure out of this article"
        )
    accuracy = result.models[model].metrics["test_accuracy"]
    described = {
        "model": model,
        "title": result.models[model].title,
        "loss": loss,
        "batch": live_training.BATCH,
        "hyper": live_training.hyper(loss).tolist(),  # the step's learning rate and loss, as it reads them
        "parameters": live_training.parameter_count(pixels, classes),
        "target": float(accuracy),
        "target_text": percent(accuracy),  # as the prose writes it
    }
    # The graphs leave the page as files of their own (render.externalise_figures), fetched when
    # the figure nears the viewport or the reader presses Play; so do the examples (contract's
    # live_examples, written by the pipeline).
    graphs = exports.load(live_training.export_graphs, pixels, classes)
    files = "".join(f' data-inline-graph-{name}="{base64.b64encode(data).decode()}"' for name, data in graphs.items())
    return (
        f'<div class="live-training" data-model="{html.escape(json.dumps(described))}"{files}>'
        f"{fallback('This model trains')}</div>"
    )
