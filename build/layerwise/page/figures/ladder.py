"""The ladder of models: accuracy with its 95% interval and its spread over seeds, parameters,
training time; as a table and as a chart with error bars."""

import html
import math

from ...stats import percent, percent_ci
from . import figure, plotly, plotly_html


def training_time(metrics: dict) -> str:
    return f"{metrics['train_seconds']:.1f} s" if metrics["trained_here"] else "trained elsewhere"


def over_seeds(metrics: dict) -> str:
    seeds = metrics["seeds"]
    if seeds["runs"] < 2:
        return "one run"
    accuracy = seeds["test_accuracy"]
    return f"{percent(accuracy['mean'])} ± {percent(accuracy['std'])} ({seeds['runs']} seeds)"


@figure("ladder-table", kinds=("image", "text"))
def ladder_table(result) -> str:
    rows = "".join(
        f'<tr><th scope="row">{html.escape(m["title"])}</th><td>{percent_ci(m["test_accuracy"])}</td>'
        f"<td>{over_seeds(m)}</td><td>{m['parameters']:,}</td><td>{training_time(m)}</td></tr>"
        for m in (described.metrics for described in result.models.values())
    )
    n_test = next(iter(result.models.values())).metrics["n_test"]
    return (
        '<div class="table-scroll" tabindex="0" role="region" aria-label="The ladder of models">'
        '<table class="ladder"><thead><tr><th scope="col">model</th>'
        f'<th scope="col">held-out accuracy (95% interval, {n_test:,} {html.escape(result.dataset.noun)}s)</th>'
        '<th scope="col">over seeds (mean ± sd)</th><th scope="col">parameters</th>'
        f'<th scope="col">training time</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def round_ticks(low: float, high: float) -> list[int]:
    """1, 2, 5, 10, 20, ... from the one at or below `low` to the one at or above `high`."""
    series = [k * 10**e for e in range(int(math.log10(low)) - 1, int(math.log10(high)) + 2) for k in (1, 2, 5)]
    first = max(v for v in series if v <= low)
    last = min(v for v in series if v >= high)
    return [v for v in series if first <= v <= last]


def short(count: int) -> str:
    """5000 -> '5k', 2000000 -> '2M'."""
    for size, suffix in ((10**6, "M"), (10**3, "k")):
        if count >= size:
            return f"{count / size:g}{suffix}"
    return str(count)


@figure("ladder-chart", widgets=("figures",), kinds=("image", "text"))
def ladder_chart(result) -> str:
    """Accuracy against size, one bubble per model (its area: training time)."""
    go = plotly()[0]
    metrics = [described.metrics for described in result.models.values()]

    largest = max(m["parameters"] for m in metrics)

    def label_side(m) -> str:
        """Beside its bubble, clear of its interval's whisker (above it, the whisker crossed the
        label), away from a model of about its size (one neuron per class and softmax regression
        have the same 7,850 weights: the worse one's label to the left), and the largest model's
        to the left, inside the chart."""
        similar = [o for o in metrics if o is not m and 0.8 < o["parameters"] / m["parameters"] < 1.25]
        if similar:
            return "middle left" if any(o["test_accuracy"] > m["test_accuracy"] for o in similar) else "middle right"
        return "middle left" if m["parameters"] == largest else "middle right"

    fig = go.Figure(
        go.Scatter(
            x=[m["parameters"] for m in metrics],
            y=[m["test_accuracy"] for m in metrics],
            error_y=dict(
                type="data",
                symmetric=False,
                array=[m["test_accuracy"].interval[1] - m["test_accuracy"] for m in metrics],
                arrayminus=[m["test_accuracy"] - m["test_accuracy"].interval[0] for m in metrics],
            ),
            text=[name.replace("_", " ") for name in result.models],  # short names on the chart; the title in the hover
            hovertext=[m["title"] for m in metrics],
            mode="markers+text",
            textposition=[label_side(m) for m in metrics],
            cliponaxis=False,
            # Outlined and see-through: bubbles of models of one size overlap, and both show.
            marker=dict(
                size=[12 + 4 * m["train_seconds"] ** 0.5 for m in metrics],
                color="rgba(26, 95, 180, 0.45)",
                line=dict(width=1.5, color="#1a5fb4"),
            ),
            # Numbers as the table and the prose write them (d3's '.1%' rounds 0.9855 down).
            customdata=[[percent(m["test_accuracy"]), f"{m['train_seconds']:.1f}"] for m in metrics],
            hovertemplate=(
                "%{hovertext}<br>%{x:,} parameters<br>%{customdata[0]} held out<br>%{customdata[1]} s to train"
                "<extra></extra>"
            ),
        )
    )
    fewest, most = min(m["parameters"] for m in metrics), max(m["parameters"] for m in metrics)
    ticks = round_ticks(fewest, most)
    fig.update_layout(
        # Round numbers of parameters, 1-2-5 (powers of ten alone left one tick on this range: 10k);
        # room on the left for a label beside the smallest model's bubble.
        xaxis=dict(
            type="log",
            title="parameters",
            tickvals=ticks,
            ticktext=[short(v) for v in ticks],
            range=[math.log10(fewest / 2), math.log10(most * 1.3)],
        ),
        yaxis=dict(title="held-out accuracy", tickformat=".0%"),
        height=340,
        margin=dict(l=60, r=20, t=20, b=50),
    )
    return plotly_html(fig)
