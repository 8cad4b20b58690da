// The layer explorer: the reader draws a digit (or picks a test digit), onnxruntime-web runs the
// exported model in the page, and every layer's output is drawn. Nothing here knows the
// architecture: layer names, types and shapes come from the build (data-layers).

import { diverging, el, loadRuntime, paintDigit, whenNear } from "./runtime.js";

const SIDE = 28;

// --- MNIST-style preprocessing: crop to the ink, fit into 20x20, centre by mass in 28x28 ------

function inkBounds(image) {
  const { width, height, data } = image;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (data[4 * (y * width + x) + 3] > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

export function preprocess(pad) {
  const ink = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height);
  const box = inkBounds(ink);
  const pixels = new Float32Array(SIDE * SIDE);
  if (!box) return pixels;
  const scale = 20 / Math.max(box.w, box.h);
  const w = Math.max(1, Math.round(box.w * scale)), h = Math.max(1, Math.round(box.h * scale));
  const fitted = new OffscreenCanvas(w, h).getContext("2d", { willReadFrequently: true });
  fitted.imageSmoothingQuality = "high"; // anti-aliased, like MNIST's own downscaling
  fitted.drawImage(pad, box.x, box.y, box.w, box.h, 0, 0, w, h);
  const alpha = fitted.getImageData(0, 0, w, h).data;
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = alpha[4 * (y * w + x) + 3] / 255;
      mass += v; mx += v * x; my += v * y;
    }
  const dx = Math.round(SIDE / 2 - mx / mass - 0.5), dy = Math.round(SIDE / 2 - my / mass - 0.5);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const tx = x + dx, ty = y + dy;
      if (tx >= 0 && tx < SIDE && ty >= 0 && ty < SIDE) pixels[ty * SIDE + tx] = alpha[4 * (y * w + x) + 3] / 255;
    }
  return pixels;
}

// --- drawing values -------------------------------------------------------------------------

// Diverging: negative blue, zero white, positive red; `zeroed` (what a ReLU cut) in grey.
function colour(v, scale, zeroed) {
  return zeroed ? [200, 200, 200] : diverging(v / scale);
}

function paintGrid(canvas, values, offset, width, height, scale, zeroedBy) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = values[offset + i];
    const [r, g, b] = colour(v, scale, zeroedBy && v === 0 && zeroedBy[offset + i] < 0);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

function maxAbs(values) {
  let m = 1e-9;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

// A learned filter (in_channels x k x k): its input-channel slices tiled in a near-square grid.
function filterCanvas(filter) {
  const k = filter[0].length, columns = Math.ceil(Math.sqrt(filter.length));
  const rows = Math.ceil(filter.length / columns);
  const canvas = el("canvas", { width: columns * k, height: rows * k, class: "filter", title: "learned filter" });
  const flat = new Float32Array(columns * k * rows * k).fill(NaN);
  filter.forEach((slice, ch) => slice.forEach((row, y) => row.forEach((v, x) => {
    flat[(Math.floor(ch / columns) * k + y) * columns * k + (ch % columns) * k + x] = v;
  })));
  const scale = maxAbs(flat.filter((v) => !Number.isNaN(v)));
  paintGrid(canvas, flat.map((v) => (Number.isNaN(v) ? 0 : v)), 0, columns * k, rows * k, scale, null);
  return canvas;
}

// One view per layer: maps (C,H,W) as a grid of heatmaps, vectors as a strip, class scores as bars.
function layerView(layer, classes) {
  const [a, b, c] = layer.shape;
  const box = el("section", { class: "layer", "data-layer": layer.name },
    el("h4", {}, `${layer.name} `, el("span", { class: "layer-type" }, `${layer.type} → ${layer.shape.join("×")}`)));
  if (layer.shape.length === 3) {
    const cells = Array.from({ length: a }, (_, i) => {
      const map = el("canvas", { width: c, height: b, class: "map" });
      const cell = el("div", { class: "cell" });
      if (layer.filters) cell.append(filterCanvas(layer.filters[i]));
      cell.append(map);
      return { cell, map };
    });
    box.append(el("div", { class: "maps" }, ...cells.map((x) => x.cell)));
    return { box, draw: (values, previous) => {
      const scale = maxAbs(values);
      cells.forEach(({ map }, i) => paintGrid(map, values, i * b * c, c, b, scale, layer.type === "ReLU" ? previous : null));
    } };
  }
  if (a === classes.length) {
    const bars = classes.map((name) => el("div", { class: "bar" }, el("span", { class: "bar-fill" }), el("span", { class: "bar-label" }, name)));
    box.append(el("div", { class: "bars" }, ...bars));
    const probabilities = layer.type === "Softmax" || layer.type === "Sigmoid";
    return { box, draw: (values) => {
      const scale = probabilities ? 1 : maxAbs(values);
      let best = 0;
      values.forEach((v, i) => { if (v > values[best]) best = i; });
      bars.forEach((bar, i) => {
        const fill = bar.firstChild;
        fill.style.height = `${Math.max(0, (100 * values[i]) / scale)}%`;
        fill.style.background = values[i] < 0 ? "var(--negative)" : "var(--positive)";
        bar.classList.toggle("best", i === best);
        bar.title = `${classes[i]}: ${values[i].toFixed(3)}`;
      });
    } };
  }
  const rows = a === SIDE * SIDE ? SIDE : 1; // a flattened image reads best as the image
  const strip = el("canvas", { width: a / rows, height: rows, class: rows > 1 ? "map" : "strip" });
  box.append(strip);
  return { box, draw: (values, previous) => paintGrid(strip, values, 0, a / rows, rows, maxAbs(values), layer.type === "ReLU" ? previous : null) };
}

// --- the widget -----------------------------------------------------------------------------

async function mount(root) {
  const layers = JSON.parse(root.dataset.layers);
  const digits = await (await fetch(root.dataset.digits)).json();
  const classes = digits.classes;

  const status = el("p", { class: "status", role: "status" }, "The network runs in your browser once you scroll here.");
  const pad = el("canvas", { width: 280, height: 280, class: "pad", "aria-label": "Drawing pad: draw a digit with mouse, finger or pen" });
  const clear = el("button", { type: "button" }, "Clear");
  const input = el("canvas", { width: SIDE, height: SIDE, class: "map input-view", "aria-label": "The 28×28 input the model sees" });
  const picker = el("div", { class: "picker", role: "group", "aria-label": "Pick a held-out test digit (outlined: ones the model gets wrong)" });
  const views = layers.map((layer) => layerView(layer, classes));
  root.append(
    el("div", { class: "explorer-input" }, pad, el("div", { class: "pad-controls" }, clear, el("span", {}, "what the model sees:"), input), picker, status),
    el("div", { class: "explorer-layers" }, ...views.map((v) => v.box)));

  digits.pixels.forEach((pixels, i) => {
    const thumb = el("canvas", { width: SIDE, height: SIDE });
    paintDigit(thumb, pixels);
    const wrong = digits.predictions[i] !== digits.labels[i];
    const label = `test digit ${i + 1}, labelled ${classes[digits.labels[i]]}` +
      (wrong ? `, which the trained model takes for ${classes[digits.predictions[i]]}` : "");
    const button = el("button", { type: "button", "aria-label": label, title: label, class: wrong ? "wrong" : "" }, thumb);
    button.addEventListener("click", () => show(Float32Array.from(pixels, (p) => p / 255)));
    picker.append(button);
  });

  let session = null;
  const ready = (async () => {
    await whenNear(root);
    status.textContent = "Loading the network runtime…";
    const ort = await loadRuntime((got, total) => {
      status.textContent = `Loading the network runtime… ${Math.round(got / 1e6)} of ${Math.round(total / 1e6) || "?"} MB`;
    });
    session = await ort.InferenceSession.create(new URL(root.dataset.model, document.baseURI).href,
      { executionProviders: ["wasm"] });
    status.textContent = "Ready: draw a digit or pick one.";
    return ort;
  })();
  ready.catch((e) => {
    status.textContent = `The live network cannot run here (${e.message}). The figures above still show what it learned.`;
    root.classList.add("unavailable");
  });

  async function run(pixels) {
    const ort = await ready;
    const outputs = await session.run({ image: new ort.Tensor("float32", pixels, [1, 1, SIDE, SIDE]) });
    return Object.fromEntries(layers.map((l) => [l.name, outputs[l.name].data]));
  }

  async function show(pixels) {
    paintDigit(input, pixels, 1);
    const values = await run(pixels);
    let previous = pixels;
    layers.forEach((layer, i) => { views[i].draw(values[layer.name], previous); previous = values[layer.name]; });
    const last = values[layers.at(-1).name];
    const best = last.indexOf(Math.max(...last));
    status.textContent = `The network says: ${classes[best]}.`;
    root.dispatchEvent(new CustomEvent("painted", { detail: { pixels, values } }));
    // Other widgets (the Grand Tour) show the reader's digit too.
    window.dispatchEvent(new CustomEvent("layerwise:drawn", { detail: { pixels } }));
    return values;
  }

  // Live while drawing: the first change in a frame runs at once (so it shows in the very next
  // frame), later ones in that frame wait for it; at most one run is in flight and one pending,
  // so a fast stroke never queues up stale inference runs.
  let running = false, frameBusy = false, dirty = false;
  function requestUpdate() {
    if (!session) return;
    if (running || frameBusy) { dirty = true; return; }
    running = frameBusy = true;
    dirty = false;
    requestAnimationFrame(() => { frameBusy = false; if (dirty && !running) requestUpdate(); });
    show(preprocess(pad)).finally(() => { running = false; if (dirty && !frameBusy) requestUpdate(); });
  }

  const ctx = pad.getContext("2d");
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.lineWidth = 22;
  ctx.strokeStyle = "#111";
  let last = null;
  function point(event) {
    const r = pad.getBoundingClientRect();
    return [(event.clientX - r.left) * (pad.width / r.width), (event.clientY - r.top) * (pad.height / r.height)];
  }
  pad.addEventListener("pointerdown", (e) => { pad.setPointerCapture(e.pointerId); last = point(e); stroke(e); });
  pad.addEventListener("pointermove", (e) => { if (last) stroke(e); });
  for (const end of ["pointerup", "pointercancel"]) pad.addEventListener(end, () => { last = null; });
  function stroke(e) {
    const p = point(e);
    ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
    last = p;
    requestUpdate();
  }
  clear.addEventListener("click", () => { ctx.clearRect(0, 0, pad.width, pad.height); requestUpdate(); });

  ready.then(() => picker.firstChild?.click(), () => {});
  return { root, ready, run, show, layers };
}

// The page's widgets, reachable for tests and for other widgets (e.g. the Grand Tour).
window.layerwise = window.layerwise || {};
window.layerwise.explorers = [...document.querySelectorAll(".layer-explorer")].map(mount);
