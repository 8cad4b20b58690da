// The playground drawn: every neuron's output over the plane as a small heatmap, the weights as
// lines (width: magnitude, colour: sign; hover one for its value), the output's map large with the
// training points filled and the held-out ones outlined, and the loss curves.
import { diverging, el } from "./runtime.js";

export const GRID = 50; // heatmap cells a side

// The grid's centres as (x1, x2) pairs, row by row from the top (x2 high) of [-extent, extent]².
export function gridPoints(extent) {
  const points = new Float32Array(GRID * GRID * 2);
  for (let i = 0; i < GRID; i++)
    for (let j = 0; j < GRID; j++) {
      points[2 * (i * GRID + j)] = -extent + (2 * extent * (j + 0.5)) / GRID;
      points[2 * (i * GRID + j) + 1] = extent - (2 * extent * (i + 0.5)) / GRID;
    }
  return points;
}

// The colour map as packed RGBA pixels over [-1, 1], built once (in the canvas's own byte order:
// bytes written, then read as 32-bit words): a heatmap's cell is one look-up, not a colour computed.
const LEVELS = 1024;
let palette = null;
function colours() {
  if (palette) return palette;
  const bytes = new Uint8ClampedArray(4 * LEVELS);
  for (let k = 0; k < LEVELS; k++) {
    bytes.set(diverging(-1 + (2 * k) / (LEVELS - 1)), 4 * k);
    bytes[4 * k + 3] = 255;
  }
  palette = new Uint32Array(bytes.buffer);
  return palette;
}

// Each canvas's context and pixels, made once and reused every frame.
const surfaces = new WeakMap();
function surface(canvas) {
  if (!surfaces.has(canvas)) {
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(GRID, GRID);
    surfaces.set(canvas, { ctx, image, pixels: new Uint32Array(image.data.buffer) });
  }
  return surfaces.get(canvas);
}

// A GRID x GRID heatmap of values[start + c * stride] * scale (about [-1, 1]) for each cell c.
function paint(canvas, values, start, stride, scale = 1) {
  const { ctx, image, pixels } = surface(canvas), lut = colours(), top = LEVELS - 1, half = top / 2;
  for (let c = 0, i = start; c < GRID * GRID; c++, i += stride) {
    const t = values[i] * scale;
    pixels[c] = lut[t >= 1 ? top : t <= -1 ? 0 : Math.round((t + 1) * half)];
  }
  ctx.putImageData(image, 0, 0);
}

const SVG = "http://www.w3.org/2000/svg";
const strokes = new Map(); // by sign: -1, 0, 1
const colour = (sign) => strokes.get(sign) ?? strokes.set(sign, `rgb(${diverging(sign).map(Math.round).join(",")})`).get(sign);

// Columns of neurons, rebuilt only when the architecture changes: [canvases per column].
export function networkColumns(root, model, setup, onChange) {
  const key = `${setup.features}|${setup.layers}`;
  if (root.dataset.architecture === key) return root.columns;
  root.dataset.architecture = key;
  const names = Object.keys(model.features);
  const feature = setup.features.map((name) => [names.indexOf(name), model.features[name]]);
  const neuron = (label) => el("canvas", { class: "playground-neuron", width: String(GRID), height: String(GRID), role: "img", "aria-label": label, title: label });
  const layers = [feature.map(([, label]) => neuron(`input ${label}`))];
  const boxes = [el("div", { class: "playground-column" }, el("span", {}, "input"), ...layers[0])];
  setup.layers.forEach((count, l) => {
    const canvases = Array.from({ length: count }, (_, j) => neuron(`layer ${l + 1}, neuron ${j + 1}`));
    const more = el("button", { type: "button", "aria-label": `Add a neuron to layer ${l + 1}` }, "+");
    const fewer = el("button", { type: "button", "aria-label": `Remove a neuron from layer ${l + 1}` }, "−");
    more.disabled = count >= model.width; fewer.disabled = count <= 1;
    const set = (n) => onChange({ layers: setup.layers.map((c, i) => (i === l ? n : c)) });
    more.addEventListener("click", () => set(count + 1));
    fewer.addEventListener("click", () => set(count - 1));
    layers.push(canvases);
    boxes.push(el("div", { class: "playground-column" }, el("span", { class: "figure-buttons" }, fewer, more), el("span", {}, `${count} neurons`), ...canvases));
  });
  const lines = document.createElementNS(SVG, "svg");
  lines.setAttribute("class", "playground-lines");
  lines.setAttribute("aria-hidden", "true");
  // Empty until laid out: an SVG's default 300x150 widened the box layLines measures, so the
  // lines of a network narrower than that (no hidden layer) ran on under the answer.
  lines.setAttribute("width", "0"); lines.setAttribute("height", "0");
  shownWeights(lines);
  root.replaceChildren(lines, ...boxes);
  root.columns = { feature: feature.map(([i]) => i), layers, lines };
  return root.columns;
}

// Lines from every drawn neuron to the next column's (the last column's to the output's edge),
// each with the parameter it shows: laid out when the columns are built or their box changes
// size (not every frame, and not when a hovered neuron grows).
function layLines(root, model, { layers, lines, feature }) {
  const size = `${root.scrollWidth}x${root.scrollHeight}`;
  if (lines.laidOut === size) return;
  lines.laidOut = size;
  // In the columns' own coordinates: the lines scroll with them, so a box scrolled sideways (a
  // phone's, when a neuron is added at its far end) adds back what it has scrolled.
  const { width, layout } = model, rect = root.getBoundingClientRect();
  const box = { left: rect.left - root.scrollLeft, top: rect.top - root.scrollTop, height: rect.height };
  lines.setAttribute("width", String(root.scrollWidth)); lines.setAttribute("height", String(root.scrollHeight));
  const centre = (canvas, side) => {
    const r = canvas.getBoundingClientRect();
    return [(side > 0 ? r.right : r.left) - box.left, r.top + r.height / 2 - box.top];
  };
  const drawn = [];
  const inputsOf = (l) => (l === 0 ? feature : layers[l].map((_, j) => j)); // indices into the padded width
  for (let l = 0; l + 1 < layers.length; l++) {
    const base = l * layout.layer_size, rows = inputsOf(l);
    layers[l].forEach((from, a) => layers[l + 1].forEach((to, j) => drawn.push([centre(from, 1), centre(to, -1), base + rows[a] * width + j])));
  }
  const last = layers.length - 1, rows = inputsOf(last), end = [root.scrollWidth, box.height / 2];
  layers[last].forEach((from, a) => drawn.push([centre(from, 1), end, layout.output_weights + rows[a]]));
  while (lines.childElementCount > drawn.length) lines.lastChild.remove();
  while (lines.childElementCount < drawn.length) {
    const line = document.createElementNS(SVG, "line");
    line.append(document.createElementNS(SVG, "title"));
    lines.append(line);
  }
  drawn.forEach(([[x1, y1], [x2, y2], parameter], i) => {
    const line = lines.children[i];
    for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) line.setAttribute(k, String(v));
    line.parameter = parameter;
  });
}

// Each line's colour (the weight's sign) and width (its magnitude), written where they changed;
// its title (the weight) is written when the pointer comes over it (shownWeights).
function drawLines(lines, params) {
  lines.params = params;
  for (const line of lines.children) {
    const w = params[line.parameter], sign = Math.sign(w), width = Math.min(6, 0.5 + 2 * Math.abs(w)).toFixed(1); // (to a tenth of a pixel: finer is not seen)
    if (line.shownSign !== sign) { line.setAttribute("stroke", colour(sign)); line.shownSign = sign; }
    if (line.shownWidth !== width) { line.setAttribute("stroke-width", width); line.shownWidth = width; }
  }
}

// Hovering a line shows its weight now.
function shownWeights(lines) {
  lines.addEventListener("pointerover", (event) => {
    const line = event.target.closest("line");
    if (line && lines.params) line.firstChild.textContent = `weight ${lines.params[line.parameter].toFixed(3)}`;
  });
}

// The network's heatmaps and lines, and the output's map with the points.
// stage: "post" draws each hidden neuron's output, "pre" its input to the activation.
export function drawNetwork({ root, output, model, setup, params, view, data, onChange, stage = "post" }) {
  const drawnColumns = networkColumns(root, model, setup, onChange), { width, layers } = model;
  // The inputs' maps are the features over the grid, the same every frame: painted once per columns.
  if (!drawnColumns.inputsPainted) {
    drawnColumns.layers[0].forEach((canvas, a) => paint(canvas, view.features, drawnColumns.feature[a], width, 1 / model.extent));
    drawnColumns.inputsPainted = true;
  }
  const hidden = stage === "pre" ? view.pre : view.hidden; // (cells, layers, width)
  drawnColumns.layers.slice(1).forEach((canvases, l) =>
    canvases.forEach((canvas, j) => paint(canvas, hidden, l * width + j, layers * width)));
  drawOutput(output, model, view.output, data); // (it reads the style, layLines the layout: both before drawLines writes)
  layLines(root, model, drawnColumns);
  drawLines(drawnColumns.lines, params);
}

// What an output canvas keeps between frames: its GRID x GRID map, drawn enlarged, and its points
// (training filled, held-out outlined), drawn again only for new points, a new size or a new ink
// (a change of colour scheme): they do not move while the network trains.
const kept = new WeakMap();
function layersOf(canvas) {
  if (!kept.has(canvas)) kept.set(canvas, { map: el("canvas", { width: String(GRID), height: String(GRID) }), points: el("canvas"), drawn: null });
  return kept.get(canvas);
}

// `ratio`: device pixels per CSS pixel (a dot keeps its CSS size on a sharper screen).
function drawPoints(layer, model, { train, test }, size, ink, ratio) {
  layer.width = size; layer.height = size;
  const ctx = layer.getContext("2d"), scale = size / (2 * model.extent);
  for (const [points, held] of [[train, false], [test, true]])
    for (const [x1, x2, label] of points) {
      ctx.beginPath();
      ctx.arc((x1 + model.extent) * scale, (model.extent - x2) * scale, (held ? 3 : 2.5) * ratio, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${diverging(label).map(Math.round).join(",")})`;
      ctx.fill();
      ctx.strokeStyle = held ? ink : "rgba(255,255,255,.8)";
      ctx.lineWidth = (held ? 1.5 : 0.5) * ratio;
      ctx.stroke();
    }
}

// Drawn at the device's resolution (its CSS size unchanged): a phone's 2 or 3 device pixels per
// CSS pixel otherwise blur the map's edges and the points.
function drawOutput(canvas, model, values, data) {
  const ratio = window.devicePixelRatio || 1, size = Math.round((canvas.clientWidth || 240) * ratio);
  const ink = getComputedStyle(canvas).color, layers = layersOf(canvas);
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  if (layers.drawn?.data !== data || layers.drawn.size !== size || layers.drawn.ink !== ink) {
    drawPoints(layers.points, model, data, size, ink, ratio);
    layers.drawn = { data, size, ink };
    canvas.setAttribute("aria-label", `The network's output over the plane with ${data.train.length} training points (filled) and ${data.test.length} held-out ones (outlined)`);
  }
  paint(layers.map, values, 0, 1);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(layers.map, 0, 0, size, size);
  ctx.drawImage(layers.points, 0, 0);
}

// Train (solid) and test (dashed) loss by epoch.
export function drawLoss(canvas, losses) {
  const ctx = canvas.getContext("2d"), { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (losses.length < 2) return;
  const top = Math.max(...losses.flat(), 1e-9), ink = getComputedStyle(canvas).color;
  [0, 1].forEach((k) => {
    ctx.beginPath();
    ctx.setLineDash(k ? [4, 3] : []);
    losses.forEach((pair, i) => ctx.lineTo((i / (losses.length - 1)) * width, height - (pair[k] / top) * (height - 2) - 1));
    ctx.strokeStyle = ink;
    ctx.stroke();
  });
}

// The two labels' names (an author's points name them), each beside its colour: -1 then +1.
export function drawLabels(node, names) {
  node.hidden = !names;
  if (!names) return;
  const swatch = (value) => el("span", { class: "playground-swatch", style: `background: rgb(${diverging(value).map(Math.round).join(",")})` });
  node.replaceChildren("labels: ", swatch(-1), ` ${names[0]} `, swatch(1), ` ${names[1]}`);
}
