// The playground: the reader builds a small network over 2-D points and trains it in the page.
// Every step is the build's training step (PyTorch's autograd exported as one ONNX graph, run by
// onnxruntime-web); every neuron's output over the plane comes from the build's network graph.
// State and data: playground-state.js; drawing: playground-render.js; this module: the controls,
// the training loop and the link.
import { register } from "./lifecycle.js";
import { contract, el, loadRuntime } from "./runtime.js";
import { dataset, decode, encode, initial, masks, padded, problemOf } from "./playground-state.js";
import { drawLoss, drawNetwork, GRID, gridPoints } from "./playground-render.js";

// The two graphs in onnxruntime-web: step(params, arch, rows) -> { params, loss } (one SGD step
// on up to model.batch rows) and network(params, arch, points) -> { features, hidden, output }.
export async function trainer(model, stepUrl, networkUrl) {
  const ort = await loadRuntime();
  const open = (url) => ort.InferenceSession.create(new URL(url, document.baseURI).href, { executionProviders: ["wasm"] });
  const [stepSession, networkSession] = await Promise.all([open(stepUrl), open(networkUrl)]);
  const P = model.layout.parameters;
  const tensor = (data, dims) => new ort.Tensor("float32", data, dims);
  const archFeeds = (params, arch) => ({
    params: tensor(params, [P]), mask: tensor(arch.mask, [P]), layers: tensor(arch.layers, [model.layers]),
    activation: tensor(arch.activation, [model.activations.length]), hyper: tensor(arch.hyper, [4]),
  });
  return {
    async step(params, arch, rows) {
      const { x, y, weight } = padded(model, rows);
      const out = await stepSession.run({ ...archFeeds(params, arch), x: tensor(x, [model.batch, 2]), y: tensor(y, [model.batch]), weight: tensor(weight, [model.batch]) });
      return { params: out.new_params.data, loss: out.loss.data[0] };
    },
    async network(params, arch, points) { // points: Float32Array of (x1, x2) pairs
      const out = await networkSession.run({ ...archFeeds(params, arch), x: tensor(points, [points.length / 2, 2]) });
      return { features: out.features.data, hidden: out.hidden.data, output: out.output.data };
    },
  };
}

const FRAME_MS = 20; // training time per animation frame while playing; the rest draws (about 15 ms)

// Half the squared error, averaged: the loss the step descends (without its penalty).
const meanLoss = (output, points, offset) => points.reduce((sum, [, , y], i) => sum + 0.5 * (output[offset + i] - y) ** 2, 0) / Math.max(points.length, 1);

function control(label, input) { return el("label", { class: "playground-control" }, `${label} `, input); }
function select(options, value) { // [[value, text]], with the authored value among them
  if (!options.some(([v]) => String(v) === String(value))) options = [...options, [value, String(value)]];
  const node = el("select", {}, ...options.map(([v, text]) => el("option", { value: String(v) }, text)));
  node.value = String(value);
  return node;
}

async function mount(root, near) {
  const model = JSON.parse(root.dataset.model), figureId = root.closest("figure")?.id ?? "";
  const schema = contract().link_state.playground; // what a link may set, from the build
  const authored = JSON.parse(root.dataset.setup);
  const linked = () => (figureId && location.hash.startsWith(`#${figureId}?`) ? location.hash.slice(figureId.length + 2) : "");
  let setup = decode(schema, linked(), authored);

  // Controls: built at once (no layout shift); the graphs are fetched when the figure nears.
  const button = (text, title) => el("button", { type: "button", title }, text);
  const play = button("Play", "Train until paused"), once = button("Step", "Train one epoch");
  const reset = button("Reset", "Start again from the seed's weights");
  const save = button("Save weights", "The trained network's setup and parameters as a JSON file");
  const epochOut = el("output", { class: "playground-epoch" }, "epoch 0");
  const lossOut = el("output", { class: "playground-loss", "aria-live": "polite" }, "");
  const datasets = [...model.datasets.classification, ...model.datasets.regression];
  const inputs = {
    data: select(datasets.map((d) => [d, d]), setup.data),
    noise: el("input", { type: "range", min: "0", max: "50", step: "5", value: String(setup.noise) }),
    ratio: el("input", { type: "range", min: "10", max: "90", step: "10", value: String(setup.ratio) }),
    activation: select(model.activations.map((a) => [a, a]), setup.activation),
    learningRate: select([0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10].map((r) => [r, String(r)]), setup.learningRate),
    batch: el("input", { type: "number", min: "1", max: String(model.batch), value: String(setup.batch) }),
    regularization: select([["none", "none"], ["l1", "L1"], ["l2", "L2"]], setup.regularization),
    rate: select([0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10].map((r) => [r, String(r)]), setup.rate),
    seed: el("input", { type: "number", min: "0", value: String(setup.seed) }),
  };
  const featureBoxes = Object.entries(model.features).map(([name, label]) => {
    const box = el("input", { type: "checkbox", value: name });
    return [name, box, el("label", { class: "playground-feature" }, box, ` ${label}`)];
  });
  const addLayer = button("Add a layer", "Add a hidden layer of 4 neurons");
  const removeLayer = button("Remove a layer", "Remove the last hidden layer");
  const problem = el("span", { class: "playground-problem" });
  // (a tab stop: it scrolls sideways on a narrow screen)
  const network = el("div", { class: "playground-network", tabindex: "0", role: "group", "aria-label": "The network: each neuron's output over the plane" });
  const output = el("canvas", { class: "playground-output", width: String(GRID), height: String(GRID), role: "img" });
  const curve = el("canvas", { class: "playground-curve", width: "240", height: "60", role: "img", "aria-label": "Train and test loss by epoch" });
  root.append(
    el("div", { class: "figure-buttons playground-run", role: "group", "aria-label": "Training" }, play, once, reset, save, epochOut, lossOut),
    el("div", { class: "playground-controls" },
      control("data", inputs.data), problem, control("noise %", inputs.noise), control("train %", inputs.ratio),
      control("activation", inputs.activation), control("learning rate", inputs.learningRate), control("batch", inputs.batch),
      control("regularization", inputs.regularization), control("rate", inputs.rate), control("seed", inputs.seed)),
    el("div", { class: "playground-features", role: "group", "aria-label": "Input features" }, el("span", {}, "features:"), ...featureBoxes.map(([, , label]) => label),
      el("span", { class: "figure-buttons" }, addLayer, removeLayer)),
    el("div", { class: "playground-body" }, network, el("div", { class: "playground-side" }, output, curve,
      el("p", { class: "playground-legend" }, "loss by epoch: train solid, test dashed"))),
  );

  // The run: parameters, points, the graphs' inputs, the losses so far.
  let run = null, playing = false, visible = true, busy = null, tools = null;
  function restart() {
    const data = dataset(model, setup), arch = masks(model, setup);
    const grid = gridPoints(model.extent);
    const points = Float32Array.from([...grid, ...[...data.train, ...data.test].flatMap(([x1, x2]) => [x1, x2])]);
    run = { data, arch, params: initial(model, setup, arch.mask), epoch: 0, cursor: 0, losses: [], points, view: null };
    for (const [name, box] of featureBoxes) box.checked = setup.features.includes(name);
    for (const [key, input] of Object.entries(inputs)) input.value = String(setup[key]);
    problem.textContent = problemOf(model, setup.data);
    removeLayer.disabled = setup.layers.length === 0;
    addLayer.disabled = setup.layers.length >= model.layers;
    root.dataset.epoch = "0";
  }
  function change(update) {
    setup = { ...setup, ...update };
    restart();
    if (figureId) history.replaceState(null, "", `#${figureId}?${encode(schema, setup)}`);
    return refresh();
  }

  // Forward over the grid and every point: the pictures and both losses.
  async function refresh() {
    if (!tools) return;
    const current = run, view = await tools.network(current.params, current.arch, current.points);
    if (current !== run) return;
    const cells = GRID * GRID, { train, test } = current.data;
    const trainLoss = meanLoss(view.output, train, cells), testLoss = meanLoss(view.output, test, cells + train.length);
    if (current.losses.length <= current.epoch) current.losses.push([trainLoss, testLoss]);
    current.view = view;
    lossOut.value = `train loss ${trainLoss.toFixed(3)}, test loss ${testLoss.toFixed(3)}`;
    epochOut.value = `epoch ${current.epoch}`;
    root.dataset.loss = String(trainLoss);
    drawNetwork({ root: network, output, model, setup, params: current.params, view, data: current.data, onChange: change });
    drawLoss(curve, current.losses);
  }

  // Training: the points in order, setup.batch at a time, an epoch a pass. Playing takes steps
  // for FRAME_MS a frame, then redraws, so the pictures keep up however long an epoch is; Step
  // trains to the end of the epoch.
  async function train(budget) {
    const current = run, points = current.data.train, start = performance.now();
    do {
      const result = await tools.step(current.params, current.arch, points.slice(current.cursor, current.cursor + setup.batch));
      if (current !== run) return;
      current.params = result.params;
      current.cursor += setup.batch;
      if (current.cursor >= points.length) {
        current.cursor = 0;
        current.epoch += 1;
        root.dataset.epoch = String(current.epoch);
        if (budget === Infinity) break;
      }
    } while (performance.now() - start < budget);
    await refresh();
  }
  async function loop() {
    while (playing && visible && tools) { busy = train(FRAME_MS); await busy; await new Promise(requestAnimationFrame); }
  }
  function setPlaying(on) {
    playing = on;
    play.textContent = on ? "Pause" : "Play";
    if (on) loop();
  }

  play.addEventListener("click", () => setPlaying(!playing));
  once.addEventListener("click", async () => { setPlaying(false); await busy; if (tools) await train(Infinity); });
  reset.addEventListener("click", () => { restart(); refresh(); });
  // The reader's network to keep: the setup, the epoch, and the flat parameters with their layout
  // (a removed neuron's are 0) as layerwise/playground.py defines them.
  save.addEventListener("click", () => {
    const saved = { setup, epoch: run.epoch, layout: model.layout, width: model.width,
      features: Object.keys(model.features), params: Array.from(run.params) };
    const file = new Blob([JSON.stringify(saved)], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(file), download: `playground-${setup.data}-epoch-${run.epoch}.json` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  for (const key of ["data", "activation", "regularization"]) inputs[key].addEventListener("change", () => change({ [key]: inputs[key].value }));
  for (const key of ["noise", "ratio", "learningRate", "rate", "seed"]) inputs[key].addEventListener("change", () => change({ [key]: Number(inputs[key].value) }));
  inputs.batch.addEventListener("change", () => {
    const batch = Math.min(model.batch, Math.max(1, Math.round(Number(inputs.batch.value)) || 1));
    change({ batch });
  });
  for (const [, box] of featureBoxes)
    box.addEventListener("change", () => change({ features: featureBoxes.filter(([, b]) => b.checked).map(([n]) => n) }));
  addLayer.addEventListener("click", () => change({ layers: [...setup.layers, Math.min(4, model.width)] }));
  removeLayer.addEventListener("click", () => change({ layers: setup.layers.slice(0, -1) }));

  // A link in the prose sets the figure up: [three layers](#fig-spiral?layers=8,8,8).
  window.addEventListener("hashchange", () => {
    if (!linked()) return;
    setup = decode(schema, linked(), setup);
    restart();
    refresh();
  });

  restart();
  await near;
  tools = await trainer(model, root.dataset.graphStep, root.dataset.graphNetwork);
  root.querySelector(".figure-fallback")?.remove();
  await refresh();
  root.dataset.ready = "1";
  return {
    trainer: tools, model,
    onscreen() { visible = true; if (playing) loop(); },
    offscreen() { visible = false; },
  };
}

register("playground", ".playground", mount);
