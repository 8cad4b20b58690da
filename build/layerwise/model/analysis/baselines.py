"""Honest numbers for one-vs-rest neurons: accuracy next to what guessing "not this class" gets."""

import numpy as np


def one_vs_rest_report(scores: np.ndarray, labels: np.ndarray, positive: int, threshold: float = 0.5) -> dict:
    """A neuron that says "this is class `positive`" when its score >= threshold, judged on `labels`."""
    truth = labels == positive
    said = scores >= threshold
    positives, negatives = truth.sum(), (~truth).sum()
    true_positive_rate = (said & truth).sum() / max(positives, 1)
    true_negative_rate = (~said & ~truth).sum() / max(negatives, 1)
    return {
        "class": positive,
        "accuracy": float((said == truth).mean()),
        # Always answering "not this class" is right for every other class: ~90% for free with ten.
        "majority_baseline": float(max(positives, negatives) / len(labels)),
        "balanced_accuracy": float((true_positive_rate + true_negative_rate) / 2),
        "true_positive_rate": float(true_positive_rate),
        "true_negative_rate": float(true_negative_rate),
    }


def confusion_matrix(predictions: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows: the true class; columns: what the model said."""
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


# --- text: bits per character, and the character bigram a model must beat ---------------------

LN2 = float(np.log(2))


def bits_per_token(nats, groups, resamples: int = 1000, seed: int = 0):
    """The mean of per-position losses `nats` (N,) in bits, with a 95% interval from resampling
    whole `groups` (the held-out documents each position is in): positions of one document are
    not independent, documents are."""
    from ...stats import Estimate

    nats, groups = np.asarray(nats, dtype=np.float64), np.unique(np.asarray(groups), return_inverse=True)[1]
    sums, counts = np.bincount(groups, weights=nats), np.bincount(groups).astype(np.float64)  # per document
    picks = np.random.default_rng(seed).integers(0, len(sums), (resamples, len(sums)))  # (B, D)
    means = sums[picks].sum(1) / counts[picks].sum(1) / LN2  # (B,)
    low, high = np.percentile(means, [2.5, 97.5])
    return Estimate(sums.sum() / counts.sum() / LN2, low, high)


def bigram_nats(train_x, train_y, test_x, test_y, vocabulary: int) -> np.ndarray:
    """-ln p(next | this) at every held-out position (N*T,) under the character bigram counted on
    the training split, add-one smoothed: what a model that looks one character back knows."""
    pairs = np.asarray(train_x).reshape(-1) * vocabulary + np.asarray(train_y).reshape(-1)
    counts = np.bincount(pairs, minlength=vocabulary * vocabulary).reshape(vocabulary, vocabulary) + 1.0  # (V, V)
    log_p = np.log(counts) - np.log(counts.sum(1, keepdims=True))  # (V, V): row = this token
    return -log_p[np.asarray(test_x).reshape(-1), np.asarray(test_y).reshape(-1)]  # (N*T,)
