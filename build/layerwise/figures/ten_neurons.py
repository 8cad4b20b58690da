"""Softmax regression up close: its ten weight templates, its confusion matrix, its mistakes."""

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import FigureError, figure, plotly_html


def model_metrics(data: dict, model: str) -> dict:
    if model not in data["metrics"]:
        raise FigureError(f"no model '{model}'; the build has {', '.join(data['metrics'])}")
    return data["metrics"][model]


@figure("weight-templates", widgets=("figures",), model=(str, "softmax"))
def weight_templates(data: dict, model: str) -> str:
    """Each output neuron's 784 weights as a 28x28 image: red pixels vote for the class, blue against."""
    layers = data["models"][model]["layers"] if model in data["models"] else None
    if layers is None or "weights" not in data["models"][model]:
        raise FigureError(f"weight-templates: '{model}' has no single linear layer of 10 x 784 weights")
    weights = data["models"][model]["weights"]
    classes = data["classes"]
    fig = make_subplots(rows=2, cols=5, subplot_titles=classes, horizontal_spacing=0.02, vertical_spacing=0.08)
    limit = max(abs(w) for row in weights for w in row)
    for i, row in enumerate(weights):
        image = [row[r * 28 : (r + 1) * 28] for r in range(28)]
        fig.add_trace(
            go.Heatmap(
                z=image,
                zmid=0,
                zmin=-limit,
                zmax=limit,
                colorscale="RdBu",
                reversescale=True,
                showscale=i == 0,
                hovertemplate=f"{classes[i]}: weight %{{z:.3f}}<extra></extra>",
            ),
            row=i // 5 + 1,
            col=i % 5 + 1,
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x")
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10))
    return plotly_html(fig)


@figure("confusion-matrix", widgets=("figures",), model=(str, "softmax"))
def confusion_matrix(data: dict, model: str) -> str:
    matrix = model_metrics(data, model)["confusion"]
    classes = data["classes"]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=classes,
            y=classes,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="true %{y}, said %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis=dict(title="the model said", type="category"),
        yaxis=dict(title="true digit", type="category", autorange="reversed"),
        height=420,
        margin=dict(l=60, r=20, t=20, b=50),
    )
    return plotly_html(fig)


@figure("mistakes", widgets=("figures",), model=(str, "softmax"), count=(int, 10))
def mistakes(data: dict, model: str, count: int) -> str:
    """Held-out digits the model gets wrong, each titled 'true → said'."""
    model_metrics(data, model)
    wrong = data["mistakes"][model][:count]
    if not wrong:
        return "<p>The model got every held-out digit right.</p>"
    fig = make_subplots(
        rows=1,
        cols=len(wrong),
        horizontal_spacing=0.01,
        subplot_titles=[f"{data['classes'][w['label']]} → {data['classes'][w['predicted']]}" for w in wrong],
    )
    for i, w in enumerate(wrong):
        fig.add_trace(
            go.Heatmap(z=w["pixels"], colorscale="Greys", showscale=False, hoverinfo="skip"), row=1, col=i + 1
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False, scaleanchor="x")
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=140, margin=dict(l=5, r=5, t=30, b=5))
    return plotly_html(fig)
