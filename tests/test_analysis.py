"""The article's honest numbers: baselines and the manifold metrics, checked against direct
computations on inputs whose answers are known."""

import numpy as np
import pytest
from playwright.sync_api import expect
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from layerwise.model.analysis.baselines import confusion_matrix, one_vs_rest_report
from layerwise.model.analysis.manifold import analyse_layers, separability, two_nn_dimension


def test_one_vs_rest_numbers_on_a_known_case():
    labels = np.array([5, 5, 1, 2, 3, 4, 6, 7, 8, 9])  # two 5s in ten digits
    scores = np.array([0.9, 0.2, 0.1, 0.1, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1])  # finds one 5, accepts a 3
    report = one_vs_rest_report(scores, labels, positive=5)
    assert report["accuracy"] == pytest.approx(0.8)
    assert report["majority_baseline"] == pytest.approx(0.8)  # "never a 5" is as good
    assert report["true_positive_rate"] == pytest.approx(0.5)
    assert report["true_negative_rate"] == pytest.approx(7 / 8)
    assert report["balanced_accuracy"] == pytest.approx((0.5 + 7 / 8) / 2)
    never = one_vs_rest_report(np.zeros(10), labels, positive=5)
    assert never["accuracy"] == never["majority_baseline"] and never["balanced_accuracy"] == 0.5


def test_confusion_matrix_counts():
    matrix = confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_two_nn_finds_the_dimension_of_a_flat_sheet_in_ten_dimensions():
    rng = np.random.default_rng(0)
    sheet = rng.uniform(size=(2000, 2)) @ rng.normal(size=(2, 10))
    assert two_nn_dimension(sheet) == pytest.approx(2, abs=0.3)
    cube = rng.uniform(size=(2000, 6))
    assert two_nn_dimension(cube) == pytest.approx(6, abs=1)


def test_manifold_metrics_match_a_direct_recomputation():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 50)
    points = rng.normal(size=(200, 8)) + labels[:, None] * 1.5  # four overlapping blobs
    result = analyse_layers({"layer": points}, labels, ["pca", "tsne"])["layer"]
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    assert result["linear_probe_accuracy"] == pytest.approx(cross_val_score(probe, points, labels, cv=5).mean())
    assert result["knn_accuracy"] == pytest.approx(
        cross_val_score(KNeighborsClassifier(5), points, labels, cv=5).mean()
    )
    for method, view in result["views"].items():
        assert view.shape == (200, 2)
        assert result["trustworthiness"][method] == pytest.approx(
            trustworthiness(points, view, n_neighbors=10), abs=1e-6
        )
    assert set(result["seconds"]) == {"pca", "tsne"}


def test_a_small_sample_gets_as_many_folds_as_its_rarest_class_has_examples():
    rng = np.random.default_rng(2)
    labels = np.array([0] * 6 + [1] * 3 + [2] * 5)  # a small image folder's held-out examples
    points = rng.normal(size=(14, 5)) + labels[:, None]
    result = separability(points, labels)
    assert result["folds"] == 3
    knn = cross_val_score(KNeighborsClassifier(5), points, labels, cv=3).mean()
    assert result["knn_accuracy"] == pytest.approx(knn)
    dead = analyse_layers({"relu": np.zeros((14, 5))}, labels, ["pca", "tsne"])["relu"]  # t-SNE crashed on it
    assert dead["intrinsic_dimension"] == 0.0  # not NaN, which JSON cannot carry
    assert not dead["views"]["tsne"].any() and not dead["views"]["pca"].any()  # one point, as in the layer


@pytest.mark.browser
def test_the_neuron_widget_agrees_with_python_at_any_threshold(page, server, built):
    _, data = built
    page.goto(server + "/mnist.html")
    widget = page.locator(".one-neuron")
    widget.scroll_into_view_if_needed()
    expect(widget.locator("table")).to_contain_text("balanced accuracy")
    python = data.models["one_neuron"].metrics["per_class"][5]
    assert float(widget.get_attribute("data-accuracy")) == pytest.approx(python["accuracy"], abs=1e-3)
    in_page = page.evaluate("""async () => {
        const { report } = await import('./assets/neuron.js');
        const data = await (await fetch('mnist/ladder/one_neuron.json')).json();
        return report(data.scores[3], data.labels, 3, 0.3);
    }""")
    import json

    stored = json.loads(data.files["ladder/one_neuron.json"])
    expected = one_vs_rest_report(np.asarray(stored["scores"][3]), np.asarray(stored["labels"]), 3, 0.3)
    assert in_page["balanced"] == pytest.approx(expected["balanced_accuracy"])
    assert in_page["majority"] == pytest.approx(expected["majority_baseline"])
    widget.get_by_role("radio", name="3").click()
    widget.get_by_role("slider", name="Decision threshold").fill("0.3")
    assert float(widget.get_attribute("data-accuracy")) == pytest.approx(expected["accuracy"], abs=1e-4)
    widget.get_by_role("radio", name="3").press("ArrowRight")  # a radio group's keys
    expect(widget.get_by_role("radio", name="4")).to_have_attribute("aria-checked", "true")
    expect(widget.get_by_role("radio", name="4")).to_be_focused()
    assert page.console_errors == []


@pytest.mark.browser
def test_every_figure_renders_without_errors(page, server):
    page.goto(server + "/mnist.html")
    for figure in page.locator(".plotly-figure").all():
        figure.scroll_into_view_if_needed()
        expect(figure.locator(".main-svg").first).to_be_attached()
    manifold = page.locator(".figure-manifold-views")
    before = manifold.locator(".plotly-figure").screenshot()
    relu3 = manifold.get_by_role("button", name="relu3")
    relu3.focus()  # the layer buttons are HTML buttons: reachable by keyboard
    relu3.press("Enter")
    expect(relu3).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(300)
    assert manifold.locator(".plotly-figure").screenshot() != before
    assert page.console_errors == [] and page.foreign_requests == []
