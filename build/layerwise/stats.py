"""Numbers with their uncertainty: Wilson intervals for accuracies, McNemar's test for two models
on the same held-out examples, and the spread over seeds. No torch, so the pages can use them.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (Wilson 1927; Agresti & Coull 1998)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


class Proportion(float):
    """An accuracy that knows what it was measured on: it is the float everywhere, and
    `.interval` is its 95% Wilson interval over `.n` examples."""

    def __new__(cls, successes: int, n: int):
        value = super().__new__(cls, successes / n if n else 0.0)
        value.successes, value.n = int(successes), int(n)
        return value

    def __reduce__(self):
        return (Proportion, (self.successes, self.n))

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.successes, self.n)


class Estimate(float):
    """A mean that knows its uncertainty: the float everywhere, `.interval` its 95% interval (e.g.
    bits per character, bootstrapped over held-out documents)."""

    def __new__(cls, value: float, low: float, high: float):
        estimate = super().__new__(cls, value)
        estimate.interval = (float(low), float(high))
        return estimate

    def __reduce__(self):
        return (Estimate, (float(self), *self.interval))


@dataclass
class McNemar:
    """Two models on the same examples: b = only the first is right, c = only the second is."""

    b: int
    c: int
    p_value: float  # exact two-sided binomial test of b against b + c, p = 1/2


def mcnemar(correct_a, correct_b) -> McNemar:
    """McNemar's exact test on paired right/wrong answers (sequences of booleans)."""
    b = sum(1 for x, y in zip(correct_a, correct_b) if x and not y)
    c = sum(1 for x, y in zip(correct_a, correct_b) if y and not x)
    n, k = b + c, min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n if n else 1.0
    return McNemar(b, c, min(1.0, 2 * tail))


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation, minimum and maximum of a few runs."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return {"values": list(values), "mean": mean, "std": std, "min": min(values), "max": max(values)}


# --- how the pages write numbers (also the prose filters) ---------------------------------------


def percent_number(value, digits=1) -> str:
    """The one rounding of a share for every place the site writes it (prose, tables, figures'
    text): half up from the decimal it stands for. An accuracy is a count over a count, and
    torch's float32 mean writes 1971/2000 as 0.98549998: rounded to 1e-6 first, it is 98.55,
    so 98.6, as the exact count gives (Python's '%.1f' of 100 * x and d3's '.1%' disagree on it)."""
    if isinstance(value, Proportion) and value.n:
        share = Decimal(value.successes) / Decimal(value.n)
    else:
        share = Decimal(str(round(float(value), 6)))
    return str((100 * share).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def percent(value, digits=1):
    return f"{percent_number(value, digits)}%"


def percent_ci(value, digits=1):
    """An accuracy with its 95% Wilson interval: '98.7% (98.1–99.1%)'."""
    if not isinstance(value, Proportion):
        raise TypeError("percent_ci takes an accuracy the build measured, e.g. metrics.cnn.test_accuracy")
    low, high = (percent_number(bound, digits) for bound in value.interval)
    return f"{percent_number(value, digits)}% ({low}–{high}%)"


def number(value, digits=0):
    return f"{value:,.{digits}f}"
