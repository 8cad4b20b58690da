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
