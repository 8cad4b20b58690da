"""The ladder of models: accuracy with its 95% interval and its spread over seeds, parameters,
training time; as a table and as a chart with error bars."""

import html

from ..stats import percent, percent_ci
from . import figure, plotly, plotly_html


def training_time(metrics: dict) -> str:
    return f"{metrics['train_seconds']:.1f} s" if metrics["trained_here"] else "trained elsewhere"


def over_seeds(metrics: dict) -> str:
    seeds = metrics["seeds"]
    if seeds["runs"] < 2:
        return "one run"
    accuracy = seeds["test_accuracy"]
    return f"{percent(accuracy['mean'])} ± {percent(accuracy['std'])} ({seeds['runs']} seeds)"


@figure("ladder-table")
def ladder_table(result) -> str:
    rows = "".join(
        f'<tr><th scope="row">{html.escape(m["title"])}</th><td>{percent_ci(m["test_accuracy"])}</td>'
        f"<td>{over_seeds(m)}</td><td>{m['parameters']:,}</td><td>{training_time(m)}</td></tr>"
        for m in (described.metrics for described in result.models.values())
    )
    n_test = next(iter(result.models.values())).metrics["n_test"]
    return (
        '<div class="table-scroll"><table class="ladder"><thead><tr><th scope="col">model</th>'
        f'<th scope="col">held-out accuracy (95% interval, {n_test:,} {html.escape(result.dataset.noun)}s)</th>'
        '<th scope="col">over seeds (mean ± sd)</th><th scope="col">parameters</th>'
        f'<th scope="col">training time</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


@figure("ladder-chart", widgets=("figures",))
def ladder_chart(result) -> str:
    """Accuracy against size, one bubble per model (its area: training time)."""
    go = plotly()[0]
    metrics = [described.metrics for described in result.models.values()]

    def below(m) -> bool:  # a label under its bubble where a better model of about its size is above
        similar = [o for o in metrics if 0.8 < o["parameters"] / m["parameters"] < 1.25]
        return any(o["test_accuracy"] > m["test_accuracy"] for o in similar)

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
            text=list(result.models),  # short names on the chart; the title in the hover
            hovertext=[m["title"] for m in metrics],
            mode="markers+text",
            textposition=["bottom center" if below(m) else "top center" for m in metrics],
            cliponaxis=False,
            marker=dict(size=[12 + 4 * m["train_seconds"] ** 0.5 for m in metrics], color="#1a5fb4", opacity=0.7),
            # Numbers as the table and the prose write them (d3's '.1%' rounds 0.9855 down).
            customdata=[[percent(m["test_accuracy"]), f"{m['train_seconds']:.1f}"] for m in metrics],
            hovertemplate=(
                "%{hovertext}<br>%{x:,} parameters<br>%{customdata[0]} held out<br>%{customdata[1]} s to train"
                "<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        # Round numbers of parameters only (a log axis otherwise labels 7, 8, 9, 10k, 2, 3, ...).
        xaxis=dict(type="log", title="parameters", dtick=1, tickformat="~s", minor=dict(ticks="", showgrid=True)),
        yaxis=dict(title="held-out accuracy", tickformat=".0%"),
        height=340,
        margin=dict(l=60, r=20, t=20, b=50),
    )
    return plotly_html(fig)
