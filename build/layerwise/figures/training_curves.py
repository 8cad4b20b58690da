"""Held-out accuracy after every epoch, one line per model of the ladder."""

import plotly.graph_objects as go

from . import FigureError, figure, plotly_html


@figure("training-curves", widgets=("figures",), metric=(("accuracy", "loss"), "accuracy"))
def training_curves(data: dict, metric: str) -> str:
    fig = go.Figure()
    for name, model in data["metrics"].items():
        epochs = model["epochs"]
        fig.add_scatter(x=[e["epoch"] for e in epochs], y=[e[metric] for e in epochs],
                        mode="lines+markers", name=model["title"])
    fig.update_layout(xaxis_title="epoch", yaxis_title=f"held-out {metric}",
                      yaxis_tickformat=".0%" if metric == "accuracy" else None,
                      margin=dict(l=60, r=20, t=20, b=50), height=360,
                      legend=dict(orientation="h", y=-0.25))
    return plotly_html(fig)


@figure("per-class-accuracy", widgets=("figures",), model=(str, "cnn"))
def per_class_accuracy(data: dict, model: str) -> str:
    """Which digit the network learns when: held-out accuracy per class after every epoch."""
    if model not in data["metrics"]:
        raise FigureError(f"per-class-accuracy: no model '{model}'; the build has {', '.join(data['metrics'])}")
    epochs = data["metrics"][model]["epochs"]
    fig = go.Figure(go.Heatmap(
        z=[e["per_class_accuracy"] for e in epochs], x=data["classes"], y=[e["epoch"] for e in epochs],
        colorscale="Viridis", zmin=0, zmax=1, colorbar=dict(tickformat=".0%"),
        hovertemplate="epoch %{y}, digit %{x}: %{z:.1%}<extra></extra>"))
    fig.update_layout(xaxis=dict(title="digit", type="category"), yaxis=dict(title="epoch", autorange="reversed"),
                      height=420, margin=dict(l=60, r=20, t=20, b=50))
    return plotly_html(fig)
