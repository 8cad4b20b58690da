"""The manifold question (Olah, "Visualizing MNIST"): does each layer untangle the classes?

For each layer's activations on a fixed sample of held-out examples (what one is at a layer:
representation.py): 2-D views under PCA, t-SNE
and UMAP (seeded), and numbers that make "manifold or blobs with tentacles" concrete:
- linear-probe accuracy: can a linear classifier separate the classes here? (5-fold CV; fewer
  folds where a class has fewer than five examples in the sample)
- k-nearest-neighbour accuracy: are a digit's neighbours of its own class? (the same folds, k=5)
- trustworthiness of each 2-D view: are neighbours in the view neighbours in the layer?
- intrinsic dimension (TwoNN, Facco et al. 2017): how many directions the data really uses.
"""

import functools
import sys
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE, trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .. import record, representation, workers


def two_nn_dimension(points: np.ndarray) -> float:
    """TwoNN maximum-likelihood estimate: d = N / sum(log(r2 / r1)) over each point's two
    nearest neighbours (duplicates, with r1 = 0, are left out)."""
    distances, _ = NearestNeighbors(n_neighbors=3).fit(points).kneighbors(points)
    r1, r2 = distances[:, 1], distances[:, 2]
    keep = r1 > 0
    logs = np.log(r2[keep] / r1[keep]).sum()
    return float(keep.sum() / logs) if logs > 0 else 0.0  # every point on another (a dead layer): none used


@functools.cache
def load_umap():
    """umap-learn, imported only when asked for (numba makes it slow to import), with its numba
    functions compiled once per Python environment instead of once per build: umap-learn does
    not ask numba to cache them, and compiling them took 11 of the MNIST article's 37 s of
    analysis. numba keeps the machine code beside umap's sources (or in the user's cache when
    those are read-only) and recompiles when they change."""
    import numba.core.dispatcher
    import umap

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("umap", "pynndescent"):
            for value in list(vars(module).values()):
                if isinstance(value, numba.core.dispatcher.Dispatcher):
                    value.enable_caching()
    return umap


def embed(points: np.ndarray, method: str, seed: int) -> np.ndarray:
    if not np.ptp(points, axis=0).any():  # every example at one point (a dead layer): t-SNE would crash
        return np.zeros((len(points), 2))
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(points)
    if method == "tsne":
        perplexity = min(30.0, (len(points) - 1) / 3)  # t-SNE needs fewer neighbours than points
        return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(points)
    if method == "umap":
        return load_umap().UMAP(n_components=2, random_state=seed, n_jobs=1).fit_transform(points)
    raise ValueError(f"unknown embedding '{method}'; use pca, tsne or umap")


def timed_embedding(points: np.ndarray, method: str, seed: int) -> tuple[np.ndarray, float]:
    """(a layer's 2-D view by one method, the seconds it took)."""
    start = time.perf_counter()
    view = embed(points, method, seed).astype(np.float32)  # (N, 2)
    return view, time.perf_counter() - start


# t-SNE and UMAP are single-threaded here: above this many points a layer's view is worth a
# worker process (the pool training started, still warm), so the views share the cores.
PARALLEL_POINTS = 200


def all_views(activations: dict[str, np.ndarray], methods: list[str], seed: int) -> dict:
    """{method: {layer: (its 2-D view, seconds)}}: PCA here (milliseconds), the slow methods'
    views one task a layer across the cores (the same views: each is seeded, one thread)."""
    tasks = [(m, layer) for m in methods for layer in activations]
    slow = [t for t in tasks if t[0] != "pca" and len(activations[t[1]]) >= PARALLEL_POINTS]
    done = {}
    if len(slow) > 1:
        from joblib import Parallel, delayed

        views = Parallel(n_jobs=workers.cores())(
            delayed(timed_embedding)(activations[layer], m, seed) for m, layer in slow
        )
        done = dict(zip(slow, views))
    for m, layer in tasks:
        if (m, layer) not in done:
            done[m, layer] = timed_embedding(activations[layer], m, seed)
    return {m: {layer: done[m, layer] for layer in activations} for m in methods}


def separability(points: np.ndarray, labels: np.ndarray) -> dict:
    """How well a layer separates the classes, and how many directions it really uses. Five folds,
    or as many as the rarest class has examples (a small image folder; planning checks for two)."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = min(5, int(np.unique(labels, return_counts=True)[1].min()))
    parallel = -1 if len(points) >= 200 and workers.cores() > 1 else None
    return {
        "width": points.shape[1],
        "folds": folds,
        # The probe's folds in parallel: its 4 s a layer were a third of the analysis (same numbers);
        # not for a few dozen points, which take less time than starting the worker processes.
        "linear_probe_accuracy": float(cross_val_score(probe, points, labels, cv=folds, n_jobs=parallel).mean()),
        "knn_accuracy": float(cross_val_score(KNeighborsClassifier(5), points, labels, cv=folds).mean()),
        "intrinsic_dimension": two_nn_dimension(points),
    }


def analyse_layers(activations: dict[str, np.ndarray], labels: np.ndarray, methods: list[str], seed: int = 0) -> dict:
    """Per layer: the 2-D views, their trustworthiness, probe and kNN accuracy, intrinsic dimension,
    and how long each method took."""
    activations = {layer: points.astype(np.float64) for layer, points in activations.items()}
    views = all_views(activations, methods, seed)
    result = {layer: separability(points, labels) for layer, points in activations.items()}
    for layer, points in activations.items():
        neighbours = min(10, (len(points) - 1) // 2)  # small samples (a tiny image folder) allow fewer
        shown = {m: views[m][layer][0] for m in methods}
        result[layer] |= {
            "views": shown,
            "trustworthiness": {m: float(trustworthiness(points, v, n_neighbors=neighbours)) for m, v in shown.items()},
            "seconds": {m: views[m][layer][1] for m in methods},
        }
    return result


def analyse_sample(network, dataset, record_settings: dict, layers: list[str], methods: list[str]) -> dict:
    """The manifold question on the Grand Tour's sample, at the trained model's layers."""
    picked = record.sample_indices(dataset.test_y, record_settings["sample_size"], record_settings["seed"])
    kind, examples = representation.of(dataset.source), dataset.test_x[picked]
    outputs = kind.vectors(network, examples, dataset.source)
    chosen = {name: outputs[name] for name in layers}
    result = analyse_layers(chosen, dataset.test_y[picked].numpy(), methods)
    predictions = outputs[list(outputs)[-1]].argmax(1)
    labels = dataset.test_y[picked].tolist()
    # A text's hover says the text (an image's shows its thumbnail, from the tour's sample).
    texts = kind.preview(examples, dataset.source).get("texts")
    return {"layers": result, "labels": labels, "predictions": predictions.tolist(), "texts": texts}
