"""Held-out accuracy after every epoch, one line per model of the ladder."""

import plotly.graph_objects as go

from . import FigureError, figure, plotly_html


@figure("training-curves", widgets=("figures",), metric=(("accuracy", "loss"), "accuracy"))
def training_curves(data: dict, metric: str) -> str:
    fig = go.Figure()
    for model in data["metrics"].values():
        epochs = model["epochs"]
        fig.add_scatter(
            x=[e["epoch"] for e in epochs], y=[e[metric] for e in epochs], mode="lines+markers", name=model["title"]
        )
    fig.update_layout(
        xaxis_title="epoch",
        yaxis_title=f"held-out {metric}",
        yaxis_tickformat=".0%" if metric == "accuracy" else None,
        margin=dict(l=60, r=20, t=20, b=50),
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    return plotly_html(fig)


@figure("per-class-accuracy", widgets=("figures",), model=(str, "cnn"), metric=(("accuracy", "loss"), "accuracy"))
def per_class_accuracy(data: dict, model: str, metric: str) -> str:
    """Which digit the network learns when: held-out accuracy (or loss) per class after every epoch."""
    if model not in data["metrics"]:
        raise FigureError(f"per-class-accuracy: no model '{model}'; the build has {', '.join(data['metrics'])}")
    epochs = data["metrics"][model]["epochs"]
    if metric == "loss" and epochs[0]["per_class_loss"][0] is None:
        raise FigureError(f"per-class-accuracy: '{model}' has no per-class loss (its last layer is not a softmax)")
    values = [e[f"per_class_{metric}"] for e in epochs]
    accuracy = metric == "accuracy"
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=data["classes"],
            y=[e["epoch"] for e in epochs],
            colorscale="Viridis",
            reversescale=not accuracy,
            zmin=0,
            zmax=1 if accuracy else None,
            colorbar=dict(tickformat=".0%" if accuracy else ".2f"),
            hovertemplate=f"epoch %{{y}}, digit %{{x}}: %{{z:{'.1%' if accuracy else '.3f'}}}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="epoch", autorange="reversed"),
        height=420,
        margin=dict(l=60, r=20, t=20, b=50),
    )
    return plotly_html(fig)
