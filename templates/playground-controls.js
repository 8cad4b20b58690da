// The playground's controls and pictures, built at once when it mounts (no layout shift) and
// appended to its root; playground.js wires them to the run.
import { el } from "./runtime.js";
import { drawLabels, GRID } from "./playground-render.js";
import { labelNames, problemOf } from "./playground-state.js";
import { pinPanel } from "./playground-pin.js";

export function control(label, input, ...after) { return el("label", { class: "playground-control" }, `${label} `, input, ...after); }
// A slider's value beside it, for the eye (the slider itself tells a screen reader); kept by `showSetup`.
function valueBeside(slider) {
  const shown = el("span", { class: "playground-value", "aria-hidden": "true" }, slider.value);
  slider.addEventListener("input", () => { shown.textContent = slider.value; });
  slider.shown = shown;
  return shown;
}
export function select(options, value) { // [[value, text]], with the authored value among them
  if (!options.some(([v]) => String(v) === String(value))) options = [...options, [value, String(value)]];
  const node = el("select", {}, ...options.map(([v, text]) => el("option", { value: String(v) }, text)));
  node.value = String(value);
  return node;
}

// Every control and picture of a playground, for `setup`, appended to `root`: { name: node }.
export function buildControls(root, model, setup) {
  const button = (text, title) => el("button", { type: "button", title }, text);
  const play = button("Play", "Train until paused"), once = button("Step", "Train one epoch");
  const reset = button("Reset", "Start again from the seed's weights");
  const saveJson = button("Download JSON", "The trained network's setup and parameters, each tensor named, as a JSON file");
  const saveOnnx = button("Download ONNX", "The trained network as an ONNX file (input x: points (N, 2); output: its answer)");
  const pinButton = button("Pin this run", "Keep this network's answer, loss curve and setup beside the live one");
  // Each hidden neuron's heatmap: its output (after the activation) or its weighted input (before it).
  const stage = select([["post", "their output"], ["pre", "their weighted input"]], "post");
  stage.title = "Draw each hidden neuron after its activation, or before it";
  const epochOut = el("output", { class: "playground-epoch" }, "epoch 0");
  // (its place kept with the shape of what it will say: nothing moves when the figure is set up)
  const lossOut = el("output", { class: "playground-loss", "aria-live": "polite" }, "train loss -.---, test loss -.---");
  const datasets = [...model.datasets.classification, ...model.datasets.regression, ...(model.own ? [model.own.name] : [])];
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
  const output = el("canvas", { class: "playground-output", width: String(GRID), height: String(GRID), role: "img",
    "aria-label": "The network's output over the plane, drawn once the network is set up" }); // named until drawn
  const labels = el("p", { class: "playground-legend playground-labels" });
  const curve = el("canvas", { class: "playground-curve", width: "240", height: "60", role: "img", "aria-label": "Train and test loss by epoch" });
  const pinned = pinPanel(model, pinButton);
  root.append(
    // Play, then what it trains, then the settings, on every width: the order Tab and a screen
    // reader take is the order seen (a phone once reordered them by CSS alone).
    el("div", { class: "figure-buttons playground-run playground-train", role: "group", "aria-label": "Training" }, play, once, reset, epochOut, lossOut),
    el("div", { class: "playground-body" }, network, el("div", { class: "playground-side playground-live" }, output, labels, curve,
      el("p", { class: "playground-legend" }, "loss by epoch: train solid, test dashed")), pinned.node),
    el("div", { class: "figure-buttons playground-run", role: "group", "aria-label": "Keep this run" }, saveJson, saveOnnx, pinButton,
      control("neurons show", stage)),
    el("div", { class: "playground-controls" },
      control("data", inputs.data), problem, control("noise %", inputs.noise, valueBeside(inputs.noise)), control("train %", inputs.ratio, valueBeside(inputs.ratio)),
      control("activation", inputs.activation), control("learning rate", inputs.learningRate), control("batch", inputs.batch),
      control("regularization", inputs.regularization), control("rate", inputs.rate), control("seed", inputs.seed)),
    el("div", { class: "playground-features", role: "group", "aria-label": "Input features" }, el("span", {}, "features:"), ...featureBoxes.map(([, , label]) => label),
      el("span", { class: "figure-buttons" }, addLayer, removeLayer)),
  );
  return { play, once, reset, saveJson, saveOnnx, pinButton, stage, epochOut, lossOut, inputs, featureBoxes, addLayer, removeLayer,
    problem, network, output, labels, curve, pinned };
}

// The controls showing `setup` (after a change, a reset or a link).
export function showSetup({ featureBoxes, inputs, problem, labels, addLayer, removeLayer }, model, setup) {
  for (const [name, box] of featureBoxes) box.checked = setup.features.includes(name);
  for (const [key, input] of Object.entries(inputs)) {
    input.value = String(setup[key]);
    if (input.shown) input.shown.textContent = input.value;
  }
  problem.textContent = problemOf(model, setup.data);
  inputs.noise.disabled = model.own?.name === setup.data; // an author's points are as written
  drawLabels(labels, labelNames(model, setup));
  removeLayer.disabled = setup.layers.length === 0;
  addLayer.disabled = setup.layers.length >= model.layers;
}

// Each control of the setup calls change({ key: value }) with what it sets; setupNow() is the current setup.
export function dispatchChanges({ inputs, featureBoxes, addLayer, removeLayer }, model, setupNow, change) {
  for (const key of ["data", "activation", "regularization"]) inputs[key].addEventListener("change", () => change({ [key]: inputs[key].value }));
  for (const key of ["noise", "ratio", "learningRate", "rate", "seed"]) inputs[key].addEventListener("change", () => change({ [key]: Number(inputs[key].value) }));
  inputs.batch.addEventListener("change", () => {
    const batch = Math.min(model.batch, Math.max(1, Math.round(Number(inputs.batch.value)) || 1));
    change({ batch });
  });
  for (const [, box] of featureBoxes)
    box.addEventListener("change", () => change({ features: featureBoxes.filter(([, b]) => b.checked).map(([n]) => n) }));
  addLayer.addEventListener("click", () => change({ layers: [...setupNow().layers, Math.min(4, model.width)] }));
  removeLayer.addEventListener("click", () => change({ layers: setupNow().layers.slice(0, -1) }));
}
