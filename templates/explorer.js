// The layer explorer: the reader draws an example (one-channel data), picks a held-out one, or
// brings an image of their own; onnxruntime-web runs the exported model in the page and every
// layer's output is drawn. Nothing here knows the dataset or the architecture: shapes, classes,
// the noun, the preprocessing and the layers come from the build's contract.
// Its parts: the input (explorer-input.js: the pad, images), the renderer (explorer-render.js:
// the layers' views), the reader's attack (explorer-attack.js); this module runs the model and
// wires them, and each layer's detail view (detail.js) and units (units.js).

import { detailPanel } from "./detail.js";
import { stepWeights } from "./detail-arithmetic.js";
import { attackControls } from "./explorer-attack.js";
import { drawingPad, preprocess, readImage } from "./explorer-input.js";
import { layerView, showAnswer } from "./explorer-render.js";
import { register } from "./lifecycle.js";
import { offerUnits } from "./units.js";
import { contract, el, exampleSize, loadModel, loadRuntime, paintImage, rovingFocus, shareExample, sitePath, tabStop } from "./runtime.js";

// The elements, built at once (no layout shift).
function build({ classes, noun, drawable, shape: [C, H, W] }, layers) {
  return {
    status: el("p", { class: "status", role: "status" }, "The network runs in your browser once you scroll here."),
    top: el("ol", { class: "top-classes", "aria-label": "The most likely classes" }),
    drawable,
    pad: el("canvas", { width: 280, height: 280, class: "pad", tabindex: "0",
      "aria-label": `Drawing pad: draw a ${noun} with mouse, finger or pen; or with the keyboard: ` +
        "arrows move the pen (Shift: faster), Space puts it down or lifts it, Delete clears" }),
    pen: el("span", { class: "pen", hidden: "" }), // where the keyboard's pen is
    clear: el("button", { type: "button" }, "Clear"),
    file: el("input", { type: "file", accept: "image/*", "aria-label": `Use your own image of a ${noun}` }),
    input: el("canvas", { width: W, height: H, class: "map input-view", "aria-label": `The ${H}×${W} input the model sees` }),
    // A toolbar: one tab stop, arrows move among the examples, Enter or Space picks one.
    picker: el("div", { class: "picker", role: "toolbar", "aria-label": `Pick a held-out ${noun} (outlined: ones the model gets wrong)` }),
    views: layers.map((layer) => layerView(layer, classes, [C, H, W])),
  };
}

// The result sits beside the pad (on a phone too), not below every layer.
function lay(root, e, attackElements) {
  root.append(
    el("div", { class: "explorer-input" },
      el("div", { class: "pad-row" }, ...(e.drawable ? [el("div", { class: "pad-wrap" }, e.pad, e.pen)] : []),
        el("div", { class: "result" }, e.status, e.top)),
      el("div", { class: "pad-controls" }, ...(e.drawable ? [e.clear] : []), el("label", { class: "own-image" }, "your own image: ", e.file)),
      el("div", { class: "pad-controls" }, el("span", {}, "what the model sees:"), e.input),
      ...attackElements,
      e.picker),
    el("div", { class: "explorer-layers" }, ...e.views.map((v) => v.box)));
}

// Each layer opens its detail view (detail.js): how it computes, on the current example.
// `details`: layer name -> its open panel.
function offerDetails(model, views, layers, details, tensors) {
  views.forEach(({ box }, i) => {
    const layer = layers[i];
    const open = el("button", { type: "button", class: "layer-open", "aria-expanded": "false" }, "how it computes");
    box.querySelector(".layer-name").append(open);
    open.addEventListener("click", () => {
      if (!details.has(layer.name)) {
        details.set(layer.name, detailPanel(model, layer));
        box.append(details.get(layer.name).root);
      } else details.get(layer.name).root.hidden = !details.get(layer.name).root.hidden;
      const panel = details.get(layer.name), shown = !panel.root.hidden;
      open.setAttribute("aria-expanded", String(shown));
      if (!shown) panel.setPlaying(false);
      else if (tensors()) panel.update(tensors());
    });
  });
}

// The held-out examples to pick from, once the reader comes near: a button each, whose
// `pick(onArrival)` calls `picked(pixels, label, button, onArrival)`.
function loadPicker(root, near, picker, picked) {
  const { dataset: { classes, noun, shape: [, H, W] } } = contract();
  rovingFocus(picker);
  return near.then(() => fetch(sitePath("examples"))).then((response) => response.json()).then((examples) => examples.pixels.forEach((pixels, i) => {
    // Drawn once, so shown as an image: a canvas would be a composited layer of its own (40 of
    // them re-layerized on every frame the page animates).
    const thumb = el("img", { width: W, height: H, alt: "" }), picture = new OffscreenCanvas(W, H);
    paintImage(picture, pixels);
    picture.convertToBlob().then((blob) => { thumb.src = URL.createObjectURL(blob); });
    const answer = examples.predictions[root.dataset.model][i]; // this explorer's own model's answer
    const wrong = answer !== examples.labels[i];
    const label = `held-out ${noun} ${i + 1}, labelled ${classes[examples.labels[i]]}` +
      (wrong ? `, which the model takes for ${classes[answer]}` : "");
    const button = el("button", { type: "button", "aria-label": label, title: label, class: wrong ? "wrong" : "",
      "aria-pressed": "false", tabindex: i === 0 ? "0" : "-1" }, thumb);
    button.pick = (onArrival = false) => picked(pixels, examples.labels[i], button, onArrival);
    button.addEventListener("click", () => button.pick());
    picker.append(button);
  }));
}

// The model in onnxruntime-web, loaded when the reader comes near (or an example is picked
// elsewhere: `woken`), saying how far it got in `status`.
async function loadNetwork(root, near, woken, status, drawable, noun, views, layers) {
  await Promise.race([near, woken]);
  status.textContent = "Loading the network runtime…";
  await loadRuntime((got, total) => {
    status.textContent = `Loading the network runtime… ${Math.round(got / 1e6)} of ${Math.round(total / 1e6) || "?"} MB`;
  });
  const session = await loadModel(sitePath("model", { model: root.dataset.model }));
  paintFilters(root.dataset.model, views, layers); // with the model: its weights file, not the page's HTML
  status.textContent = `Ready: ${drawable ? "draw a " + noun + ", " : ""}pick one or bring your own image.`;
  return session;
}

// Each convolution's learned filters, from the model's weights file (the detail view's too).
function paintFilters(model, views, layers) {
  views.forEach((view, i) => view.filters && stepWeights(model, layers[i].step).then((weights) => view.filters(weights.W)));
}

// Live while drawing: the first change in a frame runs at once (so it shows in the very next
// frame), later ones in that frame wait for it; at most one run is in flight and one pending,
// so a fast stroke never queues up stale inference runs. `update()` returns a promise.
function latestOnly(canRun, update) {
  let running = false, frameBusy = false, dirty = false;
  return function request() {
    if (!canRun()) return;
    if (running || frameBusy) { dirty = true; return; }
    running = frameBusy = true;
    dirty = false;
    requestAnimationFrame(() => { frameBusy = false; if (dirty && !running) request(); });
    update().finally(() => { running = false; if (dirty && !frameBusy) request(); });
  };
}

// An image file chosen or dropped on the explorer: `use(blob)`.
function acceptImages(root, file, use) {
  file.addEventListener("change", () => { if (file.files[0]) use(file.files[0]); });
  root.addEventListener("dragover", (e) => e.preventDefault());
  root.addEventListener("drop", (e) => {
    const dropped = [...(e.dataTransfer?.files || [])].find((f) => f.type.startsWith("image/"));
    if (dropped) { e.preventDefault(); use(dropped); }
  });
}

async function mount(root, near) {
  const { dataset, models } = contract(), { classes, noun, shape: [, H, W] } = dataset, model = root.dataset.model;
  const layers = models[model].layers, e = build(dataset, layers), details = new Map(); // layer name -> its open panel
  // Every output of the last run and its image; the model's session once loaded; `truth`: the
  // label of the example shown, where it is a held-out one (the attack never aims at it by default).
  let tensors = null, session = null, truth = null;
  function choose(chosen, label = null) { // the picked example is marked; drawing or an image unmarks it
    const examples = [...e.picker.children];
    for (const b of examples) b.setAttribute("aria-pressed", String(b === chosen));
    if (chosen) tabStop(examples, examples.indexOf(chosen)); // Tab comes back to the picked one
    truth = label;
  }
  const pad = drawingPad(e.pad, e.pen, { drawn: () => requestUpdate(), started: () => choose(null), cleared: () => e.clear.click() });
  const attack = attackControls({ model, layers, classes, noun, tensors: () => tensors, truth: () => truth, unpick: () => choose(null, truth),
    score: (name, images, count) => session.output(name, images, count),
    step: (pixels) => { if (e.drawable) pad.paint(Float32Array.from(pixels, (v) => v * 255)); return show(pixels); } });
  offerDetails(model, e.views, layers, details, () => tensors);
  e.views.forEach(({ box }, i) => offerUnits(root, box, layers[i], model)); // each unit opens what it responds to (units.js)
  lay(root, e, attack?.elements ?? []);
  // The reader's pick goes onto the pad, to draw on. The first one, shown at load, is on the
  // pad too (what is read is seen), until the reader's first stroke starts a drawing of their own.
  const picked = loadPicker(root, near, e.picker, (pixels, label, button, onArrival) => {
    choose(button, label);
    if (e.drawable) pad.paint(pixels);
    pad.shown(onArrival);
    show(Float32Array.from(pixels, (p) => p / 255));
  });
  let wake; // an example picked elsewhere starts the explorer even before the reader scrolls here
  const woken = new Promise((resolve) => { wake = resolve; });
  const ready = loadNetwork(root, near, woken, e.status, e.drawable, noun, e.views, layers).then((loaded) => { session = loaded; });
  ready.catch((error) => {
    e.status.textContent = `The live network cannot run here (${error.message}). The figures above still show what it learned.`;
    root.classList.add("unavailable");
  });
  // Every output: the shown layers, and inner tensors their detail views read.
  const run = async (pixels) => { await ready; return session.run(pixels); };
  async function show(pixels) {
    if (!pixels) { // a blank pad: nothing to classify
      e.input.getContext("2d").clearRect(0, 0, W, H);
      e.status.textContent = `Draw a ${noun}.`;
      e.top.replaceChildren();
      return null;
    }
    paintImage(e.input, pixels, 1);
    const values = await run(pixels);
    let previous = pixels;
    layers.forEach((layer, i) => { e.views[i].draw(values[layer.name], previous); previous = values[layer.name]; });
    showAnswer(e.status, e.top, values[layers.at(-1).name], classes);
    tensors = { image: pixels, ...values };
    attack?.aim(values[layers.at(-1).name]);
    for (const panel of details.values()) if (!panel.root.hidden) panel.update(tensors);
    root.dispatchEvent(new CustomEvent("painted", { detail: { pixels, values } }));
    shareExample(pixels, { model, values }); // other widgets (the Grand Tour, the neurons) show the reader's example too
    return values;
  }
  const requestUpdate = latestOnly(() => session, () => show(preprocess(e.pad)));
  e.clear.addEventListener("click", () => { choose(null); pad.clear(); requestUpdate(); });
  acceptImages(root, e.file, async (blob) => {
    try {
      const pixels = await readImage(blob);
      await ready;
      choose(null);
      pad.clear();
      await show(pixels);
    } catch (error) {
      e.status.textContent = `That file could not be read as an image (${error.message}).`;
    }
  });
  // An example picked in another view (a point of the Grand Tour): onto the pad, and run, so the
  // reader can edit it and watch it move in the tour.
  window.addEventListener("layerwise:pick", async ({ detail }) => {
    wake();
    await ready;
    choose(null, detail.label ?? null);
    if (e.drawable) pad.paint(detail.pixels);
    show(Float32Array.from(detail.pixels, (p) => p / 255));
  });
  Promise.all([ready, picked]).then(() => e.picker.firstChild?.pick(true), () => {});
  // The explorer's API, for the page's other widgets, the tests and the bench; `detail(name)`:
  // that layer's detail view (detail.js) once opened.
  return { root, ready, run, show, layers, detail: (name) => details.get(name), size: exampleSize(), readImage, example: () => tensors?.image };
}

// The page's explorers, reachable for tests and for other widgets (e.g. the Grand Tour).
register("explorers", ".layer-explorer", mount);
