"""Held-out accuracy after every epoch, one line per model of the ladder."""

import plotly.graph_objects as go

from . import figure, plotly_html


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
