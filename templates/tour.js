// The Grand Tour (Li, Zhao & Scheidegger, Distill 2020) of every layer at every epoch.
// Points are the recorded activations of a fixed sample of held-out examples (reduced to n
// dimensions by the build); a smooth rotation of n-D space shows them from every angle.
// Drawn on a plain 2-D canvas: here it ran twice as fast as Plotly's WebGL scatter.
// Four parts, each its own piece below: the rotation, the data, the renderer (pixels only) and
// the controls (DOM and events); the view's state is one object that the controls change and
// the renderer reads.

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

// --- the data: the recorded sample, each layer's points fetched when first shown -------------

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

// The sample of one model: labels, predictions per epoch, thumbnails, and per layer a
// Float32Array (epochs x n x dims); `readerPoint` runs the reader's own pixels through the
// weights of one epoch and reduces them as the build reduced that layer.
async function tourData(model) {
  const { dataset: { shape } } = contract();
  const sample = await loadSample(model);
  const layers = new Map(), sessions = new Map(), bases = new Map();
  const once = (cache, key, make) => (cache.has(key) ? cache.get(key) : cache.set(key, make()).get(key));
  return {
    ...sample,
    layer: (index) => once(layers, index, () => fetchBytes(sitePath("tour_layer", { model, layer: sample.meta.layers[index].name }))
      .then((buffer) => float16ToFloat32(new Uint16Array(buffer)))),
    async readerPoint(pixels, epoch, index) {
      const info = sample.meta.layers[index], ort = await loadRuntime();
      const session = await once(sessions, epoch, () => ort.InferenceSession.create(
        new URL(sitePath("tour_epoch_model", { model, epoch }), document.baseURI).href));
      const outputs = await session.run({ image: new ort.Tensor("float32", pixels, [1, ...shape]) });
      const activation = info.name === "input" ? pixels : outputs[info.name].data;
      if (!info.reduced) return Float32Array.from(activation.slice(0, info.dims));
      const basis = await once(bases, index, () => fetchBytes(sitePath("tour_basis", { model, layer: info.name }))
        .then((b) => new Float32Array(b))); // the mean, then one row per principal direction
      const w = info.width, point = new Float32Array(info.dims);
      for (let k = 0; k < info.dims; k++) {
        let s = 0;
        for (let j = 0; j < w; j++) s += (activation[j] - basis[j]) * basis[(k + 1) * w + j];
        point[k] = s;
      }
      return point;
    },
  };
}

// --- the renderer: draws a scene on the tour's canvas and its PCA side view ------------------

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

// A 2-D view of n-D points shows about sqrt(2/n) of their spread: zoom PCA-reduced layers so
// the cloud fills the view. Layers kept as they are (logits, softmax) are not zoomed, so a
// class's points sit at its axis handle.
const zoom = (info) => (info.reduced ? Math.sqrt(info.dims / 2) * 0.75 : 1);

// A layer's spread at a fractional epoch, between the recorded ones.
function spread(info, epoch) {
  const e0 = Math.floor(epoch), e1 = Math.min(e0 + 1, info.scale.length - 1), t = epoch - e0;
  return ((1 - t) * info.scale[e0] + t * info.scale[e1] || 1) / zoom(info);
}

// (count x dims) points of a fractional epoch, under the rotation, into `out` (count x 2).
function project(values, info, epoch, count, matrix, out) {
  const d = info.dims, e0 = Math.floor(epoch), e1 = Math.min(e0 + 1, info.scale.length - 1), t = epoch - e0;
  const scale = spread(info, epoch), o0 = e0 * count * d, o1 = e1 * count * d;
  for (let p = 0; p < count; p++) {
    let x = 0, y = 0;
    for (let k = 0; k < d; k++) {
      const v = (1 - t) * values[o0 + p * d + k] + t * values[o1 + p * d + k];
      x += v * matrix[k][0];
      y += v * matrix[k][1];
    }
    out[2 * p] = x / scale;
    out[2 * p + 1] = y / scale;
  }
}

// A scene: { values, info, count, epoch, rotation, labels (one per point), only (a class or
// -1), wrong (indices to ring, or none), from: { values, info, t } during a layer change,
// reader: a point or null, axisName(a), colours: { palette, ink, paper }, noun }.
export class TourRenderer {
  constructor(canvas, side, palette) {
    this.canvas = canvas;
    this.side = side;
    this.sprites = palette.map((c) => sprite(c, 2.5));
    this.dim = palette.map((c) => sprite(c + "33", 2.5));
    this.positions = new Float32Array(0);
    this.sideKey = null;
  }

  size() {
    const ratio = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.side]) {
      const box = c.getBoundingClientRect();
      c.width = Math.max(1, Math.round(box.width * ratio));
      c.height = Math.max(1, Math.round(box.height * ratio));
    }
    this.sideKey = null;
  }

  radius() { return Math.min(this.canvas.width, this.canvas.height) / 2 - 16; }

  // Canvas pixels of a screen point of the unit disk, and back.
  toCanvas(x, y) { return [this.canvas.width / 2 + x * this.radius(), this.canvas.height / 2 - y * this.radius()]; }

  draw(scene) {
    const { count, labels, only, rotation } = scene, m = rotation.matrix;
    if (this.positions.length !== 2 * count) {
      this.positions = new Float32Array(2 * count);
      this.fromPositions = new Float32Array(2 * count);
    }
    const positions = this.positions;
    project(scene.values, scene.info, scene.epoch, count, m, positions);
    if (scene.from) {
      // A layer change: both layers under the same rotation, blended.
      project(scene.from.values, scene.from.info, scene.epoch, count, m, this.fromPositions);
      const t = scene.from.t * scene.from.t * (3 - 2 * scene.from.t);
      for (let i = 0; i < positions.length; i++) positions[i] = (1 - t) * this.fromPositions[i] + t * positions[i];
    }
    const ctx = this.canvas.getContext("2d"), r = this.radius();
    const cx = this.canvas.width / 2, cy = this.canvas.height / 2;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    for (let p = 0; p < count; p++) {
      const label = labels[p];
      const image = only < 0 || only === label ? this.sprites[label] : this.dim[label];
      ctx.drawImage(image, cx + positions[2 * p] * r - 3.5, cy - positions[2 * p + 1] * r - 3.5);
    }
    const { ink, paper, palette } = scene.colours;
    if (scene.wrong?.length) {
      ctx.strokeStyle = ink;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (const p of scene.wrong) {
        ctx.moveTo(cx + positions[2 * p] * r + 5, cy - positions[2 * p + 1] * r);
        ctx.arc(cx + positions[2 * p] * r, cy - positions[2 * p + 1] * r, 5, 0, 2 * Math.PI);
      }
      ctx.stroke();
    }
    // Handles: the projected axes (a class in the logits and the softmax, a principal component
    // in reduced layers, a unit in other narrow ones).
    ctx.font = `${12 * (window.devicePixelRatio || 1)}px system-ui, sans-serif`;
    for (let a = 0; a < scene.info.dims; a++) {
      const [x, y] = this.toCanvas(...rotation.handle(a));
      ctx.strokeStyle = scene.axesAreClasses ? palette[a] : "#888";
      ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(x, y); ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText(scene.axisName(a), x + 4, y - 4);
    }
    let readerAt = null;
    if (scene.reader) {
      let x = 0, y = 0;
      for (let k = 0; k < scene.info.dims; k++) { x += scene.reader[k] * m[k][0]; y += scene.reader[k] * m[k][1]; }
      const s = spread(scene.info, scene.epoch);
      readerAt = this.toCanvas(x / s, y / s);
      ctx.fillStyle = ink; ctx.strokeStyle = paper; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(...readerAt, 8, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      ctx.fillText(`your ${scene.noun}`, readerAt[0] + 10, readerAt[1] + 4);
    }
    this.drawSide(scene);
    return readerAt;
  }

  // The same layer and (whole) epoch under its own PCA: drawn again only when either changes.
  drawSide({ values, info, epoch, count, labels }) {
    const e = Math.round(epoch), d = info.dims, key = `${info.name}/${e}`;
    if (this.sideKey === key) return;
    this.sideKey = key;
    const points = values.subarray(e * count * d, (e + 1) * count * d), plane = principalPlane(points, count, d);
    const xy = new Float32Array(2 * count);
    let extent = 1e-9;
    for (let p = 0; p < count; p++)
      for (let k = 0; k < 2; k++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (points[p * d + j] - plane.mean[j]) * plane.directions[k][j];
        xy[2 * p + k] = s;
        extent = Math.max(extent, Math.abs(s));
      }
    const ctx = this.side.getContext("2d"), r = Math.min(this.side.width, this.side.height) / 2 - 4;
    ctx.clearRect(0, 0, this.side.width, this.side.height);
    for (let p = 0; p < count; p++)
      ctx.drawImage(this.sprites[labels[p]], this.side.width / 2 + (xy[2 * p] / extent) * r - 3, this.side.height / 2 - (xy[2 * p + 1] / extent) * r - 3);
  }

  // The axis handle within `reach` canvas pixels of (x, y), or -1.
  handleAt(x, y, rotation, dims, reach) {
    for (let a = 0; a < dims; a++) {
      const [hx, hy] = this.toCanvas(...rotation.handle(a));
      if (Math.hypot(hx - x, hy - y) < reach) return a;
    }
    return -1;
  }

  // The point drawn nearest (x, y), if within `reach` canvas pixels, or -1.
  pointAt(x, y, reach) {
    let best = -1;
    for (let p = 0; p < this.positions.length / 2; p++) {
      const [px, py] = this.toCanvas(this.positions[2 * p], this.positions[2 * p + 1]);
      const distance = Math.hypot(px - x, py - y);
      if (distance < reach) { best = p; reach = distance; }
    }
    return best;
  }
}

// --- the controls: the DOM around the canvas; they change the view's state ------------------

function controls(root, view, data, { classes, noun, palette, shape }) {
  const { meta: { epochs, layers } } = data;
  const canvas = el("canvas", { class: "tour-canvas", role: "img", tabindex: "0" });
  const side = el("canvas", { class: "tour-side", role: "img", "aria-label": "The same layer under PCA" });
  const thumb = el("canvas", { width: shape[2], height: shape[1] });
  const tipText = el("span");
  const tooltip = el("div", { class: "tour-tooltip", hidden: "" }, thumb, tipText);
  const play = el("button", { type: "button" });
  const speed = el("input", { type: "range", min: "0", max: "3", step: "0.1", value: String(view.speed), "aria-label": "Rotation speed" });
  const epoch = el("input", { type: "range", min: "0", max: String(epochs - 1), step: "1", value: String(view.epochTarget), "aria-label": "Epoch" });
  const epochLabel = el("output");
  const playEpochs = el("button", { type: "button" }, "Play training");
  const layer = el("input", { type: "range", min: "0", max: String(layers.length - 1), step: "1", value: String(view.layer), "aria-label": "Layer" });
  const layerLabel = el("output");
  const highlight = el("select", { "aria-label": "Highlight a class" },
    el("option", { value: "-1" }, "all classes"), ...classes.map((c, i) => el("option", { value: String(i) }, `only ${c}`)));
  const mistakes = el("input", { type: "checkbox" });
  const legend = el("div", { class: "tour-legend" }, ...classes.map((c, i) => el("button",
    { type: "button", style: `--colour: ${palette[i]}`, "aria-label": `highlight ${c}`, "data-class": String(i) }, c)));
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

  const changed = () => root.dispatchEvent(new Event("tour:changed"));
  const setPlaying = (on) => {
    view.playing = on;
    play.textContent = on ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(on));
    changed();
  };
  setPlaying(view.playing);
  play.addEventListener("click", () => setPlaying(!view.playing));
  speed.addEventListener("input", () => { view.speed = Number(speed.value); });
  epoch.addEventListener("input", () => { view.epochTarget = Number(epoch.value); changed(); });
  let epochTimer = null;
  playEpochs.addEventListener("click", () => {
    clearInterval(epochTimer);
    epoch.value = "0"; view.epoch = view.epochTarget = 0;
    changed();
    epochTimer = setInterval(() => {
      if (view.epochTarget >= epochs - 1) return clearInterval(epochTimer);
      epoch.value = String(++view.epochTarget);
      changed();
    }, 400);
  });
  layer.addEventListener("input", () => root.dispatchEvent(new CustomEvent("tour:layer", { detail: Number(layer.value) })));
  const setHighlight = (value) => { view.highlight = value; highlight.value = String(value); changed(); };
  highlight.addEventListener("change", () => setHighlight(Number(highlight.value)));
  legend.addEventListener("click", (event) => {
    const c = Number(event.target.closest("button")?.dataset.class ?? -1);
    if (c >= 0) setHighlight(view.highlight === c ? -1 : c);
  });
  mistakes.addEventListener("change", () => { view.mistakes = mistakes.checked; changed(); });

  // Pointer, touch and keys on the canvas: steer an axis, or show the example under the pointer.
  const pointer = (event) => {
    const box = canvas.getBoundingClientRect(), ratio = canvas.width / box.width;
    return [(event.clientX - box.left) * ratio, (event.clientY - box.top) * ratio];
  };
  const reach = (event, mouse, touch) => (event.pointerType === "mouse" ? mouse : touch) * (window.devicePixelRatio || 1);
  const handleAt = (event) => view.renderer.handleAt(...pointer(event), view.rotation, layers[view.layer].dims, reach(event, 12, 20));
  function showPoint(event) {
    const p = view.renderer.pointAt(...pointer(event), reach(event, 8, 20));
    if (p < 0 || p >= data.meta.n) { tooltip.hidden = true; return; }
    paintImage(thumb, data.thumbnail(p));
    const predicted = data.predictions(Math.round(view.epoch))[p];
    tipText.textContent = `label ${classes[data.labels[p]]}, predicted ${classes[predicted]}` + (predicted !== data.labels[p] ? " ✗" : "");
    const box = canvas.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - box.left + 12}px`;
    tooltip.style.top = `${event.clientY - box.top + 12}px`;
    tooltip.hidden = false;
  }
  canvas.addEventListener("pointerdown", (event) => {
    view.dragging = handleAt(event);
    if (view.dragging >= 0) canvas.setPointerCapture(event.pointerId);
    else showPoint(event); // a tap (no hover on touch screens) shows the example under the finger
  });
  // A finger that lands on a handle steers; anywhere else a vertical swipe scrolls the page.
  canvas.addEventListener("touchstart", (event) => {
    if (handleAt(event.touches[0]) >= 0) event.preventDefault();
  }, { passive: false });
  canvas.addEventListener("pointermove", (event) => {
    if (view.dragging < 0) return showPoint(event);
    const [x, y] = pointer(event), r = view.renderer.radius();
    view.rotation.drag(view.dragging, (x - canvas.width / 2) / r, -(y - canvas.height / 2) / r);
  });
  canvas.addEventListener("pointerleave", () => { tooltip.hidden = true; });
  for (const end of ["pointerup", "pointercancel"]) canvas.addEventListener(end, () => { view.dragging = -1; });
  canvas.addEventListener("pointercancel", () => { tooltip.hidden = true; }); // the page scrolled instead
  // Steering by keyboard: [ and ] choose an axis, arrows move its handle, Space plays or pauses.
  canvas.addEventListener("keydown", (event) => {
    const dims = layers[view.layer].dims, step = event.shiftKey ? 0.15 : 0.05;
    view.steered %= dims;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (event.key in moves) {
      const [hx, hy] = view.rotation.handle(view.steered);
      view.rotation.drag(view.steered, hx + moves[event.key][0], hy + moves[event.key][1]);
    } else if (event.key === "[" || event.key === "]") {
      view.steered = (view.steered + (event.key === "]" ? 1 : dims - 1)) % dims;
      status.textContent = `Steering the axis ${view.axisName(layers[view.layer], view.steered)}.`;
    } else if (event.key === " ") {
      play.click();
    } else return;
    event.preventDefault();
    changed();
  });

  // The labels say what the view shows; rewritten only when that changes, not on every frame.
  let labelled = "";
  function label() {
    const info = layers[view.layer], e = Math.round(view.epoch), now = `${view.layer} ${e} ${view.steered}`;
    if (now === labelled) return;
    labelled = now;
    epochLabel.textContent = ` ${e} of ${epochs - 1}`;
    layerLabel.textContent = ` ${info.name}` + (info.reduced ? ` (${info.width} → ${info.dims} dims by PCA)` : ` (${info.dims} dims)`);
    // Screen readers hear "relu3" and "epoch 3 of 20", not the sliders' raw numbers.
    layer.setAttribute("aria-valuetext", info.name);
    epoch.setAttribute("aria-valuetext", `epoch ${e} of ${epochs - 1}`);
    canvas.setAttribute("aria-label", `Grand Tour of layer ${info.name} at epoch ${e} of ${epochs - 1}: ` +
      `each dot is a held-out ${noun}, coloured by its label, in a rotating 2-D view. Keys: arrows steer the axis ` +
      `${view.axisName(info, view.steered % info.dims)}, [ and ] choose another axis, Space plays or pauses.`);
  }
  status.textContent = `${data.meta.n} held-out ${noun}s, ${epochs} recorded epoch${epochs > 1 ? "s" : ""}` +
    (epochs > 1 ? " (0 = before training)" : " (a model trained elsewhere)") + ". Drag a labelled axis to steer.";
  return { canvas, side, label };
}

// --- the widget: state in one place, a loop that runs only on screen ---------------------------

async function mount(root, near) {
  await near;
  const model = root.dataset.model, { dataset: { classes, noun, shape }, palette } = contract();
  const data = await tourData(model);
  const { meta: { n, epochs, layers } } = data;
  const rotation = new Rotation(Math.max(...layers.map((l) => l.dims)));
  const epoch = Math.min(Number(root.dataset.epoch), epochs - 1);
  // The view's whole state. Under prefers-reduced-motion the tour starts still.
  const view = {
    rotation, playing: !matchMedia("(prefers-reduced-motion: reduce)").matches, speed: 1,
    epoch, epochTarget: epoch, layer: Math.max(0, layers.findIndex((l) => l.name === root.dataset.layer)),
    from: null, // { layer, t } while changing layer
    highlight: -1, mistakes: false, steered: 0, dragging: -1,
    reader: null, // { layer, epoch, point } for the reader's digit
    // A layer's axes: its classes (logits, softmax), principal components, or units.
    axesAreClasses: (info) => !info.reduced && info.dims === classes.length,
    axisName: (info, a) => (view.axesAreClasses(info) ? classes[a] : info.reduced ? `PC${a + 1}` : `unit ${a + 1}`),
  };
  const ui = controls(root, view, data, { classes, noun, palette, shape });
  view.renderer = new TourRenderer(ui.canvas, ui.side, palette);
  const values = new Map([[view.layer, await data.layer(view.layer)]]);
  // Rings and the reader's point in the page's own text colour, so dark mode keeps them visible.
  const colours = () => ({ palette, ink: getComputedStyle(root).color, paper: getComputedStyle(document.body).backgroundColor });
  let paint = colours();
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { paint = colours(); draw(); });

  let frames = 0, last = performance.now();
  function advance() {
    const now = performance.now(), dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    if (view.playing && view.dragging < 0) rotation.step(dt * view.speed * 0.6);
    const gap = view.epochTarget - view.epoch;
    view.epoch = Math.abs(gap) <= dt * 4 ? view.epochTarget : view.epoch + Math.sign(gap) * dt * 4;
    if (view.from && (view.from.t += dt * 2) >= 1) view.from = null;
  }
  function draw() {
    const info = layers[view.layer], e = Math.round(view.epoch), predicted = data.predictions(e);
    const readerAt = view.renderer.draw({
      values: values.get(view.layer), info, count: n, epoch: view.epoch, rotation, labels: data.labels,
      only: view.highlight, colours: paint, noun, axesAreClasses: view.axesAreClasses(info), axisName: (a) => view.axisName(info, a),
      wrong: view.mistakes ? [...predicted.keys()].filter((p) => predicted[p] !== data.labels[p]) : null,
      from: view.from && { values: values.get(view.from.layer), info: layers[view.from.layer], t: view.from.t },
      reader: view.reader?.layer === view.layer && view.reader.epoch === e ? view.reader.point : null,
    });
    if (readerAt) root.dataset.readerPoint = readerAt.map((v) => v.toFixed(1)).join(",");
    ui.label();
    root.dataset.frames = String(++frames);
  }
  // Off screen the loop stops (no frame is even requested): a reader scrolling elsewhere (or
  // drawing in the explorer just above) keeps the whole frame budget. lifecycle.js says when.
  let frame = 0;
  const moving = () => view.playing || view.epoch !== view.epochTarget || view.from || view.dragging >= 0;
  function loop() {
    advance();
    if (moving()) draw();
    frame = requestAnimationFrame(loop);
  }
  function run(on) {
    cancelAnimationFrame(frame);
    frame = on ? requestAnimationFrame(loop) : 0;
    last = performance.now();
    root.dataset.running = String(on);
  }

  // The reader's digit, from the layer explorer, through the weights of the epoch shown.
  let pixels = null;
  async function updateReader() {
    const e = view.epochTarget, index = view.layer;
    if (!pixels) return;
    const point = await data.readerPoint(pixels, e, index);
    if (e === view.epochTarget && index === view.layer) { view.reader = { layer: index, epoch: e, point }; draw(); }
  }
  window.addEventListener("layerwise:drawn", (event) => { pixels = event.detail.pixels; updateReader(); });
  root.addEventListener("tour:changed", () => { if (view.reader?.epoch !== view.epochTarget) updateReader(); draw(); });
  let wanted = view.layer;
  root.addEventListener("tour:layer", async ({ detail: index }) => {
    wanted = index;
    if (!values.has(index)) values.set(index, await data.layer(index));
    if (wanted !== index) return; // the reader has moved on to another layer
    view.from = { layer: view.layer, t: 0 };
    view.layer = index;
    updateReader();
    draw();
  });
  new ResizeObserver(() => { view.renderer.size(); draw(); }).observe(ui.canvas);
  view.renderer.size();
  return { root, view, onscreen: () => run(true), offscreen: () => run(false) };
}

register("tours", ".grand-tour", mount);
