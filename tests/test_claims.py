"""Numbers with their uncertainty, and sentences the build checks against its own numbers."""

from pathlib import Path

import pytest

from conftest import ROOT, render_with, small_config
from layerwise.cache import Cache
from layerwise.config import validated
from layerwise.model.pipeline import run_pipeline
from layerwise.page.content import ContentError
from layerwise.stats import Proportion, mcnemar, percent_ci, spread, wilson_interval


def test_the_wilson_interval_is_the_textbook_one():
    # Newcombe (1998), Table I: 81 of 263 -> 0.2553 to 0.3662; 15 of 148 -> 0.0624 to 0.1605.
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)
    assert wilson_interval(0, 10)[0] == pytest.approx(0) and wilson_interval(10, 10)[1] == pytest.approx(1)
    assert percent_ci(Proportion(1974, 2000)) == "98.7% (98.1–99.1%)"
    with pytest.raises(TypeError, match="percent_ci takes an accuracy the build measured"):
        percent_ci(0.5)


def test_mcnemar_is_the_exact_binomial_test():
    # b = 2 discordant pairs one way, c = 8 the other: p = 2 * P(X <= 2 | n = 10, 1/2) = 2 * 56/1024.
    a = [True] * 2 + [False] * 8 + [True] * 20
    b = [False] * 2 + [True] * 8 + [True] * 20
    test = mcnemar(a, b)
    assert (test.b, test.c) == (2, 8)
    assert test.p_value == pytest.approx(2 * 56 / 1024)
    assert mcnemar(a, a).p_value == 1.0


def test_spread_is_mean_and_sample_deviation():
    result = spread([0.97, 0.98, 0.99])
    assert result["mean"] == pytest.approx(0.98) and result["std"] == pytest.approx(0.01)


@pytest.fixture
def claims(tmp_path, built):
    config, data = built
    config = {**config, "content": str(tmp_path / "content"), "out": str(tmp_path / "site")}
    (tmp_path / "content").mkdir()

    def render(text: str) -> str:
        (tmp_path / "content" / "index.md").write_text(text)
        render_with(config, render.data)
        return (Path(config["out"]) / "index.html").read_text()

    render.data, render.out = data, Path(config["out"])
    return render


def test_a_true_claim_renders_as_a_checked_mark(claims):
    html = claims("# Hi\n\nThe CNN beats the MLP {claim}`metrics.cnn.test_accuracy > metrics.mlp.test_accuracy`.\n")
    assert (  # a tab stop showing its expression (test_page_design: on focus)
        '<span class="claim" tabindex="0">✓<span class="tip" role="tooltip">Checked by the build: '
        "<code>metrics.cnn.test_accuracy &gt; metrics.mlp.test_accuracy</code></span></span>" in html
    )
    cnn = claims.data.models["cnn"].metrics["test_accuracy"]
    assert percent_ci(cnn) in claims("# Hi\n\n{{ metrics.cnn.test_accuracy | percent_ci }}\n")


def test_a_false_claim_fails_at_its_line_naming_both_sides_and_keeps_the_site(claims):
    claims("# A good page\n")
    before = (claims.out / "index.html").read_text()
    relu3, pixels = (claims.data.manifold["layers"][n]["intrinsic_dimension"] for n in ("relu3", "input"))
    with pytest.raises(ContentError) as error:
        claim = "manifold.relu3.intrinsic_dimension > manifold.input.intrinsic_dimension"
        claims(f"# Hi\n\nline\n\nIt grows {{claim}}`{claim}`.\n")
    assert (
        f"index.md:5: claim is false: manifold.relu3.intrinsic_dimension > manifold.input.intrinsic_dimension "
        f"(left = {relu3:.4g}, right = {pixels:.4g})" in str(error.value)
    )
    assert (claims.out / "index.html").read_text() == before
    with pytest.raises(ContentError, match="metrics.nope: this article has no model 'nope'"):
        claims("# Hi\n\nX {claim}`metrics.nope > 1`.\n")


def test_two_seeds_give_two_runs_with_different_weights_and_a_spread(tmp_path):
    config = small_config(tmp_path)
    config["models"] = {"mlp": config["models"]["mlp"]}
    config["record"] = {**config["record"], "model": "mlp", "sample_size": 50}
    config["analysis"] = {"layers": ["input"], "methods": ["pca"]}
    config["train"]["seeds"] = 2
    cache = Cache(config["cache"])
    result = run_pipeline(config, validated(config), cache)
    seeds = result.models["mlp"].metrics["seeds"]
    assert seeds["runs"] == 2 and len(seeds["test_accuracy"]["values"]) == 2
    assert seeds["test_accuracy"]["std"] > 0
    runs = [cache.load(p)[0] for p in sorted((Path(config["cache"]) / "train").glob("*.pickle"))]
    weights = [run["snapshots"][-1]["fc1.weight"] for run in runs]
    assert len(runs) == 2 and not (weights[0] == weights[1]).all()
    low, high = seeds["epochs"][-1]["accuracy"]
    assert low <= result.models["mlp"].metrics["epochs"][-1]["accuracy"] <= high


def test_one_rounding_for_every_percentage():
    """0.9855 is 1971 of 2000: 98.6% in prose, tables and figures alike, also as torch's float32
    mean (0.98549998), which '%.1f' and d3's '.1%' round down."""
    import numpy as np

    from layerwise.page.figures import formatter
    from layerwise.stats import percent

    for value, shown in [(0.9855, "98.6%"), (0.9515, "95.2%")]:
        as_float32 = float(np.float32(value))
        assert f"{as_float32:.1%}" != shown  # the disagreement this rounding removes
        assert percent(value) == percent(as_float32) == formatter(".0%")(as_float32) == shown
    assert percent(Proportion(1971, 2000)) == "98.6%" and percent_ci(Proportion(1971, 2000)).startswith("98.6% (")


def tied_confusion(n: int) -> list[list[int]]:
    """A confusion matrix whose commonest mistake is a three-way tie: 8->5, 5->3 and 4->9, 8 times each."""
    matrix = [[50 if t == s else 0 for s in range(n)] for t in range(n)]
    matrix[8][5] = matrix[5][3] = matrix[4][9] = 8
    matrix[2][7] = 3
    return matrix


def test_the_commonest_confusion_says_when_it_is_a_tie():
    from layerwise.page.content import prose_functions

    most_confused = prose_functions({"classes": [str(c) for c in range(10)]})["most_confused"]
    tie = most_confused({"confusion": tied_confusion(10)})
    assert tie["tied"] == [("4", "9"), ("5", "3"), ("8", "5")] and tie["count"] == 8
    assert tie["text"] == "a three-way tie, 8 times each: 4 taken for 9, 5 for 3 and 8 for 5"
    alone = tied_confusion(10)
    alone[5][3] = alone[4][9] = 1
    assert most_confused({"confusion": alone})["text"] == "8 taken for 5, 8 times"


def test_the_articles_sentence_on_a_tied_confusion_matrix(claims):
    """The MNIST article's own sentence, rendered over a built result whose matrix has a tie."""
    import dataclasses

    data = claims.data
    softmax = data.models["softmax"]
    tied = dataclasses.replace(softmax, metrics={**softmax.metrics, "confusion": tied_confusion(len(data.classes))})
    claims.data = dataclasses.replace(data, models={**data.models, "softmax": tied}, key="")
    article = (ROOT / "content" / "mnist.md").read_text().splitlines()
    sentence = next(line for line in article if "most_confused" in line)
    html = claims(f"# Hi\n\n{sentence.replace('({numref}`fig-confusion`)', '')}\n")
    assert "commonest confusion" in sentence
    assert "a three-way tie, 8 times each: 4 taken for 9, 5 for 3 and 8 for 5." in html


def test_the_glossary_speaks_of_each_articles_data(site_build):
    """One glossary, each article's noun: the Fashion article's epoch is a pass over garments."""
    config, _ = site_build
    pages = {name: (Path(config["out"]) / f"{name}.html").read_text() for name in ("mnist", "fashion")}
    assert "One pass over every training digit." in pages["mnist"]
    assert "One pass over every training garment." in pages["fashion"]
    assert "training digit" not in pages["fashion"]
