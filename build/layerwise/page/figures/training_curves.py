"""Held-out accuracy after every epoch, one line per model of the ladder, with the range over seeds."""

from ...contract import PALETTE
from ...stats import percent
from . import FigureError, choice, figure, model, plotly, plotly_html


def shown(value: float, metric: str) -> str:
    return percent(value) if metric == "accuracy" else f"{value:.3f}"


@figure(
    "training-curves", widgets=("figures",), kinds=("image", "text"), metric=(choice("accuracy", "loss"), "accuracy")
)
def training_curves(result, metric: str) -> str:
    go = plotly()[0]
    fig = go.Figure()
    for i, described in enumerate(result.models.values()):
        epochs, colour = described.metrics["epochs"], PALETTE[i % len(PALETTE)]
        x = [e["epoch"] for e in epochs]
        seeds = described.metrics["seeds"]
        if seeds["runs"] > 1:  # the range over seeds, as a band behind the line
            low, high = ([band[metric][k] for band in seeds["epochs"]] for k in (0, 1))
            fig.add_scatter(
                x=x + x[::-1],
                y=high + low[::-1],
                fill="toself",
                fillcolor=colour,
                opacity=0.2,
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
            )
        y = [e[metric] for e in epochs]
        fig.add_scatter(
            x=x,
            y=y,
            mode="lines+markers",
            name=described.title,
            line=dict(color=colour),
            hovertext=[shown(v, metric) for v in y],  # as the prose and tables write it
            hovertemplate=f"{described.title}, epoch %{{x}}: %{{hovertext}}<extra></extra>",
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


@figure(
    "per-class-accuracy", widgets=("figures",), model=(model, None), metric=(choice("accuracy", "loss"), "accuracy")
)
def per_class_accuracy(result, model: str, metric: str) -> str:
    """Which class the network learns when: held-out accuracy (or loss) per class after every epoch."""
    go = plotly()[0]
    epochs = result.models[model].metrics["epochs"]
    if metric == "loss" and epochs[0]["per_class_loss"][0] is None:
        raise FigureError(f"per-class-accuracy: '{model}' has no per-class loss (its last layer is not a softmax)")
    values = [e[f"per_class_{metric}"] for e in epochs]
    accuracy = metric == "accuracy"
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=result.classes,
            y=[e["epoch"] for e in epochs],
            colorscale="Viridis",
            reversescale=not accuracy,
            zmin=0,
            zmax=1 if accuracy else None,
            colorbar=dict(tickformat=".0%" if accuracy else ".2f"),
            text=[[shown(v, metric) for v in row] for row in values],
            hovertemplate=f"epoch %{{y}}, {result.dataset.noun} %{{x}}: %{{text}}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis=dict(title=result.dataset.noun, type="category"),
        yaxis=dict(title="epoch", autorange="reversed"),
        height=420,
        margin=dict(l=60, r=20, t=20, b=50),
    )
    return plotly_html(fig)
