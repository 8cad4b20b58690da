"""A next-token model as it changed over training (model/history.py): an epoch slider over its
snapshots, showing the held-out bits per character then, one held-out text's attention per head
and what each block's logit lens read at each position (templates/training-history.js)."""

import html
import json

from . import FigureError, fallback, figure


@figure("training-history", widgets=("training-history",), kinds=("text",))
def training_history(result) -> str:
    found = (result.tour or {}).get("history")
    if not found:
        raise FigureError(
            "figure 'training-history' shows a next-token model's snapshots: give the article a next-token "
            'text source ([data] task = "next-token") and record that model ([record] model = NAME)'
        )
    page = {"model": result.tour["model"], **found}
    first, last = found["bits"][0], found["bits"][-1]
    said = (
        f" Held out, it needed {first:.2f} bits per character before training and {last:.2f} after"
        f" {found['epochs'][-1]:g} epochs."
    )
    return (
        f'<div class="training-history" data-history="{html.escape(json.dumps(page))}">'
        f"{fallback('This figure shows the model as it trained', said)}</div>"
    )
