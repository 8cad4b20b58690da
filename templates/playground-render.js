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

function paint(canvas, value) { // value(cell) in about [-1, 1]
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(GRID, GRID);
  for (let c = 0; c < GRID * GRID; c++) image.data.set([...diverging(value(c)), 255], 4 * c);
  ctx.putImageData(image, 0, 0);
}

const SVG = "http://www.w3.org/2000/svg";
const colour = (w) => `rgb(${diverging(Math.sign(w)).map(Math.round).join(",")})`;

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
  root.replaceChildren(lines, ...boxes);
  root.columns = { feature: feature.map(([i]) => i), layers, lines };
  return root.columns;
}

// Lines from every drawn neuron to the next column's (the last column's to the output's edge).
function drawLines(root, model, setup, params, { layers, lines }) {
  const { width, layout } = model, box = root.getBoundingClientRect();
  lines.setAttribute("width", String(root.scrollWidth)); lines.setAttribute("height", String(root.scrollHeight));
  const centre = (canvas, side) => {
    const r = canvas.getBoundingClientRect();
    return [(side > 0 ? r.right : r.left) - box.left, r.top + r.height / 2 - box.top];
  };
  const drawn = [];
  const inputsOf = (l) => (l === 0 ? root.columns.feature : layers[l].map((_, j) => j)); // indices into the padded width
  for (let l = 0; l + 1 < layers.length; l++) {
    const base = l * layout.layer_size, rows = inputsOf(l);
    layers[l].forEach((from, a) => layers[l + 1].forEach((to, j) => drawn.push([centre(from, 1), centre(to, -1), params[base + rows[a] * width + j]])));
  }
  const last = layers.length - 1, rows = inputsOf(last), end = [root.scrollWidth, box.height / 2];
  layers[last].forEach((from, a) => drawn.push([centre(from, 1), end, params[layout.output_weights + rows[a]]]));
  while (lines.childElementCount > drawn.length) lines.lastChild.remove();
  while (lines.childElementCount < drawn.length) {
    const line = document.createElementNS(SVG, "line");
    line.append(document.createElementNS(SVG, "title"));
    lines.append(line);
  }
  drawn.forEach(([[x1, y1], [x2, y2], w], i) => {
    const line = lines.children[i];
    for (const [k, v] of Object.entries({ x1, y1, x2, y2, stroke: colour(w), "stroke-width": Math.min(6, 0.5 + 2 * Math.abs(w)) })) line.setAttribute(k, String(v));
    line.firstChild.textContent = `weight ${w.toFixed(3)}`;
  });
}

// The network's heatmaps and lines, and the output's map with the points.
// stage: "post" draws each hidden neuron's output, "pre" its input to the activation.
export function drawNetwork({ root, output, model, setup, params, view, data, onChange, stage = "post" }) {
  const drawnColumns = networkColumns(root, model, setup, onChange), { width, layers } = model;
  drawnColumns.layers[0].forEach((canvas, a) => paint(canvas, (c) => view.features[c * width + drawnColumns.feature[a]] / model.extent));
  const hidden = stage === "pre" ? view.pre : view.hidden; // (cells, layers, width)
  drawnColumns.layers.slice(1).forEach((canvases, l) =>
    canvases.forEach((canvas, j) => paint(canvas, (c) => hidden[(c * layers + l) * width + j])));
  drawLines(root, model, setup, params, drawnColumns);
  drawOutput(output, model, view.output, data);
}

function drawOutput(canvas, model, values, { train, test }) {
  const size = canvas.clientWidth || 240;
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const map = el("canvas", { width: String(GRID), height: String(GRID) });
  paint(map, (c) => values[c]);
  const ctx = canvas.getContext("2d"), scale = size / (2 * model.extent);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(map, 0, 0, size, size);
  const ink = getComputedStyle(canvas).color;
  for (const [points, held] of [[train, false], [test, true]])
    for (const [x1, x2, label] of points) {
      ctx.beginPath();
      ctx.arc((x1 + model.extent) * scale, (model.extent - x2) * scale, held ? 3 : 2.5, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${diverging(label).map(Math.round).join(",")})`;
      ctx.fill();
      ctx.strokeStyle = held ? ink : "rgba(255,255,255,.8)";
      ctx.lineWidth = held ? 1.5 : 0.5;
      ctx.stroke();
    }
  canvas.setAttribute("aria-label", `The network's output over the plane with ${train.length} training points (filled) and ${test.length} held-out ones (outlined)`);
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
