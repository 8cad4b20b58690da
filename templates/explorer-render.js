// The layer explorer's renderer: one view per layer (maps as heatmaps, vectors as strips, class
// scores as bars) drawing a given run's outputs, and the words and top classes of its answer.
// Pixels and text only: no inference and no events (explorer.js).

import { pictureGrid } from "./picture-grid.js";
import { diverging, el, paintImage } from "./runtime.js";

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

// A learned filter (in_channels x k x k). Reading the colour image directly (3 input channels),
// it is drawn in colour (each weight mapped to 0..1 over the filter's range); otherwise its
// input-channel slices are tiled in a near-square grid on the diverging scale. Its picture and
// its place in the cell are made with the view (no layout shift); its weights come with the
// model's (paintFilter).
function filterPicture([inputs, k, kw], rgb) {
  if (rgb) return new OffscreenCanvas(kw, k);
  const columns = Math.ceil(Math.sqrt(inputs)), rows = Math.ceil(inputs / columns);
  return new OffscreenCanvas(columns * kw, rows * k);
}

// An empty box in a cell, of a picture's shape, where the layer's grid canvas shows it.
function place(kind, picture, title) {
  const box = el("span", { class: kind, ...(title ? { title } : {}) });
  box.style.aspectRatio = `${picture.width} / ${picture.height}`;
  return box;
}

function paintFilter(canvas, filter, [inputs, k, kw], rgb) {
  if (rgb) {
    let low = Infinity, high = -Infinity;
    for (const v of filter) { low = Math.min(low, v); high = Math.max(high, v); }
    paintImage(canvas, Array.from(filter, (v) => (v - low) / (high - low || 1)), 1, [3, k, kw]);
    return;
  }
  const columns = Math.ceil(Math.sqrt(inputs)), flat = new Float32Array(canvas.width * canvas.height);
  for (let ch = 0; ch < inputs; ch++) for (let y = 0; y < k; y++) for (let x = 0; x < kw; x++) {
    flat[(Math.floor(ch / columns) * k + y) * columns * kw + (ch % columns) * kw + x] = filter[(ch * k + y) * kw + x];
  }
  paintGrid(canvas, flat, 0, canvas.width, canvas.height, maxAbs(filter), null);
}

// One view per layer: maps (C,H,W) as a grid of heatmaps (all on one canvas: picture-grid.js),
// vectors as a strip, class scores as bars.
export function layerView(layer, classes, [C, H, W]) {
  const [a, b, c] = layer.shape;
  const box = el("section", { class: "layer", "data-layer": layer.name },
    el("h3", { class: "layer-name" }, `${layer.name} `, el("span", { class: "layer-type" }, `${layer.type} → ${layer.shape.join("×")}`)));
  if (layer.shape.length === 3) {
    // A 2-D convolution's filters beside its maps: (in, k, k) of its weights (out, in, k, k).
    const kernel = layer.step?.kind === "conv" && layer.step.weights.W?.[1].length === 4 ? layer.step.weights.W[1].slice(1) : null;
    const rgb = kernel?.[0] === 3 && C === 3;
    const cells = Array.from({ length: a }, () => {
      const map = new OffscreenCanvas(c, b), filter = kernel && filterPicture(kernel, rgb);
      const places = { map: place("map", map), filter: filter && place("filter", filter, `learned filter${rgb ? " (colour)" : ""}`) };
      return { cell: el("div", { class: "cell" }, ...(filter ? [places.filter] : []), places.map), map, filter, places };
    });
    const maps = el("div", { class: "maps" }, ...cells.map((x) => x.cell));
    const grid = pictureGrid(maps, `The ${a} ${b}×${c} maps of ${layer.name}` + (kernel ? ", each under the learned filter that makes it" : ""));
    cells.forEach(({ map, filter, places }) => { grid.show(places.map, map); if (filter) grid.show(places.filter, filter); });
    box.append(maps);
    const size = kernel ? kernel.reduce((x, y) => x * y, 1) : 0;
    return { box, draw: (values, previous) => {
      const scale = maxAbs(values);
      cells.forEach(({ map }, i) => paintGrid(map, values, i * b * c, c, b, scale, layer.type === "ReLU" ? previous : null));
      grid.paint(cells.map(({ places }) => places.map));
    }, filters: kernel && ((W) => {
      cells.forEach(({ filter }, i) => paintFilter(filter, W.subarray(i * size, (i + 1) * size), kernel, rgb));
      grid.paint(cells.map(({ places }) => places.filter));
    }) };
  }
  if (a === classes.length) {
    // Probabilities grow from the bottom; scores that can be negative (logits) grow up or down
    // from a zero line through the middle, so a negative score shows as what it is.
    const probabilities = layer.type === "Softmax" || layer.type === "Sigmoid";
    const bars = classes.map((name) => el("div", { class: "bar" },
      el("span", { class: "bar-track" }, el("span", { class: "bar-fill" })), el("span", { class: "bar-label" }, name)));
    box.append(el("div", { class: probabilities ? "bars" : "bars signed" }, ...bars));
    return { box, draw: (values) => {
      const scale = probabilities ? 1 : maxAbs(values);
      let best = 0;
      values.forEach((v, i) => { if (v > values[best]) best = i; });
      bars.forEach((bar, i) => {
        const fill = bar.querySelector(".bar-fill"), size = (100 * Math.abs(values[i])) / scale;
        const below = !probabilities && values[i] < 0;
        fill.style.height = `${probabilities ? size : size / 2}%`;
        fill.style.bottom = below ? "" : probabilities ? "0" : "50%";
        fill.style.top = below ? "50%" : "";
        fill.style.background = values[i] < 0 ? "var(--negative)" : "var(--positive)";
        bar.classList.toggle("best", i === best);
        bar.title = `${classes[i]}: ${values[i].toFixed(3)}`;
      });
    } };
  }
  const rows = a === C * H * W ? C * H : 1; // a flattened image reads best as the image
  const strip = el("canvas", { width: a / rows, height: rows, class: rows > 1 ? "map" : "strip" });
  box.append(strip);
  return { box, draw: (values, previous) => paintGrid(strip, values, 0, a / rows, rows, maxAbs(values), layer.type === "ReLU" ? previous : null) };
}

// The run's answer in words (`status`) and its three likeliest classes (`top`), where the last
// layer gives probabilities (a softmax).
export function showAnswer(status, top, last, classes) {
  const best = last.indexOf(Math.max(...last));
  status.textContent = `The network says: ${classes[best]}.`;
  const probabilities = last.every((p) => p >= 0) && Math.abs(last.reduce((a, b) => a + b, 0) - 1) < 1e-3;
  top.replaceChildren(...(probabilities ? [...last.keys()].sort((a, b) => last[b] - last[a]).slice(0, 3)
    .map((c) => el("li", {}, `${classes[c]} `, el("span", {}, `${(100 * last[c]).toFixed(last[c] > 0.995 ? 1 : 0)}%`))) : []));
}
