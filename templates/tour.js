// The Grand Tour (Li, Zhao & Scheidegger, Distill 2020) of every layer at every epoch.
// Points are the recorded activations of a fixed sample of held-out examples (reduced to n
// dimensions by the build); a smooth rotation of n-D space shows them from every angle.
// Drawn on a plain 2-D canvas: here it ran twice as fast as Plotly's WebGL scatter.

import { register } from "./lifecycle.js";
import { contract, el, fetchBytes, loadRuntime, loadSample, paintImage, sitePath } from "./runtime.js";

// --- the rotation: an n x n orthonormal matrix, moved along the torus Grand Tour ----------

export class Rotation {
  constructor(n, seed = 1) {
    this.n = n;
    this.matrix = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => +(i === j)));
    // One angular speed per plane (i, j); random and distinct, so the walk never repeats.
    let state = seed;
    const random = () => ((state = (state * 16807) % 2147483647) / 2147483647);
    this.planes = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) this.planes.push([i, j, random() * 2 - 1]);
  }

  // Advance by `dt` (seconds x speed): multiply by a Givens rotation in every plane.
  step(dt) {
    const m = this.matrix;
    for (const [i, j, speed] of this.planes) {
      const c = Math.cos(speed * dt), s = Math.sin(speed * dt);
      for (const row of m) {
        const a = row[i], b = row[j];
        row[i] = c * a - s * b;
        row[j] = s * a + c * b;
      }
    }
    this.orthonormalize();
  }

  // Gram-Schmidt over the columns, keeping rounding errors from piling up.
  orthonormalize() {
    const m = this.matrix, n = this.n;
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += m[i][j] * m[i][k];
        for (let i = 0; i < n; i++) m[i][j] -= dot * m[i][k];
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += m[i][j] * m[i][j];
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < n; i++) m[i][j] /= norm;
    }
  }

  // Where basis vector `axis` lands on screen (in the unit disk).
  handle(axis) { return [this.matrix[axis][0], this.matrix[axis][1]]; }

  // Direct manipulation: put basis vector `axis` at (x, y), then restore orthonormality.
  drag(axis, x, y) {
    const r = Math.hypot(x, y), limit = 0.98;
    if (r > limit) { x *= limit / r; y *= limit / r; }
    this.matrix[axis][0] = x;
    this.matrix[axis][1] = y;
    this.orthonormalize();
  }

  maxError() {
    let worst = 0;
    for (let a = 0; a < this.n; a++)
      for (let b = 0; b < this.n; b++) {
        let dot = 0;
        for (let i = 0; i < this.n; i++) dot += this.matrix[i][a] * this.matrix[i][b];
        worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
      }
    return worst;
  }
}

// --- data -----------------------------------------------------------------------------------

function float16ToFloat32(bits) {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i], sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    out[i] = exponent === 0 ? sign * 2 ** -14 * (fraction / 1024)
      : exponent === 31 ? (fraction ? NaN : sign * Infinity)
      : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return out;
}

// Top-2 principal directions of (count x dims) points, by power iteration on the covariance.
function principalPlane(values, count, dims) {
  const mean = new Float64Array(dims);
  for (let p = 0; p < count; p++) for (let d = 0; d < dims; d++) mean[d] += values[p * dims + d] / count;
  const cov = Array.from({ length: dims }, () => new Float64Array(dims));
  for (let p = 0; p < count; p++)
    for (let a = 0; a < dims; a++) {
      const va = values[p * dims + a] - mean[a];
      for (let b = 0; b < dims; b++) cov[a][b] += va * (values[p * dims + b] - mean[b]);
    }
  const directions = [];
  for (let k = 0; k < 2; k++) {
    let v = Float64Array.from({ length: dims }, (_, i) => 1 + i * 0.01);
    for (let iter = 0; iter < 100; iter++) {
      const w = new Float64Array(dims);
      for (let a = 0; a < dims; a++) for (let b = 0; b < dims; b++) w[a] += cov[a][b] * v[b];
      for (const u of directions) { const dot = w.reduce((s, x, i) => s + x * u[i], 0); w.forEach((_, i) => (w[i] -= dot * u[i])); }
      const norm = Math.hypot(...w) || 1;
      v = w.map((x) => x / norm);
    }
    directions.push(v);
  }
  return { mean, directions };
}

// --- the widget -----------------------------------------------------------------------------


function sprite(colour, radius) {
  const size = 2 * radius + 2;
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = colour;
  ctx.beginPath();
  ctx.arc(size / 2, size / 2, radius, 0, 2 * Math.PI);
  ctx.fill();
  return canvas;
}

async function mount(root, near) {
  await near;
  const model = root.dataset.model;
  const { dataset: { classes, noun, shape }, palette: COLOURS } = contract();
  const { meta, labels, predictions, thumbnail } = await loadSample(model);
  const { n, epochs } = meta;
  const dims = Math.max(...meta.layers.map((l) => l.dims));
  const rotation = new Rotation(dims);

  // Per layer: Float32Array (epochs x n x dims), fetched when first shown.
  const layerValues = new Map();
  function loadLayer(index) {
    if (!layerValues.has(index)) {
      const layer = meta.layers[index];
      layerValues.set(index, fetchBytes(sitePath("tour_layer", { model, layer: layer.name }))
        .then((buffer) => float16ToFloat32(new Uint16Array(buffer))));
    }
    return layerValues.get(index);
  }

  // --- controls
  const canvas = el("canvas", { class: "tour-canvas", role: "img", tabindex: "0" });
  // A layer's axes: its classes (logits, softmax), principal components, or units.
  const axesNamedByClass = (info) => !info.reduced && info.dims === classes.length;
  const axisName = (info, a) => (axesNamedByClass(info) ? classes[a] : info.reduced ? `PC${a + 1}` : `unit ${a + 1}`);
  const describe = (info) => `Grand Tour of layer ${info.name} at epoch ${Math.round(epochNow)} of ${epochs - 1}: ` +
    `each dot is a held-out ${noun}, coloured by its label, in a rotating 2-D view. Keys: arrows steer the axis ` +
    `${axisName(info, steered % info.dims)}, [ and ] choose another axis, Space plays or pauses.`;
  const side = el("canvas", { class: "tour-side", role: "img", "aria-label": "The same layer under PCA" });
  const tooltip = el("div", { class: "tour-tooltip", hidden: "" });
  const thumb = el("canvas", { width: shape[2], height: shape[1] });
  const tipText = el("span");
  tooltip.append(thumb, tipText);
  // Under prefers-reduced-motion the tour starts still; the reader presses Play.
  const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
  const play = el("button", { type: "button", "aria-pressed": String(!still) }, still ? "Play" : "Pause");
  const speed = el("input", { type: "range", min: "0", max: "3", step: "0.1", value: "1", "aria-label": "Rotation speed" });
  const epoch = el("input", { type: "range", min: "0", max: String(epochs - 1), step: "1", value: String(Math.min(Number(root.dataset.epoch), epochs - 1)), "aria-label": "Epoch" });
  const epochLabel = el("output");
  const playEpochs = el("button", { type: "button" }, "Play training");
  const layer = el("input", { type: "range", min: "0", max: String(meta.layers.length - 1), step: "1",
    value: String(Math.max(0, meta.layers.findIndex((l) => l.name === root.dataset.layer))), "aria-label": "Layer" });
  const layerLabel = el("output");
  const highlight = el("select", { "aria-label": "Highlight a class" },
    el("option", { value: "" }, "all classes"), ...classes.map((c, i) => el("option", { value: String(i) }, `only ${c}`)));
  const mistakes = el("input", { type: "checkbox" });
  const legend = el("div", { class: "tour-legend" }, ...classes.map((c, i) => {
    const item = el("button", { type: "button", style: `--colour: ${COLOURS[i]}`, "aria-label": `highlight ${c}` }, c);
    item.addEventListener("click", () => { highlight.value = highlight.value === String(i) ? "" : String(i); draw(true); });
    return item;
  }));
  const status = el("p", { class: "tour-status", role: "status" });
  root.append(
    el("div", { class: "tour-views" }, el("div", { class: "tour-main" }, canvas, tooltip),
      el("div", { class: "tour-side-wrap" }, side, el("p", {}, "The same layer and epoch under PCA"))),
    el("div", { class: "tour-controls" },
      play, el("label", {}, "speed ", speed),
      el("label", {}, "epoch ", epoch, epochLabel), playEpochs,
      el("label", {}, "layer ", layer, layerLabel),
      el("label", {}, highlight),
      el("label", {}, mistakes, ` ring the ${noun}s the network gets wrong`),
      legend, status));

  // --- state
  let playing = !still, epochTarget = Number(epoch.value), epochNow = epochTarget;
  // Rings and the reader's point in the page's own text colour, so dark mode keeps them visible.
  let ink = getComputedStyle(root).color, paper = getComputedStyle(document.body).backgroundColor;
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    ink = getComputedStyle(root).color; paper = getComputedStyle(document.body).backgroundColor; draw(true);
  });
  let shownLayer = Number(layer.value), fromLayer = shownLayer, transition = 1;
  let positions = new Float32Array(0), fromPositions = new Float32Array(0), count = n, synthetic = null;
  let reader = null; // {layerIndex, epoch, point: Float32Array(dims)} for the reader's digit
  let dragging = -1, frames = 0, last = performance.now(), steered = 0; // steered: the keyboard's axis
  const sprites = COLOURS.map((c) => sprite(c, 2.5));
  const dim = COLOURS.map((c) => sprite(c + "33", 2.5));
  const loaded = await Promise.all([loadLayer(shownLayer)]);
  const current = { values: loaded[0], from: loaded[0] };

  function size() {
    const ratio = window.devicePixelRatio || 1;
    for (const c of [canvas, side]) {
      const box = c.getBoundingClientRect();
      c.width = Math.max(1, Math.round(box.width * ratio));
      c.height = Math.max(1, Math.round(box.height * ratio));
    }
    sidePlane = null;
  }
  new ResizeObserver(() => { size(); draw(true); }).observe(canvas);

  // A 2-D view of n-D points shows about sqrt(2/n) of their spread: zoom PCA-reduced layers so
  // the cloud fills the view. Layers kept as they are (logits, softmax) are not zoomed, so a
  // class's points sit at its axis handle.
  const zoom = (layerInfo) => (layerInfo.reduced ? Math.sqrt(layerInfo.dims / 2) * 0.75 : 1);

  // Where a fractional epoch falls between the recorded ones, and the cloud's spread there.
  function coordinates(layerInfo, e) {
    const e0 = Math.floor(e), e1 = Math.min(e0 + 1, epochs - 1), t = e - e0;
    const scale = (1 - t) * layerInfo.scale[e0] + t * layerInfo.scale[e1] || 1;
    return { e0, e1, t, scale, d: layerInfo.dims };
  }

  function project(values, layerInfo, e, out) {
    const { e0, e1, t, d, scale: spread } = coordinates(layerInfo, e);
    const scale = spread / zoom(layerInfo);
    const m = rotation.matrix, o0 = e0 * count * d, o1 = e1 * count * d;
    for (let p = 0; p < count; p++) {
      let x = 0, y = 0;
      for (let k = 0; k < d; k++) {
        const v = (1 - t) * values[o0 + p * d + k] + t * values[o1 + p * d + k];
        x += v * m[k][0];
        y += v * m[k][1];
      }
      out[2 * p] = x / scale;
      out[2 * p + 1] = y / scale;
    }
  }

  let sidePlane = null;
  function drawSide() {
    const info = meta.layers[shownLayer], d = info.dims, e = Math.round(epochNow);
    const values = current.values.subarray(e * count * d, (e + 1) * count * d);
    if (!sidePlane || sidePlane.key !== `${shownLayer}/${e}`) {
      const plane = principalPlane(values, count, d);
      let extent = 1e-9;
      const pts = new Float32Array(2 * count);
      for (let p = 0; p < count; p++)
        for (let k = 0; k < 2; k++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += (values[p * d + j] - plane.mean[j]) * plane.directions[k][j];
          pts[2 * p + k] = s;
          extent = Math.max(extent, Math.abs(s));
        }
      sidePlane = { key: `${shownLayer}/${e}`, pts, extent };
      const ctx = side.getContext("2d");
      ctx.clearRect(0, 0, side.width, side.height);
      const r = Math.min(side.width, side.height) / 2 - 4;
      for (let p = 0; p < count; p++)
        ctx.drawImage(sprites[labels[p % n]], side.width / 2 + (pts[2 * p] / extent) * r - 3, side.height / 2 - (pts[2 * p + 1] / extent) * r - 3);
    }
  }

  function radius() { return Math.min(canvas.width, canvas.height) / 2 - 16; }

  function draw(force = false) {
    const now = performance.now(), dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    if (playing && dragging < 0) rotation.step(dt * Number(speed.value) * 0.6);
    if (epochNow !== epochTarget) {
      const stepBy = dt * 4;
      epochNow = Math.abs(epochTarget - epochNow) <= stepBy ? epochTarget : epochNow + Math.sign(epochTarget - epochNow) * stepBy;
    }
    transition = Math.min(1, transition + dt * 2);
    if (positions.length !== 2 * count) {
      positions = new Float32Array(2 * count);
      fromPositions = new Float32Array(2 * count);
    }
    const info = meta.layers[shownLayer];
    if (transition < 1) {
      // Smooth, aligned layer change: both layers under the same rotation, blended.
      project(current.from, meta.layers[fromLayer], epochNow, fromPositions);
      project(current.values, info, epochNow, positions);
      const t = transition * transition * (3 - 2 * transition);
      for (let i = 0; i < positions.length; i++) positions[i] = (1 - t) * fromPositions[i] + t * positions[i];
    } else {
      project(current.values, info, epochNow, positions);
    }
    const ctx = canvas.getContext("2d");
    const cx = canvas.width / 2, cy = canvas.height / 2, r = radius();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const only = highlight.value === "" ? -1 : Number(highlight.value);
    const predicted = predictions(Math.round(epochNow));
    for (let p = 0; p < count; p++) {
      const label = labels[p % n];
      const image = only < 0 || only === label ? sprites[label] : dim[label];
      ctx.drawImage(image, cx + positions[2 * p] * r - 3.5, cy - positions[2 * p + 1] * r - 3.5);
    }
    if (mistakes.checked && !synthetic) {
      ctx.strokeStyle = ink;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let p = 0; p < n; p++)
        if (predicted[p] !== labels[p]) {
          ctx.moveTo(cx + positions[2 * p] * r + 5, cy - positions[2 * p + 1] * r);
          ctx.arc(cx + positions[2 * p] * r, cy - positions[2 * p + 1] * r, 5, 0, 2 * Math.PI);
        }
      ctx.stroke();
    }
    // Handles: the projected axes (a class in the logits and the softmax, a principal component
    // in reduced layers, a unit in other narrow ones).
    ctx.font = `${12 * (window.devicePixelRatio || 1)}px system-ui, sans-serif`;
    const axesAreClasses = axesNamedByClass(info);
    for (let a = 0; a < info.dims; a++) {
      const [hx, hy] = rotation.handle(a);
      const x = cx + hx * r, y = cy - hy * r;
      ctx.strokeStyle = axesAreClasses ? COLOURS[a] : "#888";
      ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(x, y); ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText(axisName(info, a), x + 4, y - 4);
    }
    if (reader && reader.layerIndex === shownLayer && reader.epoch === Math.round(epochNow)) {
      let x = 0, y = 0;
      for (let k = 0; k < info.dims; k++) { x += reader.point[k] * rotation.matrix[k][0]; y += reader.point[k] * rotation.matrix[k][1]; }
      const s = coordinates(info, epochNow).scale / zoom(info);
      const px = cx + (x / s) * r, py = cy - (y / s) * r;
      ctx.fillStyle = ink; ctx.strokeStyle = paper; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(px, py, 8, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      ctx.fillText(`your ${noun}`, px + 10, py + 4);
      root.dataset.readerPoint = `${px.toFixed(1)},${py.toFixed(1)}`;
    }
    labelView(info);
    drawSide();
    frames++;
    if (!force || playing) root.dataset.frames = String(frames);
  }

  // The labels say what the view shows; rewritten only when that changes, not on every frame.
  let labelled = "";
  function labelView(info) {
    const now = `${shownLayer} ${Math.round(epochNow)} ${steered}`;
    if (now === labelled) return;
    labelled = now;
    epochLabel.textContent = ` ${Math.round(epochNow)} of ${epochs - 1}`;
    layerLabel.textContent = ` ${info.name}` + (info.reduced ? ` (${info.width} → ${info.dims} dims by PCA)` : ` (${info.dims} dims)`);
    // Screen readers hear "relu3" and "epoch 3 of 20", not the sliders' raw numbers.
    layer.setAttribute("aria-valuetext", info.name);
    canvas.setAttribute("aria-label", describe(info)); // says what the view shows now
    epoch.setAttribute("aria-valuetext", `epoch ${Math.round(epochNow)} of ${epochs - 1}`);
  }

  // Off screen the tour's loop stops (no frame is even requested): a reader scrolling elsewhere
  // (or drawing in the explorer just above) keeps the whole frame budget. lifecycle.js says when.
  let frame = 0;
  function loop() {
    if (playing || epochNow !== epochTarget || transition < 1 || dragging >= 0) draw();
    frame = requestAnimationFrame(loop);
  }
  function run(on) {
    cancelAnimationFrame(frame);
    frame = on ? requestAnimationFrame(loop) : 0;
    root.dataset.running = String(on);
  }

  // --- interaction
  play.addEventListener("click", () => {
    playing = !playing;
    play.textContent = playing ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(playing));
  });
  epoch.addEventListener("input", () => { epochTarget = Number(epoch.value); updateReader(); });
  let epochTimer = null;
  playEpochs.addEventListener("click", () => {
    clearInterval(epochTimer);
    epoch.value = "0"; epochNow = epochTarget = 0;
    epochTimer = setInterval(() => {
      if (epochTarget >= epochs - 1) return clearInterval(epochTimer);
      epoch.value = String(++epochTarget);
      updateReader();
    }, 400);
  });
  layer.addEventListener("input", async () => {
    const index = Number(layer.value);
    const values = await loadLayer(index);
    if (Number(layer.value) !== index) return;
    current.from = current.values; fromLayer = shownLayer;
    current.values = values; shownLayer = index; transition = 0;
    sidePlane = null;
    updateReader();
    draw(true);
  });
  highlight.addEventListener("change", () => draw(true));
  mistakes.addEventListener("change", () => draw(true));

  function pointer(event) {
    const box = canvas.getBoundingClientRect(), ratio = canvas.width / box.width;
    return [(event.clientX - box.left) * ratio, (event.clientY - box.top) * ratio];
  }
  // The axis handle under a pointer or finger, or -1.
  function handleAt(event) {
    const [x, y] = pointer(event), r = radius(), info = meta.layers[shownLayer];
    const reach = (event.pointerType === "mouse" ? 12 : 20) * (window.devicePixelRatio || 1);
    for (let a = 0; a < info.dims; a++) {
      const [hx, hy] = rotation.handle(a);
      if (Math.hypot(canvas.width / 2 + hx * r - x, canvas.height / 2 - hy * r - y) < reach) return a;
    }
    return -1;
  }
  canvas.addEventListener("pointerdown", (event) => {
    dragging = handleAt(event);
    if (dragging >= 0) canvas.setPointerCapture(event.pointerId);
    else showPoint(event); // a tap (no hover on touch screens) shows the example under the finger
  });
  // A finger that lands on a handle steers; anywhere else a vertical swipe scrolls the page.
  canvas.addEventListener("touchstart", (event) => {
    if (handleAt(event.touches[0]) >= 0) event.preventDefault();
  }, { passive: false });
  canvas.addEventListener("pointermove", (event) => {
    const [x, y] = pointer(event), r = radius();
    if (dragging >= 0) {
      rotation.drag(dragging, (x - canvas.width / 2) / r, -(y - canvas.height / 2) / r);
      return;
    }
    showPoint(event);
  });
  // The example nearest the pointer, if one is close: its picture, label and prediction.
  function showPoint(event) {
    const [x, y] = pointer(event), r = radius();
    let best = -1, bestDistance = (event.pointerType === "touch" ? 20 : 8) * (window.devicePixelRatio || 1);
    for (let p = 0; p < Math.min(count, n); p++) {
      const distance = Math.hypot(canvas.width / 2 + positions[2 * p] * r - x, canvas.height / 2 - positions[2 * p + 1] * r - y);
      if (distance < bestDistance) { best = p; bestDistance = distance; }
    }
    if (best < 0 || synthetic) { tooltip.hidden = true; return; }
    paintImage(thumb, thumbnail(best));
    const predicted = predictions(Math.round(epochNow))[best];
    tipText.textContent = `label ${classes[labels[best]]}, predicted ${classes[predicted]}` + (predicted !== labels[best] ? " ✗" : "");
    const box = canvas.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - box.left + 12}px`;
    tooltip.style.top = `${event.clientY - box.top + 12}px`;
    tooltip.hidden = false;
  }
  // Steering by keyboard: [ and ] choose an axis, arrows move its handle, Space plays or pauses.
  canvas.addEventListener("keydown", (event) => {
    const info = meta.layers[shownLayer], step = event.shiftKey ? 0.15 : 0.05;
    steered %= info.dims;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (event.key in moves) {
      const [hx, hy] = rotation.handle(steered);
      rotation.drag(steered, hx + moves[event.key][0], hy + moves[event.key][1]);
    } else if (event.key === "[" || event.key === "]") {
      steered = (steered + (event.key === "]" ? 1 : info.dims - 1)) % info.dims;
      status.textContent = `Steering the axis ${axisName(info, steered)}.`;
    } else if (event.key === " ") {
      play.click();
    } else return;
    event.preventDefault();
    draw(true);
  });
  canvas.addEventListener("pointerleave", () => { tooltip.hidden = true; });
  for (const end of ["pointerup", "pointercancel"]) canvas.addEventListener(end, () => { dragging = -1; });
  canvas.addEventListener("pointercancel", () => { tooltip.hidden = true; }); // the page scrolled instead

  // --- the reader's digit, from the layer explorer, run through the weights of the shown epoch
  let readerPixels = null;
  const sessions = new Map();
  const bases = new Map();
  async function updateReader() {
    if (!readerPixels) return;
    const e = epochTarget, index = shownLayer, info = meta.layers[index];
    const ort = await loadRuntime();
    if (!sessions.has(e)) {
      const url = new URL(sitePath("tour_epoch_model", { model, epoch: e }), document.baseURI).href;
      sessions.set(e, ort.InferenceSession.create(url));
    }
    const session = await sessions.get(e);
    const outputs = await session.run({ image: new ort.Tensor("float32", readerPixels, [1, ...shape]) });
    const activation = info.name === "input" ? readerPixels : outputs[info.name].data;
    let point = Float32Array.from(activation.slice(0, info.dims));
    if (info.reduced) {
      if (!bases.has(index)) bases.set(index, fetchBytes(sitePath("tour_basis", { model, layer: info.name })).then((b) => new Float32Array(b)));
      const basis = await bases.get(index), w = info.width;
      point = new Float32Array(info.dims);
      for (let k = 0; k < info.dims; k++) {
        let s = 0;
        for (let j = 0; j < w; j++) s += (activation[j] - basis[j]) * basis[(k + 1) * w + j];
        point[k] = s;
      }
    }
    if (e === epochTarget && index === shownLayer) { reader = { layerIndex: index, epoch: e, point }; draw(true); }
  }
  window.addEventListener("layerwise:drawn", (event) => { readerPixels = event.detail.pixels; updateReader(); });

  size();
  status.textContent = `${n} held-out ${noun}s, ${epochs} recorded epoch${epochs > 1 ? "s" : ""}` +
    (epochs > 1 ? " (0 = before training)" : " (a model trained elsewhere)") + ". Drag a labelled axis to steer.";

  return {
    root, rotation,
    onscreen: () => run(true),
    offscreen: () => run(false),
    // For the benchmark: swap in `points` random points (same dimensions) and count frames.
    useSyntheticPoints(points) {
      synthetic = points;
      const d = meta.layers[shownLayer].dims, values = new Float32Array(epochs * points * d);
      for (let i = 0; i < values.length; i++) values[i] = Math.random() * 2 - 1;
      current.values = values; current.from = values; count = points; transition = 1; sidePlane = null;
    },
    async framesPerSecond(ms) {
      const start = frames, t = performance.now();
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ((frames - start) * 1000) / (performance.now() - t);
    },
  };
}

register("tours", ".grand-tour", mount);
