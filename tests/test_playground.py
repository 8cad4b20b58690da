"""The playground (#23): the exported training step against PyTorch, in Python's onnxruntime and
in the page's onnxruntime-web; the page's datasets against Python's; the widget training, its
link, and a directive's bad option. The graphs are the session build's (content/playground.md)."""

import json
import re
import time
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from playwright.sync_api import expect

from layerwise.errors import ContentError
from layerwise.model import playground as pg
from layerwise.page.figures import FIGURES, FigureError
from layerwise.page.figures.playground import setup_of
from layerwise.tools.bench import axe_violations

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "content" / "playground.md"  # its figure fig-own reads content/moons.csv

# Three networks: the default; masked layers (3 of 8 on, fewer neurons, extra features) with L2
# and ReLU; and no hidden layer at all, with L1 on a regression.
SETUPS = [
    pg.Setup(),
    pg.Setup(
        data="spiral", features=("x1", "x2", "x1sq", "sinx1"), layers=(8, 8, 5), activation="relu",
        regularization="l2", rate=0.01, batch=7,
    ),
    pg.Setup(
        data="multigauss", noise=0.1, layers=(), features=("x1", "x2", "x1x2"), regularization="l1", rate=0.003,
        batch=32, learning_rate=0.01,
    ),
]  # fmt: skip
STEPS = 100


def page_setup(setup: pg.Setup) -> dict:
    """A Setup as templates/playground-state.js holds it."""
    return {
        "data": setup.data, "noise": round(setup.noise * 100), "ratio": round(setup.ratio * 100),
        "features": list(setup.features), "layers": list(setup.layers), "activation": setup.activation,
        "learningRate": setup.learning_rate, "batch": setup.batch, "regularization": setup.regularization,
        "rate": setup.rate, "seed": setup.seed,
    }  # fmt: skip


def torch_run(setup: pg.Setup) -> np.ndarray:
    """STEPS steps of PyTorch from the setup's initial weights, over its epochs' batches."""
    batches = pg.epoch_batches(setup.dataset()[0], setup.batch)
    arch = [torch.from_numpy(v) for v in pg.masks(setup).values()]
    params = torch.from_numpy(pg.initial(setup))
    for i in range(STEPS):
        params = pg.step(params, *arch, *(torch.from_numpy(v) for v in pg.padded(batches[i % len(batches)]).values()))[
            0
        ]
    return params.numpy()


@pytest.fixture(scope="module")
def reference():
    return [torch_run(setup) for setup in SETUPS]


@pytest.fixture(scope="module")
def graphs(site_build):
    """{"step": path, "network": path} of the built playground's graphs."""
    out = Path(site_build[0]["out"])
    page = (out / "playground.html").read_text()
    return {name: out / path for name, path in re.findall(r'data-graph-(\w+)="([^"]+)"', page)}


def test_exported_step_matches_pytorch(graphs, reference):
    session = onnxruntime.InferenceSession(graphs["step"])
    for setup, expected in zip(SETUPS, reference):
        batches = pg.epoch_batches(setup.dataset()[0], setup.batch)
        params, arch = pg.initial(setup), pg.masks(setup)
        for i in range(STEPS):
            params, loss = session.run(None, {"params": params, **arch, **pg.padded(batches[i % len(batches)])})
        assert np.abs(params - expected).max() <= 1e-5, setup
        assert np.isfinite(loss)
    # A removed neuron's weights stay zero: the mask holds through training.
    assert not params[pg.masks(SETUPS[-1])["mask"] == 0].any()


def test_builds_runs_are_the_steps(reference):
    """The build's own runs (quick_step: autograd through the layers that are on) take the same
    steps as the exported function."""
    for setup, expected in zip(SETUPS, reference):
        batches = pg.epoch_batches(setup.dataset()[0], setup.batch)
        arch = [torch.from_numpy(v) for v in pg.masks(setup).values()]
        params = torch.from_numpy(pg.initial(setup))
        for i in range(STEPS):
            batch = (torch.from_numpy(v) for v in pg.padded(batches[i % len(batches)]).values())
            params = pg.quick_step(params, *arch, *batch, len(setup.layers))[0]
        assert np.abs(params.numpy() - expected).max() <= 1e-6, setup


def test_network_graph_draws_every_neuron(graphs):
    session = onnxruntime.InferenceSession(graphs["network"])
    setup = SETUPS[1]
    params, arch = pg.initial(setup), pg.masks(setup)
    points = np.random.default_rng(0).uniform(-6, 6, (37, 2)).astype(np.float32)
    features, hidden, output, pre = session.run(None, {"params": params, **arch, "x": points})
    expected = pg.network(*(torch.from_numpy(v) for v in (params, *arch.values(), points)))
    for got, want in zip((features, hidden, output, pre), expected, strict=True):
        assert np.abs(got - want.numpy()).max() <= 1e-5
    assert hidden.shape == pre.shape == (37, pg.LAYERS, pg.WIDTH)
    assert np.allclose(hidden[:, 3], hidden[:, 2])  # a layer that is off passes its input on
    assert np.allclose(hidden[:, :3], np.maximum(pre[:, :3], 0))  # a layer on: its activation (ReLU) of its input


def open_playground(page, url, figure="fig-spiral"):
    """The article's playground `figure`, once it is ready to train."""
    page.goto(url)
    root = page.locator(f"#{figure} .playground")
    root.scroll_into_view_if_needed()
    for _ in range(240):
        if root.get_attribute("data-ready") == "1":
            return root
        page.wait_for_timeout(250)
    raise AssertionError(f"the playground never got ready: {page.console_errors}")


def test_page_makes_pythons_points(page, server):
    page.goto(f"{server}/playground.html")
    for setup in [pg.Setup(data=d, noise=0.25, seed=7) for d in (*pg.CLASSIFY, *pg.REGRESS)]:
        page_points = page.evaluate(
            """async (setup) => {
                const state = await import("./assets/playground-state.js");
                const model = JSON.parse(document.querySelector(".playground").dataset.model);
                const { train, test } = state.dataset(model, setup);
                return [train, test];
            }""",
            page_setup(setup),
        )
        for got, want in zip(page_points, setup.dataset()):
            assert np.abs(np.array(got) - want).max() < 1e-12, setup.data
    # An author's CSV: the page splits the points Python read (handed over in the figure's data),
    # as Python does, and names the two labels under the answer.
    own = setup_of({"data": "moons.csv", "ratio": 30, "seed": 5}, ARTICLE)
    page_points = page.evaluate(
        """async (setup) => {
            const state = await import("./assets/playground-state.js");
            const root = document.querySelector("#fig-own .playground");
            const model = { ...JSON.parse(root.dataset.model), own: JSON.parse(root.dataset.points) };
            const { train, test } = state.dataset(model, setup);
            return [train, test, state.problemOf(model, setup.data)];
        }""",
        page_setup(own),
    )
    assert len(page_points[0]) == 60 and page_points[2] == "classification"
    for got, want in zip(page_points, own.dataset()):
        assert np.abs(np.array(got) - want).max() < 1e-12
    expect(page.locator("#fig-own .playground-labels")).to_have_text("labels: lower upper")


def test_page_step_matches_pytorch(page, server, reference):
    """100 steps of the page's onnxruntime-web, from the weights and batches the page makes of the
    setup (playground-state.js), against PyTorch's from Python's: within 1e-5 per parameter."""
    open_playground(page, f"{server}/playground.html")
    for setup, expected in zip(SETUPS, reference):
        params = page.evaluate(
            """async ([setup, steps]) => {
                const state = await import("./assets/playground-state.js");
                const shown = document.querySelector("#fig-spiral .playground");
                const index = [...document.querySelectorAll(".playground")].indexOf(shown);
                const { model, trainer } = await window.layerwise.playground[index];
                const arch = state.masks(model, setup), { train } = state.dataset(model, setup);
                let params = state.initial(model, setup, arch.mask);
                const batches = [];
                for (let start = 0; start < train.length; start += setup.batch)
                    batches.push(train.slice(start, start + setup.batch));
                for (let i = 0; i < steps; i++)
                    params = (await trainer.step(params, arch, batches[i % batches.length])).params;
                return Array.from(params);
            }""",
            [page_setup(setup), STEPS],
        )
        assert np.abs(np.array(params) - expected).max() <= 1e-5, setup
    assert page.console_errors == []


def tab_stops_top_down(root) -> bool:
    """Whether Tab (the markup's order) goes through the playground's controls top to bottom, as seen."""
    tops = root.evaluate("""(root) => [...root.querySelectorAll(':is(button, input, select, [tabindex="0"])')]
        .filter((e) => e.getClientRects().length).map((e) => Math.round(e.getBoundingClientRect().top))""")
    return len(tops) > 10 and tops == sorted(tops)


def test_playground_trains_and_keeps_its_setup_in_the_link(page, server):
    root = open_playground(page, f"{server}/playground.html")
    assert tab_stops_top_down(root)
    before = float(root.get_attribute("data-loss"))
    root.get_by_role("button", name="Play").click()
    for _ in range(240):
        if int(root.get_attribute("data-epoch")) >= 2:
            break
        time.sleep(0.25)
    root.get_by_role("button", name="Pause").click()
    assert float(root.get_attribute("data-loss")) < before
    # The reader keeps the trained network: its setup and parameters, each tensor named as the
    # build lays them out, and as an ONNX file whose answer is the page's own decision map.
    with page.expect_download() as download:
        root.get_by_role("button", name="Download JSON").click()
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["setup"]["layers"] == [8, 8] and saved["epoch"] >= 2
    assert saved["output_activation"] == "tanh"  # two labels: the hidden layers' activation is in the setup
    assert len(saved["params"]) == pg.PARAMETERS and saved["layout"] == pg.layout()
    shapes = {name: tensor["shape"] for name, tensor in saved["tensors"].items()}
    assert shapes == {"layer1.weight": [2, 8], "layer1.bias": [8], "layer2.weight": [8, 8], "layer2.bias": [8],
                      "output.weight": [8, 1], "output.bias": [1]}  # fmt: skip
    first = pg.layout()["tensors"]["layer2.weight"]["offset"]
    assert saved["tensors"]["layer2.weight"]["values"][1][2] == saved["params"][first + 1 * pg.WIDTH + 2]
    with page.expect_download() as download:
        root.get_by_role("button", name="Download ONNX").click()
    shown = page.evaluate(
        """async () => {
            const shown = document.querySelector("#fig-spiral .playground");
            const index = [...document.querySelectorAll(".playground")].indexOf(shown);
            const { current } = await window.layerwise.playground[index];
            const { GRID } = await import("./assets/playground-render.js");
            const { points, view } = current(), cells = GRID * GRID; // the grid comes first, then the points
            return { grid: Array.from(points.slice(0, 2 * cells)), map: Array.from(view.output.slice(0, cells)) };
        }"""
    )
    grid = np.array(shown["grid"], np.float32).reshape(-1, 2)
    (answer,) = onnxruntime.InferenceSession(download.value.path()).run(["output"], {"x": grid})
    assert len(answer) == 2500 and np.abs(answer - np.array(shown["map"])).max() <= 1e-5
    # Each neuron's heatmap is that answer's pass, in the article's colours (drawn through a table
    # of them, each cell within one unit of its colour computed).
    off = page.evaluate(
        """async () => {
            const shown = document.querySelector("#fig-spiral .playground");
            const index = [...document.querySelectorAll(".playground")].indexOf(shown);
            const { current, model } = await window.layerwise.playground[index];
            const { diverging } = await import("./assets/runtime.js");
            const canvas = shown.querySelector('canvas[aria-label="layer 2, neuron 3"]'), { view } = current();
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let off = 0;
            for (let c = 0; c < canvas.width * canvas.height; c++) {
                const colour = diverging(view.hidden[(c * model.layers + 1) * model.width + 2]);
                colour.forEach((x, k) => { off = Math.max(off, Math.abs(x - pixels[4 * c + k])); });
            }
            return off;
        }"""
    )
    assert off <= 1
    # Pinned, the run stays beside the live one; the neurons' heatmaps show their input or output.
    root.get_by_role("button", name="Pin this run").click()
    pinned = root.get_by_role("group", name="Pinned run")
    expect(pinned).to_be_visible()
    expect(pinned).to_contain_text("spiral; x₁, x₂; 8-8; tanh")
    epoch = pinned.get_attribute("data-epoch")
    root.get_by_role("button", name="Step").click()  # the live run moves on; the pinned one stays
    expect(root).to_have_attribute("data-epoch", str(int(epoch) + 1))
    assert pinned.get_attribute("data-epoch") == epoch
    pinned.get_by_role("button", name="Unpin").focus()
    page.keyboard.press("Enter")  # Unpin goes with the panel: the focus goes back to Pin, not the page's start
    expect(pinned).to_be_hidden()
    expect(root.get_by_role("button", name="Pin this run")).to_be_focused()
    neuron = root.get_by_role("img", name="layer 1, neuron 1")
    after = neuron.evaluate("(canvas) => canvas.toDataURL()")
    root.get_by_label("neurons show").select_option("pre")
    for _ in range(40):  # redrawn after the next forward pass
        if neuron.evaluate("(canvas) => canvas.toDataURL()") != after:
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError("the neuron's heatmap did not change to its input")
    # Every neuron of the authored 8,8 network is drawn, with a line per weight.
    assert root.locator("canvas.playground-neuron").count() == 2 + 8 + 8
    assert root.locator(".playground-lines line").count() == 2 * 8 + 8 * 8 + 8
    # A change is a link: opened again, the page shows the same setup.
    root.get_by_role("button", name="Add a neuron to layer 2").click()
    root.get_by_label("activation").select_option("relu")
    root.get_by_label("noise %").fill("30")  # a slider shows its value beside it
    expect(root.locator(".playground-value").first).to_have_text("30")
    link = page.evaluate("location.href")
    assert "layers=8%2C9" in link and "activation=relu" in link and "noise=30" in link
    page.goto("about:blank")
    root = open_playground(page, link)
    assert root.locator("canvas.playground-neuron").count() == 2 + 8 + 9
    assert root.get_by_label("activation").input_value() == "relu"
    expect(root.locator(".playground-value").first).to_have_text("30")  # shown as the link set it
    # A link in the prose sets it up too (its keys checked by the build).
    page.get_by_role("link", name="three layers of eight").click()
    expect(root.locator("canvas.playground-neuron")).to_have_count(2 + 8 + 8 + 8)
    assert page.console_errors == []


def test_bad_option_is_one_line_at_its_line():
    with pytest.raises(FigureError) as error:
        FIGURES["playground"].check_options({"layers": ("4,20", 12)}, None)
    assert error.value.line == 12
    assert "up to 8 neuron counts from 1 to 16" in str(error.value)


def test_a_network_with_no_hidden_layer_draws_its_lines_within_its_box(page, server):
    """Figure 1 on a desktop: two inputs' lines meet at the network's edge, beside the answer;
    they ran on to x = 300 (an empty SVG's default width) under the answer, in a box that scrolled."""
    root = open_playground(page, f"{server}/playground.html", figure="fig-circle")
    network = root.locator(".playground-network")
    box, ends = network.evaluate("""(n) => [[n.clientWidth, n.scrollWidth],
        [...n.querySelectorAll('line')].map((l) => Number(l.getAttribute('x2')))]""")
    assert box[1] == box[0] < 120, box  # an input column and its lines: nothing to scroll to
    assert len(ends) == 2 and max(ends) <= box[0], ends


def test_axe_finds_no_violations_on_the_playground(browser, server):
    """Labelled controls, named pictures, contrast: axe-core (npm) on the whole article, every
    playground drawn, light and dark."""
    assert axe_violations(browser, f"{server}/playground.html", ROOT / "node_modules") == {"light": [], "dark": []}


def test_on_a_phone_every_control_is_a_24_px_target_and_nothing_scrolls_sideways(browser, server):
    """And Play and the answer it trains on one screen; that answer drawn at the device's resolution."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    open_playground(page, f"{server}/playground.html")
    small = page.evaluate("""() => [...document.querySelectorAll('#fig-spiral :is(button, input, select)')]
        .map((e) => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
        .filter(([, r]) => r.width < 24 || r.height < 24).map(([html, r]) => `${html} ${r.width}x${r.height}`)""")
    assert small == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # the network scrolls in its own box
    play = page.locator("#fig-spiral").get_by_role("button", name="Play")
    play.evaluate("(button) => button.scrollIntoView({ block: 'start' })")
    output = page.locator("#fig-spiral canvas.playground-output").first
    network = page.locator("#fig-spiral .playground-network")
    for shown in (play, output):  # wholly in the viewport
        box = shown.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 740, box
    assert network.bounding_box()["y"] < 740  # the network's top too
    assert tab_stops_top_down(page.locator("#fig-spiral .playground"))
    width, css = output.evaluate("(canvas) => [canvas.width, canvas.clientWidth]")
    assert width == 2 * css and css > 100
    context.close()


def test_a_prose_link_sets_the_playground_and_is_checked_at_build_time():
    playground = FIGURES["playground"]
    view = playground.check_state("data=xor&layers=none&learningRate=0.3&features=x1,x1x2", None)
    assert view == {"data": "xor", "layers": (), "learningRate": 0.3, "features": ("x1", "x1x2")}
    with pytest.raises(ValueError, match="'layers' must be up to 8 neuron counts"):
        playground.check_state("layers=4,99", None)


def test_the_page_decodes_a_link_by_the_schema_python_declares(page, server, monkeypatch):
    """playground-state.js restates no key, range or choice: it reads a link by the contract's
    schema, which is STATE's converters', so a range changed in Python alone moves the page's."""
    from layerwise.page import figures
    from layerwise.page.figures.playground import STATE

    declared = {key: convert.schema for key, convert in STATE.items()}
    monkeypatch.setitem(STATE, "noise", figures.whole(0, 70))  # in Python only: nothing in JS changes
    changed = figures.link_schema()["playground"]
    open_playground(page, f"{server}/playground.html")
    edges = f"noise=50&batch={pg.BATCH}&activation=relu&layers=none"
    found = page.evaluate(
        """async ([changed, queries]) => {
        const { decode } = await import('./assets/playground-state.js');
        const schema = (await import('./assets/runtime.js')).contract().link_state.playground;
        const setup = { noise: 0, batch: 10, activation: 'tanh', layers: [8] };
        const read = (s, query) => decode(s, query, setup);
        return { schema, read: queries.map((query) => read(schema, query)), changed: read(changed, 'noise=60') };
    }""",
        [changed, [edges, f"noise=51&batch={pg.BATCH + 1}&layers=0"]],
    )
    assert found["schema"] == declared and list(found["schema"]) == list(STATE)
    at_edges, beyond = found["read"]
    assert at_edges == {"noise": 50, "batch": pg.BATCH, "activation": "relu", "layers": []}
    assert beyond == {"noise": 0, "batch": 10, "activation": "tanh", "layers": [8]}  # the setup's own
    assert found["changed"]["noise"] == 60
    assert page.console_errors == []


CSV_MISTAKES = {  # the file's text -> (the line named, what the message says)
    "": (1, "the file is empty"),
    "x1,label\n1,a\n": (1, "no column x2"),
    "x1;x2;label\n1;2;a\n": (
        1,
        "no column x1 and no column x2 and no column label (or target); the cells are separated by ';'",
    ),
    "x1,x2,label\n1,2,a\n1,b,c\n": (3, "x2 is 'b', not a number"),
    "x1,x2,label\n1,2,a\n1,2,b\n\n3,3,c\n": (5, "a third label 'c'"),
    "x1,x2,target\n1,2,3\n7,1,2\n": (3, "x1 = 7 is outside the plane shown"),
    "x1,x2,label\n": (2, "no points below the header"),
}


@pytest.mark.parametrize("text", CSV_MISTAKES)
def test_an_authors_bad_csv_is_one_line_at_its_line(tmp_path, text):
    (tmp_path / "points.csv").write_text(text)
    line, said = CSV_MISTAKES[text]
    with pytest.raises(ContentError) as error:
        FIGURES["playground"].check_options({"data": ("points.csv", 9)}, None, tmp_path / "article.md")
    assert str(error.value).startswith(f"{tmp_path / 'points.csv'}:{line}: {said}")
    assert "\n" not in str(error.value)
    # A file that is not there is the directive's mistake, at its line.
    with pytest.raises(FigureError) as error:
        FIGURES["playground"].check_options({"data": ("absent.csv", 9)}, None, tmp_path / "article.md")
    assert error.value.line == 9 and "a CSV file beside the article" in str(error.value)


def test_an_authors_csv_is_read_as_written():
    """Labels sorted, the first -1; the points as written (nothing rescaled); the build's run uses them."""
    setup = setup_of({"data": "moons.csv", "layers": "none"}, ARTICLE)
    assert setup.own.labels == ("lower", "upper") and setup.problem == "classification"
    rows = [line.split(",") for line in (ROOT / "content" / "moons.csv").read_text().splitlines()[1:]]
    assert setup.own.rows[0] == (float(rows[0][0]), float(rows[0][1]), 1.0 if rows[0][2] == "upper" else -1.0)
    assert sorted({y for _, _, y in setup.own.rows}) == [-1.0, 1.0] and len(setup.own.rows) == len(rows)
    assert np.isfinite(pg.reference(setup, 1)["test_loss"])


def test_prose_reads_an_authors_csv_beside_its_article_and_names_the_csvs_line(tmp_path):
    """playground(data="points.csv") in prose: relative to the article, a target column is
    regression, and a bad cell fails the build at the CSV's line, not the prose's."""
    from layerwise.page.content import fill_values

    article = tmp_path / "article.md"
    (tmp_path / "points.csv").write_text("x1,x2,target\n1,2,0.5\n-1,3,-0.25\n2,2,1\n")
    setup = setup_of({"data": "points.csv"}, article)
    assert setup.problem == "regression" and [y for _, _, y in setup.own.rows] == [0.5, -0.25, 1.0]
    (tmp_path / "points.csv").write_text("x1,x2,target\n1,2,0.5\n-1,oops,1\n")
    with pytest.raises(ContentError, match=rf"^{re.escape(str(tmp_path / 'points.csv'))}:3: x2 is 'oops'"):
        fill_values(article, '{{ playground(data="points.csv").test_loss }}', 4, {})
