"""The manifold question: each layer under PCA, t-SNE and UMAP, and the numbers per layer."""

from ...contract import class_colours
from ...stats import percent
from . import analysed_layer, colours_of, figure, plotly, plotly_html

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


@figure("manifold-views", widgets=("figures",), kinds=("image", "text"), layer=(analysed_layer, None))
def manifold_views(result, layer: str) -> str:
    """One row of 2-D views (one per method) of a layer; buttons switch the layer."""
    go, make_subplots = plotly()
    analysis = result.manifold
    layers = list(analysis["layers"])
    methods = list(analysis["layers"][layer]["views"])
    labels, predictions, classes = analysis["labels"], analysis["predictions"], result.classes
    hover = [f"label {classes[label]}, predicted {classes[said]}" for label, said in zip(labels, predictions)]
    hover = [f"“{text}”: {said}" for text, said in zip(analysis["texts"], hover)] if analysis.get("texts") else hover
    fig = make_subplots(
        rows=1, cols=len(methods), horizontal_spacing=0.04, subplot_titles=[METHOD_NAMES.get(m, m) for m in methods]
    )
    for col, method in enumerate(methods, start=1):
        view = analysis["layers"][layer]["views"][method]
        fig.add_trace(
            go.Scatter(
                x=view[:, 0],
                y=view[:, 1],
                mode="markers",
                text=hover,
                customdata=list(range(len(labels))),
                hovertemplate="%{text}<extra></extra>",
                marker=dict(size=4, color=colours_of(labels, len(classes))),
                showlegend=False,
            ),
            row=1,
            col=col,
        )

    # The class colours as a legend (the points carry them in one trace per view).
    for name, colour in zip(classes, class_colours(len(classes))):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, marker=dict(color=colour)), 1, 1)

    def views_of(name):
        return {
            "x": [analysis["layers"][name]["views"][m][:, 0] for m in methods],
            "y": [analysis["layers"][name]["views"][m][:, 1] for m in methods],
        }

    views = list(range(len(methods)))  # the buttons move the views' traces, not the legend's
    buttons = [dict(label=name, method="restyle", args=[views_of(name), views]) for name in layers]
    fig.update_layout(
        updatemenus=[
            dict(
                type="buttons",
                direction="right",
                buttons=buttons,
                active=layers.index(layer),
                x=0,
                y=1.18,
                xanchor="left",
                showactive=True,
            )
        ],
        height=380,
        margin=dict(l=10, r=10, t=30, b=10),  # the layer buttons: HTML, above it (figures.js)
        legend=dict(orientation="h", y=-0.02, yanchor="top", itemclick=False, itemdoubleclick=False),
    )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return plotly_html(fig, thumbnails=result.tour["model"])


@figure("manifold-metrics", widgets=("figures",), kinds=("image", "text"))
def manifold_metrics(result) -> str:
    """Per layer: probe and kNN accuracy, trustworthiness of each view, intrinsic dimension."""
    make_subplots = plotly()[1]
    layers = result.manifold["layers"]
    names = list(layers)
    fig = make_subplots(specs=[[{"secondary_y": True}]])

    def share(y: list, name: str, **style):  # hovered as the prose writes it (d3's '.1%' rounds otherwise)
        template = f"{name}, %{{x}}: %{{hovertext}}<extra></extra>"
        fig.add_scatter(x=names, y=y, name=name, hovertext=[percent(v) for v in y], hovertemplate=template, **style)

    share([layers[n]["linear_probe_accuracy"] for n in names], "linear probe accuracy")
    share([layers[n]["knn_accuracy"] for n in names], "5-NN accuracy")
    for method in next(iter(layers.values()))["trustworthiness"]:
        trustworthiness = [layers[n]["trustworthiness"][method] for n in names]
        share(trustworthiness, f"{METHOD_NAMES.get(method, method)} trustworthiness", line=dict(dash="dot"))
    fig.add_scatter(
        x=names,
        y=[layers[n]["intrinsic_dimension"] for n in names],
        name="intrinsic dimension (TwoNN)",
        line=dict(color="#555", dash="dash"),
        secondary_y=True,
    )
    fig.update_layout(
        height=380,
        margin=dict(l=60, r=60, t=20, b=40),
        legend=dict(orientation="h", y=-0.2),
        yaxis=dict(title="accuracy / trustworthiness", tickformat=".0%"),
    )
    # Its own round ticks (not the accuracy axis's grid lines carried over: 2.78, 4.68, ...).
    fig.update_yaxes(
        title_text="intrinsic dimension", secondary_y=True, tickmode="auto", nticks=6, tickformat="~f", showgrid=False
    )
    return plotly_html(fig)
