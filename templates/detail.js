// Each layer explained on the reader's own example: how it computes one output value from its
// input, with the model's real weights, redone here and checked against onnxruntime-web.
// What a layer does comes from the build (contract: layers[].step, read from the ONNX graph by
// layerwise/anatomy.py); nothing here knows the architecture. Its parts: the arithmetic (pure,
// detail-arithmetic.js), the drawing (detail-render.js), and here the panel (one layer, one
// selected position: its state, controls and frames) and the layer-detail figure (a panel of
// its own, on the explorer's current example).

import { arithmetic, cell, stepWeights } from "./detail-arithmetic.js";
import { describeStep, explainParts, KIND_TERMS, n, paintMap, partsHeight, traceField, typeset } from "./detail-render.js";
import { register } from "./lifecycle.js";
import { contract, el, latest, loadModel, sitePath } from "./runtime.js";

// The panel's elements, built at once at about their final height (no layout shift): what the
// step is, a chooser of the position (a map for maps, a slider over units), and the places its
// position, parts, math, check and receptive field are drawn.
function panelElements(model, layer, at, isMap) {
  const { step, shape } = layer, size = shape.reduce((a, b) => a * b, 1);
  const definition = contract().glossary?.[KIND_TERMS[step.kind] ?? layer.type.toLowerCase()];
  const e = {
    position: el("p", { class: "detail-position", role: "status" }),
    parts: el("div", { class: "detail-parts" }),
    math: el("div", { class: "detail-math" }),
    check: el("p", { class: "detail-check" }),
    root: el("section", { class: "layer-detail-panel", "aria-label": `How ${layer.name} computes` },
      el("h4", {}, `How ${layer.name} computes`),
      el("p", {}, describeStep(step, layer), ...(definition ? [" ", el("span", { class: "term", tabindex: "0" }, KIND_TERMS[step.kind] ?? layer.type,
        el("span", { class: "definition tip", role: "tooltip" }, definition))] : []))),
    chooser: el("div", { class: "detail-chooser" }),
    map: el("canvas", { class: "detail-map", tabindex: "0", role: "img", width: shape[2] ?? 1, height: shape[1] ?? 1, // its shape before its pixels
      "aria-label": `A map of ${layer.name}, drawn once the network has run` }), // named until painted
    play: el("button", { type: "button", "aria-pressed": "false" }, "Slide the window"),
    unit: el("input", { type: "range", min: "0", max: String(size - 1), step: "1", value: String(at), "aria-label": `Output of ${layer.name}` }),
    field: el("div", { class: "detail-field" }),
  };
  if (isMap) e.chooser.append(e.map, el("div", {}, el("p", { class: "detail-hint" }, "Point at a cell, or focus the map and use the arrows (PageUp/PageDown: another map; Space slides)."), e.play));
  else if (step.kind !== "other") e.chooser.append(el("label", {}, `${step.kind === "flatten" ? "index" : "unit"} `, e.unit));
  const before = model.layers.find((l) => l.name === step.reads[0])?.step ?? model.inner[step.reads[0]];
  e.parts.style.minHeight = `${partsHeight(step, before)}rem`; // filled in later without moving the page
  if (isMap && step.receptive_field) e.field.style.minHeight = "15rem";
  e.root.append(e.chooser, e.position, e.parts, e.math, e.check, e.field);
  return e;
}

// Choosing the position: a click or tap picks the cell under it (a mouse by hovering too, unless
// it slides), arrows steer (PageUp/PageDown: channel, Space: slide), or the units' slider.
function bindChooser(e, shape, panel) {
  const pick = (event) => {
    const box = e.map.getBoundingClientRect(), [c] = cell(shape, panel.at);
    const y = Math.floor(((event.clientY - box.top) / box.height) * shape[1]), x = Math.floor(((event.clientX - box.left) / box.width) * shape[2]);
    if (y >= 0 && y < shape[1] && x >= 0 && x < shape[2]) panel.select((c * shape[1] + y) * shape[2] + x);
  };
  e.map.addEventListener("click", pick);
  e.map.addEventListener("pointermove", (event) => { if (event.pointerType === "mouse" && !panel.playing) pick(event); });
  e.map.addEventListener("keydown", (event) => {
    const [c, y, x] = cell(shape, panel.at), [C, H, W] = shape;
    const moves = { ArrowLeft: [0, 0, -1], ArrowRight: [0, 0, 1], ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0], PageUp: [-1, 0, 0], PageDown: [1, 0, 0] };
    if (event.key === " ") { e.play.click(); event.preventDefault(); return; }
    if (!(event.key in moves)) return;
    event.preventDefault();
    const [dc, dy, dx] = moves[event.key];
    const to = [(c + dc + C) % C, Math.max(0, Math.min(H - 1, y + dy)), Math.max(0, Math.min(W - 1, x + dx))];
    panel.select((to[0] * H + to[1]) * W + to[2]);
  });
  e.unit.addEventListener("input", () => panel.select(Number(e.unit.value)));
  e.play.addEventListener("click", () => panel.setPlaying(!panel.playing));
}

// The selected value drawn: its position, the map, its parts and formula, the receptive field,
// and the check against onnxruntime-web. `view`: { at, tensors, weights, playing }.
function painter(e, model, layer, isMap, view) {
  const { step, shape } = layer;
  let frames = 0, typesetAt = 0;
  return () => {
    const { at, tensors, weights } = view;
    if (!tensors || !weights) return;
    const inputs = step.reads.map((r) => tensors[r]);
    const got = arithmetic(step, inputs, weights, at), computed = tensors[layer.name][at];
    const where = shape.length === 3 ? cell(shape, at) : [at];
    e.position.textContent = `${layer.name}${shape.length === 3 ? ` map ${where[0]} of ${shape[0]}, row ${where[1]}, column ${where[2]}` : `[${at}]`}`;
    if (isMap) {
      const cells = got?.cells;
      paintMap(e.map, tensors[layer.name], shape, where[0], [where[1], where[2], 1, 1]);
      e.map.setAttribute("aria-label", `Map ${where[0]} of ${layer.name}; selected row ${where[1]}, column ${where[2]}` + (cells ? `, over input rows ${cells[0].row} to ${cells.at(-1).row}` : ""));
    }
    if (!got) {
      e.parts.replaceChildren();
      e.math.replaceChildren();
      e.check.textContent = `onnxruntime-web computed ${n(computed, 4)} here.`;
      return;
    }
    const tex = explainParts({ model, step, layer, got, inputs, tensors, where, parts: e.parts });
    if (isMap) traceField(e.field, layer, where, tensors.image);
    // While the window slides, its formula is set at most ten times a second (no one reads
    // faster); every position still redraws its numbers, window and field.
    const now = performance.now();
    if (!view.playing || now - typesetAt > 100) { typeset(e.math, tex); typesetAt = now; }
    const difference = Math.abs(got.value - computed);
    e.root.dataset.difference = String(difference);
    e.root.dataset.value = String(got.value);
    e.check.textContent = `This arithmetic gives ${n(got.value, 5)}; onnxruntime-web computed ${n(computed, 5)} (difference ${difference.toExponential(1)}).`;
    e.root.dataset.frames = String(++frames);
    e.root.dispatchEvent(new Event("painted"));
  };
}

// The panel for `layer` of `model` (contract names): update(tensors) with every output of the
// page's model ({ image, [name]: Float32Array }), select(at) a flat output index, setPlaying(on)
// the window's slide.
export function detailPanel(modelName, layer, at = 0) {
  const model = contract().models[modelName], { step, shape } = layer, size = shape.reduce((a, b) => a * b, 1);
  const isMap = shape.length === 3 && ["conv", "maxpool", "avgpool", "activation", "batchnorm", "add", "identity"].includes(step.kind);
  const e = panelElements(model, layer, at, isMap), view = { at, tensors: null, weights: null, playing: false };
  const paint = painter(e, model, layer, isMap, view);
  let frame = 0;
  const panel = {
    root: e.root,
    get at() { return view.at; },
    get playing() { return view.playing; },
    select(i) { view.at = Math.max(0, Math.min(size - 1, i)); e.unit.value = String(view.at); paint(); },
    setPlaying(on) {
      view.playing = on;
      cancelAnimationFrame(frame);
      if (!on) paint(); // the formula of where it stopped
      if (on) frame = requestAnimationFrame(slide);
      e.play.textContent = on ? "Stop" : "Slide the window";
      e.play.setAttribute("aria-pressed", String(on));
    },
    async update(all) {
      view.weights ??= await stepWeights(modelName, step);
      view.tensors = all;
      paint();
    },
  };
  // The slide: one position a frame along the map's rows, as the kernel moves over the input.
  function slide() {
    const [c] = cell(shape, view.at), plane = shape[1] * shape[2];
    panel.select(c * plane + ((view.at - c * plane + 1) % plane));
    frame = requestAnimationFrame(slide);
  }
  bindChooser(e, shape, panel);
  return panel;
}

// --- the layer-detail figure: a panel of its own, on the reader's current example -----------

async function mount(root, near) {
  const modelName = root.dataset.model, model = contract().models[modelName];
  const layer = model.layers.find((l) => l.name === root.dataset.layer);
  const shape = layer.shape, [row, col] = (root.dataset.position || "0").split(",").map(Number);
  const at = shape.length === 3 ? (Number(root.dataset.channel || 0) * shape[1] + row) * shape[2] + col : row;
  // Laid out at once, at about its final height: filling it in later moves nothing below.
  const panel = detailPanel(modelName, layer, at);
  root.append(panel.root);
  await near;
  const session = await loadModel(sitePath("model", { model: modelName }));
  const show = async (pixels) => panel.update({ image: pixels, ...(await session.run(pixels)) });
  const first = latest() ?? (await fetch(sitePath("examples")).then((r) => r.json())).pixels[0].map((p) => p / 255);
  await show(Float32Array.from(first));
  // The reader's strokes reach it only while it is on screen (the latest one when it comes
  // back): four of these redrawn on every stroke cost the explorer its frame.
  let onScreen = false, waiting = null;
  const catchUp = () => { if (onScreen && waiting) { show(waiting); waiting = null; } };
  window.addEventListener("layerwise:drawn", (event) => { waiting = event.detail.pixels; catchUp(); }); // new ones only
  return {
    root, panel,
    onscreen: () => { onScreen = true; catchUp(); },
    offscreen: () => { onScreen = false; panel.setPlaying(false); },
  };
}

register("details", ".layer-detail", mount);
