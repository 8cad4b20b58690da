// The Grand Tour (Li, Zhao & Scheidegger, Distill 2020) of every layer over training.
// Points are the recorded activations of a fixed sample of held-out examples (reduced to n
// dimensions by the build); a smooth rotation of n-D space shows them from every angle.
// Drawn on a plain 2-D canvas: here it ran twice as fast as Plotly's WebGL scatter.
// Four parts, each its own piece below: the rotation, the data, the renderer (pixels only) and
// the controls (DOM and events); the view's state is one object that the controls change and
// the renderer reads.

import { register } from "./lifecycle.js";
import { announceSelection, contract, el, exampleSize, fetchBytes, loadModel, loadSample, onExample, onSelection, pickExample, showPreview, sitePath } from "./runtime.js";
import { textVector } from "./representation.js";

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

  // Direct manipulation: put basis vector `axis` exactly at (x, y). The view's two columns
  // keep their other coordinates' directions, rescaled (and the second turned) so both stay
  // unit length and orthogonal; the remaining columns are then re-orthonormalized.
  drag(axis, x, y) {
    const r = Math.hypot(x, y), limit = 0.98, m = this.matrix, n = this.n;
    if (r > limit) { x *= limit / r; y *= limit / r; }
    const rest = (c) => m.map((row, i) => (i === axis ? 0 : row[c]));
    const dot = (u, v) => u.reduce((sum, a, i) => sum + a * v[i], 0);
    // v without its parts along `against` (unit vectors) and along the axis, as a unit vector.
    const apart = (v, ...against) => {
      const w = v.map((a, i) => (i === axis ? 0 : a - against.reduce((s, u) => s + dot(v, u) * u[i], 0)));
      const norm = Math.hypot(...w);
      return norm > 1e-6 ? w.map((a) => a / norm) : null;
    };
    // A unit vector apart from the axis and `against`, for a column with nothing left to keep.
    const any = (...against) => {
      for (let k = 0; k < n; k++) {
        const found = k === axis ? null : apart(Array.from({ length: n }, (_, i) => +(i === k)), ...against);
        if (found) return found;
      }
      return null;
    };
    const u0 = apart(rest(0)) ?? apart(rest(1)) ?? any();
    const w = apart(rest(1), u0) ?? any(u0);
    if (!w) { // two dimensions: no room to keep the second column apart
      m[axis][0] = x; m[axis][1] = y;
      return this.orthonormalize();
    }
    const a = Math.sqrt(1 - x * x), k0 = (-x * y) / a, k1 = Math.sqrt(Math.max(0, 1 - y * y - k0 * k0));
    for (let i = 0; i < n; i++) {
      m[i][0] = i === axis ? x : a * u0[i];
      m[i][1] = i === axis ? y : k0 * u0[i] + k1 * w[i];
    }
    this.orthonormalize();
  }

  // Put the projection of unit vector `v` (any direction, e.g. a selection's centroid) exactly
  // at (x, y): a reflection that swaps v with the first axis, drag that axis, reflect back.
  dragVector(v, x, y) {
    const u = v.map((a, i) => (i === 0 ? 1 : 0) - a), size = u.reduce((s, a) => s + a * a, 0);
    const reflect = () => {
      if (size < 1e-12) return; // v is the first axis already
      for (let c = 0; c < this.n; c++) {
        const along = (2 * this.matrix.reduce((s, row, i) => s + u[i] * row[c], 0)) / size;
        this.matrix.forEach((row, i) => { row[c] -= along * u[i]; });
      }
    };
    reflect();
    this.drag(0, x, y);
    reflect();
  }

  // Into the next layer's coordinates along an alignment R (n x n, row-major): G <- R^T G; or
  // back to the previous layer's: G <- R G.
  turn(align, forward) {
    const n = this.n, m = this.matrix, out = Array.from({ length: n }, () => new Float64Array(n));
    for (let k = 0; k < n; k++)
      for (let j = 0; j < n; j++) {
        const coefficient = forward ? align[j * n + k] : align[k * n + j];
        if (coefficient) for (let c = 0; c < n; c++) out[k][c] += coefficient * m[j][c];
      }
    this.matrix = out;
    this.orthonormalize();
  }

  // The view's two columns of R^T G, as rows [x, y]: the next layer seen as this one is.
  ahead(align) {
    const n = this.n, m = this.matrix;
    return Array.from({ length: n }, (_, k) => {
      let x = 0, y = 0;
      for (let j = 0; j < n; j++) { x += align[j * n + k] * m[j][0]; y += align[j * n + k] * m[j][1]; }
      return [x, y];
    });
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

// The sample of one model: labels, predictions per snapshot of the weights, thumbnails, and per
// layer a Float32Array (snapshots x n x dims); `readerPoint` runs the reader's own pixels through
// one snapshot's weights (a text: pools the explorer's outputs) and reduces them as the build
// reduced that layer.
async function tourData(model) {
  const sample = await loadSample(model);
  const layers = new Map(), sessions = new Map(), bases = new Map(), attacks = new Map();
  const once = (cache, key, make) => (cache.has(key) ? cache.get(key) : cache.set(key, make()).get(key));
  const dims = Math.max(...sample.meta.layers.map((l) => l.dims)), pairs = sample.meta.layers.length - 1;
  const aligned = new Float32Array(await fetchBytes(sitePath("tour_align", { model }))); // (snapshots, pairs, D, D)
  return {
    ...sample, dims,
    // The rotation carrying layer `index`'s cloud onto layer index + 1's at a snapshot (record.alignments).
    align: (at, index) => aligned.subarray((at * pairs + index) * dims * dims, (at * pairs + index + 1) * dims * dims),
    // An attack's points (adversarial.py): every layer's, at every step, fetched when first shown.
    attack: (method) => once(attacks, method, () => fetchBytes(sitePath("tour_attack", { model, method }))
      .then((buffer) => float16ToFloat32(new Uint16Array(buffer)))),
    layer: (index) => once(layers, index, () => fetchBytes(sitePath("tour_layer", { model, layer: sample.meta.layers[index].name }))
      .then((buffer) => float16ToFloat32(new Uint16Array(buffer)))),
    // `outputs`: the explorer's own run of the trained model, where the build wrote no model per
    // snapshot (text: meta.every_snapshot false); there the point is the trained model's only (else null).
    async readerPoint(example, snapshot, index, outputs) { // example: pixels, or a text's tokens
      const info = sample.meta.layers[index];
      let activation;
      if (!sample.meta.every_snapshot) {
        if (snapshot !== sample.meta.snapshots - 1 || !outputs) return null;
        activation = textVector(info, example, outputs);
      } else {
        const session = await once(sessions, snapshot, () => loadModel(sitePath("tour_snapshot_model", { model, snapshot })));
        activation = info.name === "input" ? example : (await session.run(example))[info.name];
      }
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

// The pixels of a dot of radius 2.3 around its centre.
const DISC = [];
for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (dx * dx + dy * dy <= 5) DISC.push([dx, dy]);

// A 2-D view of n-D points shows about sqrt(2/n) of their spread: zoom PCA-reduced layers so
// the cloud fills the view. Layers kept as they are (logits, softmax) are not zoomed, so a
// class's points sit at its axis handle.
const zoom = (info) => (info.reduced ? Math.sqrt(info.dims / 2) * 0.75 : 1);

// A layer's spread at a fractional snapshot, between the recorded ones.
function spread(info, at) {
  const e0 = Math.floor(at), e1 = Math.min(e0 + 1, info.scale.length - 1), t = at - e0;
  return ((1 - t) * info.scale[e0] + t * info.scale[e1] || 1) / zoom(info);
}

// (count x dims) points of a fractional snapshot, under the rotation, into `out` (count x 2).
function project(values, info, at, count, matrix, out) {
  const d = info.dims, e0 = Math.floor(at), e1 = Math.min(e0 + 1, info.scale.length - 1), t = at - e0;
  const scale = spread(info, at), o0 = e0 * count * d, o1 = e1 * count * d;
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

// A scene: { values, info, count, snapshot (fractional), rotation, labels (one per point), mask (1 for each
// point to show bright, or null for all), key (what the mask selects, for the side view),
// centroid (the selection's centre on screen, its handle), brush (a rectangle), marks (extra
// points { x, y, colour }: adversarial examples), wrong (indices to ring, or none), next: { values, info, t, columns } between this layer
// and the next (columns: the next layer's view, aligned to this one's), reader: { point, trail
// (where it was before, oldest first) } or null, axesAreClasses(info), axisName(info, a), colours: { palette, ink, paper }, noun }.
export class TourRenderer {
  constructor(canvas, side, palette) {
    this.canvas = canvas;
    this.side = side;
    this.sprites = palette.map((c) => sprite(c, 2.5));
    this.dim = palette.map((c) => sprite(c + "33", 2.5));
    // Each class's colour as one RGBA pixel word (little-endian: A B G R), bright and faint.
    const word = (hex, alpha) => ((alpha << 24) | (parseInt(hex.slice(5, 7), 16) << 16) | (parseInt(hex.slice(3, 5), 16) << 8) | parseInt(hex.slice(1, 3), 16)) >>> 0;
    this.colours = palette.map((c) => word(c, 255));
    this.faint = palette.map((c) => word(c, 0x33));
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
    const { count, labels, mask, rotation } = scene, m = rotation.matrix;
    if (this.positions.length !== 2 * count) {
      this.positions = new Float32Array(2 * count);
      this.nextPositions = new Float32Array(2 * count);
    }
    const positions = this.positions, { next } = scene;
    project(scene.values, scene.info, scene.snapshot, count, m, positions);
    if (next) {
      // Between two layers: the next one under the aligned view, blended by how far along.
      project(next.values, next.info, scene.snapshot, count, next.columns, this.nextPositions);
      for (let i = 0; i < positions.length; i++) positions[i] = (1 - next.t) * positions[i] + next.t * this.nextPositions[i];
    }
    const ctx = this.canvas.getContext("2d"), r = this.radius();
    const cx = this.canvas.width / 2, cy = this.canvas.height / 2;
    this.splat(ctx, count, labels, mask, cx, cy, r);
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
    // in reduced layers, a unit in other narrow ones), each ending in a dot of its colour.
    const texts = [], markers = []; // text to lay out last; what it must not cover
    const nearer = next && next.t >= 0.5 ? next : null; // the handles of the nearer layer
    for (let a = 0; a < (nearer ?? scene).info.dims; a++) {
      const [x, y] = this.toCanvas(...(nearer ? nearer.columns[a] : rotation.handle(a)));
      const info = (nearer ?? scene).info;
      ctx.strokeStyle = ctx.fillStyle = scene.axesAreClasses(info) ? palette[a] : "#888";
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(x, y); ctx.stroke();
      ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
      texts.push({ text: scene.axisName(info, a), at: [x, y] });
      markers.push([x, y, 5]);
    }
    for (const mark of scene.marks ?? []) { // adversarial examples: filled with what they are read as
      const [x, y] = this.toCanvas(mark.x, mark.y);
      ctx.fillStyle = mark.colour; ctx.strokeStyle = ink; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, y - 6); ctx.lineTo(x + 6, y); ctx.lineTo(x, y + 6); ctx.lineTo(x - 6, y); ctx.closePath();
      ctx.fill(); ctx.stroke();
    }
    if (scene.centroid) { // the selection's handle: drag it to steer by the selected points
      const [x, y] = this.toCanvas(...scene.centroid);
      ctx.strokeStyle = ink; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, 9, 0, 2 * Math.PI); ctx.moveTo(x - 4, y); ctx.lineTo(x + 4, y); ctx.moveTo(x, y - 4); ctx.lineTo(x, y + 4); ctx.stroke();
      texts.push({ text: "selection", at: [x, y] });
      markers.push([x, y, 10]);
    }
    if (scene.brush) {
      const [[x0, y0], [x1, y1]] = scene.brush;
      ctx.strokeStyle = ink; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.setLineDash([]);
    }
    let readerAt = null;
    if (scene.reader) {
      const s = spread(scene.info, scene.snapshot);
      const place = (point) => {
        let x = 0, y = 0;
        for (let k = 0; k < scene.info.dims; k++) { x += point[k] * m[k][0]; y += point[k] * m[k][1]; }
        return this.toCanvas(x / s, y / s);
      };
      readerAt = place(scene.reader.point);
      // Where the reader's example was a moment ago (a stroke, an attack's steps): a line to it.
      if (scene.reader.trail.length) {
        ctx.strokeStyle = ink; ctx.lineWidth = 1.5; ctx.globalAlpha = 0.6;
        ctx.beginPath();
        for (const [x, y] of scene.reader.trail.map(place)) ctx.lineTo(x, y);
        ctx.lineTo(...readerAt);
        ctx.stroke();
        ctx.globalAlpha = 1;
      }
      ctx.fillStyle = ink; ctx.strokeStyle = paper; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(...readerAt, 8, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      texts.unshift({ text: `your ${scene.noun}`, at: readerAt }); // placed first: the one the reader looks for
      markers.push([...readerAt, 10]);
    }
    this.drawLabels(ctx, texts, markers, scene.colours);
    this.drawSide(scene);
    return readerAt;
  }

  // Text on the canvas, where axe cannot check it: in the page's own text colour on a plate of
  // the page's background (readable over any dot, in light and dark mode), each label laid out
  // greedily where it covers no other label and no marker (a handle, the reader's dot): its
  // place beside its anchor if free, else the nearest free one above or below, right or left.
  // `this.labels` keeps the laid-out boxes ({ text, box: [x, y, width, height], at: its anchor },
  // canvas pixels).
  drawLabels(ctx, labels, markers, { ink, paper }) {
    const ratio = window.devicePixelRatio || 1, pad = 3 * ratio, h = 12 * ratio + 2 * pad, gap = 6 * ratio;
    const { width, height } = this.canvas;
    const overlaps = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
    const taken = markers.map(([x, y, r]) => [x - r * ratio, y - r * ratio, 2 * r * ratio, 2 * r * ratio]);
    const inside = (v, size, limit) => Math.max(0, Math.min(limit - size, v));
    ctx.font = `${12 * ratio}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    this.labels = labels.map(({ text, at: [x, y] }) => {
      const w = ctx.measureText(text).width + 2 * pad;
      let box = null;
      for (let k = 0; !box && k * h < 4 * height; k++) // shifts of 0, -h/2, +h/2, -h, ... from above-right of the anchor
        for (const left of [x + gap, x - gap - w]) {
          const top = y - h + (k % 2 ? -1 : 1) * Math.ceil(k / 2) * (h / 2);
          const tried = [inside(left, w, width), inside(top, h, height), w, h];
          if (!taken.some((t) => overlaps(t, tried))) { box = tried; break; }
        }
      box ??= [inside(x + gap, w, width), inside(y - h, h, height), w, h]; // nowhere free: its own place
      taken.push(box);
      return { text, box, at: [x, y] };
    });
    // A label moved away from its anchor is tied to it by a thin line, drawn under every plate.
    ctx.strokeStyle = ink; ctx.lineWidth = 1;
    ctx.beginPath();
    for (const { box: [bx, by, bw, bh], at: [x, y] } of this.labels) {
      const [nx, ny] = [Math.max(bx, Math.min(bx + bw, x)), Math.max(by, Math.min(by + bh, y))]; // the box's nearest point
      if (Math.hypot(nx - x, ny - y) > 2 * gap) { ctx.moveTo(x, y); ctx.lineTo(nx, ny); }
    }
    ctx.stroke();
    for (const { text, box } of this.labels) {
      ctx.fillStyle = paper;
      ctx.fillRect(...box);
      ctx.fillStyle = ink;
      ctx.fillText(text, box[0] + pad, box[1] + h / 2);
    }
    ctx.textBaseline = "alphabetic";
  }

  // The points written straight into the canvas's pixels, a small disc each (the cloud's
  // background transparent): at 10,000 points one drawImage a point ran at 39 fps, this at 60.
  splat(ctx, count, labels, mask, cx, cy, r) {
    const { width, height } = this.canvas;
    if (this.pixels?.width !== width || this.pixels?.height !== height) {
      this.pixels = ctx.createImageData(width, height);
      this.words = new Uint32Array(this.pixels.data.buffer);
    }
    const words = this.words, positions = this.positions;
    words.fill(0);
    for (let p = 0; p < count; p++) {
      const label = labels[p], colour = !mask || mask[p] ? this.colours[label] : this.faint[label];
      const x = Math.round(cx + positions[2 * p] * r), y = Math.round(cy - positions[2 * p + 1] * r);
      if (x < 2 || y < 2 || x >= width - 2 || y >= height - 2) continue;
      for (const [dx, dy] of DISC) words[(y + dy) * width + x + dx] = colour;
    }
    ctx.putImageData(this.pixels, 0, 0);
  }

  // The same layer and (whole) snapshot under its own PCA: drawn again only when either changes.
  drawSide({ values, info, snapshot, count, labels, mask, key: selection }) {
    const e = Math.round(snapshot), d = info.dims, key = `${info.name}/${e}/${selection}`;
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
      ctx.drawImage((!mask || mask[p] ? this.sprites : this.dim)[labels[p]], this.side.width / 2 + (xy[2 * p] / extent) * r - 3, this.side.height / 2 - (xy[2 * p + 1] / extent) * r - 3);
  }

  // The axis handle within `reach` canvas pixels of (x, y), or -1.
  handleAt(x, y, rotation, dims, reach) {
    for (let a = 0; a < dims; a++) {
      const [hx, hy] = this.toCanvas(...rotation.handle(a));
      if (Math.hypot(hx - x, hy - y) < reach) return a;
    }
    return -1;
  }

  // The points drawn inside the rectangle from (x0, y0) to (x1, y1), in canvas pixels.
  pointsIn([x0, y0], [x1, y1]) {
    const inside = [];
    for (let p = 0; p < this.positions.length / 2; p++) {
      const [x, y] = this.toCanvas(this.positions[2 * p], this.positions[2 * p + 1]);
      if ((x - x0) * (x - x1) <= 0 && (y - y0) * (y - y1) <= 0) inside.push(p);
    }
    return inside;
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
  const ui = {};
  const { meta: { snapshots, layers, epochs, seen } } = data, lastEpoch = epochs[snapshots - 1];
  // What a snapshot of the weights is, in words: "after 0.25 of 20 epochs (2,000 digits seen)".
  const count = (x) => x.toLocaleString("en-US"); // 1,000 as the prose writes it
  const moment = (k) => (snapshots === 1 ? "as trained elsewhere" : k === 0 ? "before training"
    : `after ${epochs[k]} of ${lastEpoch} epochs (${count(seen[k])} ${noun}s seen)`);
  // Its label says what it shows now (label() below); this one until the first frame is drawn.
  const canvas = el("canvas", { class: "tour-canvas", role: "img", tabindex: "0", "aria-label": `Grand Tour of ${count(data.meta.n)} held-out ${noun}s` });
  const side = el("canvas", { class: "tour-side", role: "img", "aria-label": "The same layer under PCA" });
  const thumb = el("canvas", { width: shape[2], height: shape[1] });
  const tipText = el("span");
  const load = el("button", { type: "button", hidden: "" }, "Load into the explorer");
  const tooltip = el("div", { class: "tour-tooltip", hidden: "" }, thumb, tipText, load);
  const play = el("button", { type: "button" });
  const speed = el("input", { type: "range", min: "0", max: "3", step: "0.1", value: String(view.speed), "aria-label": "Rotation speed" });
  // The time axis: one step per snapshot of the weights (several within the first epoch).
  const training = el("input", { type: "range", min: "0", max: String(snapshots - 1), step: "1", value: String(view.snapshotTarget), "aria-label": "Training time" });
  const trainingLabel = el("output");
  const playTraining = el("button", { type: "button" }, "Play training");
  // The layer slider scrubs continuously between layers; its arrows step a whole layer.
  const layer = el("input", { type: "range", min: "0", max: String(layers.length - 1), step: "0.01", value: String(view.layer), "aria-label": "Layer" });
  const layerLabel = el("output");
  const playLayers = el("button", { type: "button" }, "Play layers");
  const mistakes = el("input", { type: "checkbox" });
  // The legend selects classes: any number of them, shown bright in both views (none: all).
  const legend = el("div", { class: "tour-legend", role: "group", "aria-label": "Highlight classes" }, ...classes.map((c, i) => el("button",
    { type: "button", style: `--colour: ${palette[i]}`, "aria-pressed": "false", "data-class": String(i) }, c)));
  const help = el("p", { class: "tour-help" }); // what the view shows and how to use it (below)
  const status = el("p", { class: "tour-status", role: "status" }); // what a key just did
  root.append(
    el("div", { class: "tour-views" }, el("div", { class: "tour-main" }, canvas, tooltip),
      el("div", { class: "tour-side-wrap" }, side, el("p", {}, "The same layer and moment under PCA"))),
    el("div", { class: "tour-controls" },
      play, el("label", {}, "speed ", speed),
      el("label", {}, "training ", training, trainingLabel), playTraining,
      el("label", {}, "layer ", layer, layerLabel), playLayers,
      el("label", {}, mistakes, ` ring the ${noun}s the network gets wrong`),
      ...attackControls(),
      legend, help, status));

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
  training.addEventListener("input", () => { view.snapshotTarget = Number(training.value); changed(); });
  let trainingTimer = null;
  playTraining.addEventListener("click", () => {
    clearInterval(trainingTimer);
    training.value = "0"; view.snapshot = view.snapshotTarget = 0;
    changed();
    trainingTimer = setInterval(() => {
      if (view.snapshotTarget >= snapshots - 1) return clearInterval(trainingTimer);
      training.value = String(++view.snapshotTarget);
      changed();
    }, 400);
  });
  const goTo = (at, pace = 2.5) => { view.layerTarget = at; view.layerPace = pace; changed(); };
  layer.addEventListener("input", () => { view.layerAt = view.layerTarget = Number(layer.value); changed(); });
  layer.addEventListener("keydown", (event) => {
    const at = view.layer + view.t, last = layers.length - 1;
    const to = { ArrowRight: Math.floor(at) + 1, ArrowUp: Math.floor(at) + 1, ArrowLeft: Math.ceil(at) - 1, ArrowDown: Math.ceil(at) - 1,
      PageUp: Math.floor(at) + 1, PageDown: Math.ceil(at) - 1, Home: 0, End: last }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    goTo(Math.max(0, Math.min(last, to)));
  });
  // From the input to the output, a layer every 1.25 seconds.
  playLayers.addEventListener("click", () => {
    if (view.layer + view.t >= layers.length - 1) view.layerAt = 0;
    goTo(layers.length - 1, 0.8);
  });

  legend.addEventListener("click", (event) => {
    const c = Number(event.target.closest("button")?.dataset.class ?? -1);
    if (c < 0) return;
    if (!view.selected.delete(c)) view.selected.add(c);
    view.selectClasses();
    changed();
  });
  mistakes.addEventListener("change", () => { view.mistakes = mistakes.checked; changed(); });
  // The controls show the state, whoever changed it (a click, a key, a link).
  // Adversarial examples (when the build made them): which attack, how many of its steps.
  function attackControls() {
    const attacks = data.meta.attacks;
    if (!attacks) return [];
    const [source, target] = [classes[attacks.source], classes[attacks.target]];
    const on = el("input", { type: "checkbox" });
    const method = el("select", { "aria-label": "Attack" }, ...Object.keys(attacks.methods).sort((a, b) => attacks.methods[b].steps - attacks.methods[a].steps) // PGD first
      .map((m) => el("option", { value: m }, m.toUpperCase())));
    const step = el("input", { type: "range", min: "0", max: "1", step: "0.01", value: "0", "aria-label": "Attack step" });
    const playAttack = el("button", { type: "button" }, "Play attack");
    const said = el("output");
    const steps = () => attacks.methods[method.value].steps;
    const set = () => {
      view.attack = on.checked ? { method: method.value, step: Math.min(Number(step.value), steps()), stepTarget: null } : null;
      step.max = String(steps());
      if (on.checked) view.snapshot = view.snapshotTarget = snapshots - 1; // the attack is on the trained network
      changed();
    };
    for (const control of [on, method, step]) control.addEventListener("input", set);
    playAttack.addEventListener("click", () => { on.checked = true; step.value = "0"; set(); view.attack.stepTarget = steps(); changed(); });
    ui.showAttack = () => {
      const a = view.attack;
      if (!a) return (said.textContent = "");
      const k = Math.round(a.step), rate = attacks.methods[a.method].success[k];
      if (document.activeElement !== step) step.value = String(a.step);
      said.textContent = ` step ${k} of ${steps()}: ${Math.round(100 * rate)}% of ${count(attacks.count)} ${source}s read as ${target}`;
      step.setAttribute("aria-valuetext", said.textContent.trim());
    };
    return [el("label", {}, on, ` attack ${count(attacks.count)} ${source}s towards ${target}: `), method, el("label", {}, "step ", step), playAttack, said];
  }

  ui.show = () => {
    for (const button of legend.children) button.setAttribute("aria-pressed", String(view.selected.has(Number(button.dataset.class))));
    mistakes.checked = view.mistakes;
    training.value = String(view.snapshotTarget);
    play.textContent = view.playing ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(view.playing));
  };

  // Pointer, touch and keys on the canvas: steer an axis, brush dots, or show one dot's example.
  const pointer = (event) => {
    const box = canvas.getBoundingClientRect(), ratio = canvas.width / box.width;
    return [(event.clientX - box.left) * ratio, (event.clientY - box.top) * ratio];
  };
  const reach = (event, mouse, touch) => (event.pointerType === "mouse" ? mouse : touch) * (window.devicePixelRatio || 1);
  const handleAt = (event) => view.renderer.handleAt(...pointer(event), view.rotation, layers[view.layer].dims, reach(event, 12, 20));
  const dotAt = (event) => {
    const p = view.renderer.pointAt(...pointer(event), reach(event, 8, 20));
    return p < data.meta.n ? p : -1;
  };
  const describe = (p) => {
    const predicted = data.predictions(Math.round(view.snapshot))[p];
    return `label ${classes[data.labels[p]]}, predicted ${classes[predicted]}` + (predicted !== data.labels[p] ? " ✗" : "");
  };
  // The tooltip of dot p (-1: none). A mouse shows it in passing (its click loads the example at
  // once); a tap or a key pins it to its dot, with a button that loads the example, until the
  // reader dismisses it: a finger or a key has no hover, and a lifted finger must not lose it.
  let pinned = -1;
  function tip(p, pin) {
    pinned = p >= 0 && pin ? p : -1;
    tooltip.hidden = p < 0;
    if (p < 0) return;
    const text = showPreview(thumb, data, p);
    tipText.textContent = (text === null ? "" : `“${text}”: `) + describe(p);
    load.hidden = !pin;
    tooltip.classList.toggle("pinned", pin);
    place(p);
  }
  // Beside its dot, where the dot is now, inside the canvas.
  function place(p) {
    const r = view.renderer, [x, y] = r.toCanvas(r.positions[2 * p], r.positions[2 * p + 1]), scale = canvas.clientWidth / canvas.width;
    const [w, h] = [tooltip.offsetWidth, tooltip.offsetHeight], [left, top] = [x * scale + 12, y * scale + 12];
    tooltip.style.left = `${Math.max(0, Math.min(left, canvas.clientWidth - w))}px`;
    tooltip.style.top = `${Math.max(0, top + h > canvas.clientHeight ? top - 24 - h : top)}px`;
  }
  ui.follow = () => { if (pinned >= 0) place(pinned); };
  const hover = (event) => { const p = dotAt(event); if (p >= 0 || pinned < 0) tip(p, false); };
  function loadPinned() {
    if (pinned < 0) return;
    pickExample(data.example(pinned));
    status.textContent = `Loaded the ${noun} (${describe(pinned)}) into the explorer.`;
    if (document.activeElement === load) canvas.focus({ preventScroll: true }); // not lost with the tooltip
    tip(-1);
  }
  load.addEventListener("click", loadPinned);
  // A mouse or pen dragged over empty space brushes a rectangle: the points inside are selected,
  // here and in every view of the same sample. A click on a point loads that example into the
  // layer explorer. The selection's handle, at its centroid, steers like an axis. A finger that
  // lifts where it landed (a tap) pins the tooltip of the dot under it; one that moves further
  // is a swipe, which scrolls the page and picks nothing.
  let brushFrom = null, tap = null;
  const slop = 10; // CSS pixels a tapping finger may wander
  const onSelection = (event) => {
    const at = view.centroidAt?.();
    if (!at) return false;
    const [x, y] = view.renderer.toCanvas(...at), [px, py] = pointer(event);
    return Math.hypot(x - px, y - py) < reach(event, 12, 20);
  };
  canvas.addEventListener("pointerdown", (event) => {
    view.dragging = handleAt(event);
    view.steeringSelection = view.dragging < 0 && onSelection(event);
    if (view.dragging >= 0 || view.steeringSelection) return canvas.setPointerCapture(event.pointerId);
    if (event.pointerType === "touch") return (tap = { id: event.pointerId, x: event.clientX, y: event.clientY });
    hover(event);
    brushFrom = pointer(event);
    canvas.setPointerCapture(event.pointerId);
  });
  // A finger that lands on a handle steers; anywhere else a vertical swipe scrolls the page.
  canvas.addEventListener("touchstart", (event) => {
    if (handleAt(event.touches[0]) >= 0 || onSelection(event.touches[0])) event.preventDefault();
  }, { passive: false });
  canvas.addEventListener("pointermove", (event) => {
    if (tap && Math.hypot(event.clientX - tap.x, event.clientY - tap.y) > slop) tap = null;
    const [x, y] = pointer(event), r = view.renderer.radius(), unit = [(x - canvas.width / 2) / r, -(y - canvas.height / 2) / r];
    if (view.steeringSelection) return view.steerSelection(...unit);
    if (view.dragging >= 0) return view.rotation.drag(view.dragging, ...unit);
    if (brushFrom) { view.brush = [brushFrom, [x, y]]; tooltip.hidden = true; return changed(); }
    if (event.pointerType !== "touch") hover(event);
  });
  canvas.addEventListener("pointerup", (event) => {
    if (tap?.id === event.pointerId) tip(dotAt(event), true); // on empty space: closes the tooltip
    tap = null;
    if (brushFrom) {
      const [from, to] = view.brush ?? [brushFrom, brushFrom];
      if (Math.hypot(to[0] - from[0], to[1] - from[1]) < 5 * (window.devicePixelRatio || 1)) pickAt(event);
      else view.select(view.renderer.pointsIn(from, to).filter((p) => p < data.meta.n), "brush");
      brushFrom = view.brush = null;
      changed();
    }
  });
  // The example under the pointer into the explorer (where the reader can edit it and watch it
  // move here); a click on empty space clears the selection.
  function pickAt(event) {
    const p = dotAt(event);
    if (p >= 0) pickExample(data.example(p));
    else view.select(null);
  }
  canvas.addEventListener("pointerleave", () => { if (pinned < 0) tooltip.hidden = true; });
  for (const end of ["pointerup", "pointercancel"]) canvas.addEventListener(end, () => { view.dragging = -1; view.steeringSelection = false; });
  canvas.addEventListener("pointercancel", () => { // the page scrolled instead
    tap = brushFrom = view.brush = null;
    if (pinned < 0) tooltip.hidden = true;
  });
  // The keyboard's way to the dots: , and . step through them by index (the selected ones, if
  // any), showing the same pinned tooltip; Enter loads the one shown; + and - grow and shrink a
  // square brush around it, selecting what it covers as a dragged one does.
  let brushSize = 0; // half the side of the keyboard's brush, in CSS pixels (0: none)
  function stepDots(direction) {
    const order = [...Array(data.meta.n).keys()].filter((p) => !view.mask || view.mask[p]), k = order.indexOf(pinned);
    const p = order[k < 0 ? (direction > 0 ? 0 : order.length - 1) : (k + direction + order.length) % order.length];
    brushSize = 0; view.brush = null;
    tip(p, true);
    status.textContent = `${view.mask ? "Selected " : ""}${noun} ${count(order.indexOf(p) + 1)} of ${count(order.length)}: ` +
      `${describe(p)}. Enter loads it into the explorer.`;
  }
  function brushAround(factor) {
    if (pinned < 0) return (status.textContent = `Choose a ${noun} with , or . first: the brush grows around it.`);
    brushSize = brushSize ? brushSize * factor : factor > 1 ? 16 : 0;
    if (brushSize < 16) { // shrunk away
      brushSize = 0; view.brush = null; view.select(null);
      return (status.textContent = "No brush: nothing selected.");
    }
    const r = view.renderer, [x, y] = r.toCanvas(r.positions[2 * pinned], r.positions[2 * pinned + 1]);
    const half = brushSize * (canvas.width / canvas.clientWidth);
    view.brush = [[x - half, y - half], [x + half, y + half]];
    const inside = r.pointsIn(...view.brush).filter((p) => p < data.meta.n);
    view.select(inside, "brush");
    status.textContent = `${count(inside.length)} ${noun}s brushed around this one; + grows the brush, - shrinks it, , and . step through them.`;
  }
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
    } else if (event.key === "," || event.key === ".") {
      stepDots(event.key === "." ? 1 : -1);
    } else if (event.key === "Enter" && pinned >= 0) {
      loadPinned();
    } else if (event.key === "+" || event.key === "=" || event.key === "-") {
      brushAround(event.key === "-" ? 1 / 1.5 : 1.5);
    } else if (event.key === "Escape" && (pinned >= 0 || view.brush)) {
      tip(-1);
      brushSize = 0; view.brush = null;
    } else return;
    event.preventDefault();
    changed();
  });

  // The labels say what the view shows; rewritten only when that changes, not on every frame.
  let labelled = "";
  function label() {
    const info = layers[view.layer], e = Math.round(view.snapshot), between = view.t > 0 ? Math.round(100 * view.t) : 0;
    const now = `${view.layer} ${between} ${e} ${view.steered}`;
    if (now === labelled) return;
    labelled = now;
    trainingLabel.textContent = ` ${moment(e)}`;
    const said = between ? `${info.name} → ${layers[view.layer + 1].name} (${between}%)` : info.name;
    layerLabel.textContent = between ? ` ${said}` : ` ${info.name}` + (info.reduced ? ` (${info.width} → ${info.dims} dims by PCA)` : ` (${info.dims} dims)`);
    if (document.activeElement !== layer) layer.value = String(view.layer + view.t);
    // Screen readers hear "relu3" and "after 0.25 of 20 epochs", not the sliders' raw numbers.
    layer.setAttribute("aria-valuetext", said);
    training.setAttribute("aria-valuetext", moment(e));
    canvas.setAttribute("aria-label", `Grand Tour of layer ${info.name} ${moment(e)}: ` +
      `each dot is a held-out ${noun}, coloured by its label, in a rotating 2-D view. Keys: arrows steer the axis ` +
      `${view.axisName(info, view.steered % info.dims)}, [ and ] choose another axis, Space plays or pauses, ` +
      ", and . step through the dots, Enter loads the one shown into the explorer, + and - brush around it.");
  }
  Object.assign(ui, { canvas, side, label });
  help.textContent = `${count(data.meta.n)} held-out ${noun}s` + (snapshots > 1
    ? `, recorded ${snapshots} times over ${lastEpoch} epochs of training` + (epochs[1] < 1 ? ", most often in the first" : "")
    : ", through a model trained elsewhere") +
    ". Drag a labelled axis to steer; drag across dots to select them (their centre becomes a handle); " +
    "click one to load it into the explorer (on a touch screen, tap it, then its button). " +
    "Keys on the view: [ and ] choose an axis, arrows steer it, Space plays; , and . step through the dots " +
    "(the selected ones, if any), Enter loads the one shown, + and - brush around it, Escape closes it.";
  return ui;
}

// --- the view in a link: bytes as URL-safe text ----------------------------------------------

const toBase64url = (bytes) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
function fromBase64url(text) { // nothing, for text a hand broke
  try {
    return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}
// Selected points as bits (point p is bit p % 8 of byte p / 8): 125 bytes for 1,000 points.
function bitmask(mask) {
  const bits = new Uint8Array(Math.ceil(mask.length / 8));
  mask.forEach((on, p) => { if (on) bits[p >> 3] |= 1 << (p & 7); });
  return bits;
}
const fromBitmask = (bits, n) => [...Array(n).keys()].filter((p) => (bits[p >> 3] >> (p & 7)) & 1);
// An example's pixels, deflated: a digit is mostly zeros (an MNIST digit shrinks about fourfold).
const squeeze = async (bytes, Stream) => new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new Stream("deflate-raw"))).arrayBuffer());
const deflate = (bytes) => squeeze(bytes, CompressionStream);
const inflate = (bytes) => squeeze(bytes, DecompressionStream);

// --- the widget: state in one place, a loop that runs only on screen ---------------------------

async function mount(root, near) {
  await near;
  const model = root.dataset.model, { dataset: { classes, noun, shape }, palette } = contract();
  const data = await tourData(model);
  const { meta: { n, snapshots, layers } } = data;
  const rotation = new Rotation(Math.max(...layers.map((l) => l.dims)));
  const snapshot = Math.min(Number(root.dataset.snapshot), snapshots - 1);
  // The view's whole state. Under prefers-reduced-motion the tour starts still (a link's play=1
  // too: the reader's setting wins; Play still plays).
  const still = matchMedia("(prefers-reduced-motion: reduce)");
  const view = {
    rotation, playing: !still.matches, speed: 1,
    snapshot, snapshotTarget: snapshot, // fractional while moving between snapshots
    // Where the view is between layers: `layer` (the rotation is in its coordinates) plus a
    // fraction `t` towards the next; it moves towards layerTarget at layerPace layers a second,
    // or jumps to layerAt when the reader drags the slider.
    layer: 0, t: 0, layerTarget: 0, layerPace: 2.5, layerAt: null,
    // The selection: classes picked in the legend, or points brushed here or in another view
    // of the same sample; `mask` marks the selected points (null: none selected, all bright).
    selected: new Set(), mask: null, selection: "", brush: null, steeringSelection: false,
    mistakes: false, steered: 0, dragging: -1,
    attack: null, // { method, step (fractional), stepTarget } while adversarial examples are shown
    reader: null, // { layer, snapshot, point, trail } for the reader's digit
    // A layer's axes: its classes (logits, softmax), principal components, or units.
    axesAreClasses: (info) => !info.reduced && info.dims === classes.length,
    axisName: (info, a) => (view.axesAreClasses(info) ? classes[a] : info.reduced ? `PC${a + 1}` : `unit ${a + 1}`),
  };
  const ui = controls(root, view, data, { classes, noun, palette, shape });
  view.renderer = new TourRenderer(ui.canvas, ui.side, palette);
  const values = new Map(); // layer index -> its points, once fetched
  let pixels = null, shared = null; // the reader's example, once an explorer shows one, and its outputs
  const want = (index) => { if (index < layers.length && !values.has(index)) data.layer(index).then((v) => { values.set(index, v); draw(); }); };
  const start = Math.max(0, layers.findIndex((l) => l.name === root.dataset.layer));
  values.set(start, await data.layer(start));
  // Selecting: the mask, what it is called (the side view redraws when it changes), and the
  // same points announced to the other views of this sample (the manifold figure).
  view.select = (indices, from = "here") => {
    if (indices && !indices.length) indices = null;
    view.mask = indices && new Uint8Array(n);
    indices?.forEach((p) => { view.mask[p] = 1; });
    view.selection = indices ? `${from}:${indices.length}:${indices.slice(0, 8)}` : "";
    if (from !== "classes") view.selected.clear();
    ui.show();
    if (from !== "elsewhere") announceSelection(indices && indices.map((p) => data.examples[p]), root);
    draw();
  };
  view.selectClasses = () => view.select(view.selected.size ? [...data.labels.keys()].filter((p) => view.selected.has(data.labels[p])) : null, "classes");
  onSelection(root, (examples) => view.select(examples && examples.map((e) => data.position.get(e)).filter((p) => p !== undefined), "elsewhere"));
  // The selection's centre in the shown layer (n-D, at the snapshot shown), and where it lands.
  function centroid() {
    const info = layers[view.layer], d = info.dims, e = Math.round(view.snapshot), points = values.get(view.layer);
    if (!view.mask || !points) return null;
    const c = new Float64Array(rotation.n);
    let count = 0;
    for (let p = 0; p < n; p++)
      if (view.mask[p]) { count++; for (let k = 0; k < d; k++) c[k] += points[(e * n + p) * d + k]; }
    return count ? c.map((v) => v / count) : null;
  }
  view.centroidAt = () => {
    const c = centroid();
    if (!c || view.t > 0) return null;
    const s = spread(layers[view.layer], view.snapshot), m = rotation.matrix;
    return [c.reduce((a, v, k) => a + v * m[k][0], 0) / s, c.reduce((a, v, k) => a + v * m[k][1], 0) / s];
  };
  view.steerSelection = (x, y) => {
    const c = centroid(), size = c && Math.hypot(...c);
    if (!size) return;
    const s = spread(layers[view.layer], view.snapshot) / size; // its projection is the unit vector's times |c| / spread
    rotation.dragVector(c.map((v) => v / size), x * s, y * s);
  };

  // Rebase the rotation as the position crosses layers, so it always lives in `layer`'s
  // coordinates: carried along the alignment between each pair crossed.
  function moveTo(at) {
    const base = Math.min(Math.floor(at), layers.length - 1), e = Math.round(view.snapshot);
    while (view.layer < base) rotation.turn(data.align(e, view.layer++), true);
    while (view.layer > base) rotation.turn(data.align(e, --view.layer), false);
    view.t = at - base;
    want(base); want(base + 1);
    if (view.t === 0) updateReader();
  }
  moveTo(start);
  view.layerTarget = start;
  // Rings and the reader's point in the page's own text colour, so dark mode keeps them visible.
  const colours = () => ({ palette, ink: getComputedStyle(root).color, paper: getComputedStyle(document.body).backgroundColor });
  let paint = colours();
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { paint = colours(); draw(); });

  let frames = 0, last = performance.now();
  function advance() {
    const now = performance.now(), dt = Math.min(0.1, (now - last) / 1000);
    last = now;
    if (view.playing && view.dragging < 0 && !view.steeringSelection) rotation.step(dt * view.speed * 0.6);
    const gap = view.snapshotTarget - view.snapshot;
    view.snapshot = Math.abs(gap) <= dt * 4 ? view.snapshotTarget : view.snapshot + Math.sign(gap) * dt * 4;
    if (view.attack?.stepTarget != null) {
      const a = view.attack, gap = a.stepTarget - a.step;
      a.step = Math.abs(gap) <= dt * 3 ? a.stepTarget : a.step + Math.sign(gap) * dt * 3;
      if (a.step === a.stepTarget) a.stepTarget = null;
    }
    if (view.layerAt !== null) { moveTo(view.layerAt); view.layerAt = null; }
    const at = view.layer + view.t, step = dt * view.layerPace;
    if (at !== view.layerTarget) moveTo(Math.abs(view.layerTarget - at) <= step ? view.layerTarget : at + Math.sign(view.layerTarget - at) * step);
  }
  function draw() {
    const info = layers[view.layer], e = Math.round(view.snapshot), predicted = data.predictions(e);
    if (!values.has(view.layer)) return; // its points are on their way
    const nextValues = view.t > 0 && values.get(view.layer + 1);
    const readerAt = view.renderer.draw({
      values: values.get(view.layer), info, count: n, snapshot: view.snapshot, rotation, labels: data.labels,
      marks: attackMarks(e),
      mask: view.mask, key: view.selection, centroid: view.centroidAt(), brush: view.brush, colours: paint, noun, axesAreClasses: view.axesAreClasses, axisName: view.axisName,
      wrong: view.mistakes ? [...predicted.keys()].filter((p) => predicted[p] !== data.labels[p]) : null,
      next: nextValues ? { values: nextValues, info: layers[view.layer + 1], t: view.t, columns: rotation.ahead(data.align(e, view.layer)) } : null,
      reader: view.t === 0 && view.reader?.layer === view.layer && view.reader.snapshot === e ? view.reader : null,
    });
    ui.showAttack?.();
    if (readerAt) root.dataset.readerPoint = readerAt.map((v) => v.toFixed(1)).join(",");
    ui.label();
    ui.follow();
    root.dataset.frames = String(++frames);
  }
  // The adversarial examples where the attack has taken them by its current (fractional) step,
  // in the shown layer, blended towards the next one between layers; each filled with the
  // colour of the class the network now reads it as. Only at the last snapshot: the attack is on
  // the trained network.
  const attackValues = new Map();
  function attackMarks(e) {
    const a = view.attack, attacks = data.meta.attacks;
    if (!a || e !== snapshots - 1) return null;
    if (!attackValues.has(a.method)) {
      attackValues.set(a.method, null);
      data.attack(a.method).then((v) => { attackValues.set(a.method, v); draw(); });
    }
    const values = attackValues.get(a.method), method = attacks.methods[a.method], m = attacks.count;
    if (!values) return null;
    const s0 = Math.floor(a.step), s1 = Math.min(s0 + 1, method.steps), f = a.step - s0;
    const place = (index, columns) => {
      const info = layers[index], d = info.dims, [offset] = method.offsets[info.name], scale = spread(info, snapshots - 1);
      return Array.from({ length: m }, (_, p) => {
        let x = 0, y = 0;
        for (let k = 0; k < d; k++) {
          const v = (1 - f) * values[offset + (s0 * m + p) * d + k] + f * values[offset + (s1 * m + p) * d + k];
          x += v * columns[k][0];
          y += v * columns[k][1];
        }
        return [x / scale, y / scale];
      });
    };
    let at = place(view.layer, rotation.matrix);
    if (view.t > 0) {
      const next = place(view.layer + 1, rotation.ahead(data.align(e, view.layer)));
      at = at.map(([x, y], p) => [(1 - view.t) * x + view.t * next[p][0], (1 - view.t) * y + view.t * next[p][1]]);
    }
    const reads = method.predictions[Math.round(a.step)];
    return at.map(([x, y], p) => ({ x, y, colour: palette[reads[p]] }));
  }

  // Off screen the loop stops (no frame is even requested): a reader scrolling elsewhere (or
  // drawing in the explorer just above) keeps the whole frame budget. lifecycle.js says when.
  let frame = 0;
  const moving = () => view.playing || view.snapshot !== view.snapshotTarget || view.layer + view.t !== view.layerTarget ||
    view.layerAt !== null || view.dragging >= 0 || view.steeringSelection || view.attack?.stepTarget != null;
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

  // The reader's digit, from the layer explorer, through the weights of the snapshot shown.
  async function updateReader() {
    const e = view.snapshotTarget, index = view.layer;
    if (!pixels) return;
    const point = await data.readerPoint(pixels, e, index, shared?.model === model ? shared.values : null);
    if (e !== view.snapshotTarget || index !== view.layer) return;
    if (!point) { view.reader = null; return draw(); } // not placed at this snapshot (text: the trained model's only)
    // Its last places in this layer and snapshot: the path an edit or an attack took it along.
    const last = view.reader?.layer === index && view.reader.snapshot === e ? view.reader : null;
    const moved = last && last.point.some((v, k) => v !== point[k]);
    view.reader = { layer: index, snapshot: e, point, trail: !last ? [] : moved ? [...last.trail, last.point].slice(-12) : last.trail };
    draw();
  }
  root.addEventListener("tour:changed", () => { if (view.reader?.snapshot !== view.snapshotTarget) updateReader(); draw(); });
  // The view in the URL fragment (#figure?layer=relu3&epoch=1&select=1,7&view=...): a link
  // reopens it exactly. Written as the reader changes it; read when a link sets it. The keys
  // are the figure's `state` in layerwise/figures/grand_tour.py, which checks links in prose.
  const figureId = root.closest("figure")?.id;
  function stateQuery(example) {
    const state = { layer: layers[view.layer].name, ...(view.t ? { t: view.t.toFixed(3) } : {}), epoch: data.meta.epochs[view.snapshotTarget],
      ...(view.selected.size ? { select: [...view.selected].sort((a, b) => a - b).join(",") } : {}),
      ...(view.mistakes ? { mistakes: 1 } : {}), play: view.playing ? 1 : 0,
      view: rotation.matrix.flatMap((row) => [row[0], row[1]]).map((v) => v.toFixed(4)).join(","),
      ...(view.mask && !view.selected.size ? { points: toBase64url(bitmask(view.mask)) } : {}),
      ...(example ? { example } : {}) };
    return Object.entries(state).map(([k, v]) => `${k}=${encodeURIComponent(v).replaceAll("%2C", ",")}`).join("&");
  }
  let written = 0;
  function writeState() {
    if (!figureId) return;
    clearTimeout(written);
    written = setTimeout(async () => { // the example deflated here, not on every stroke
      const example = pixels && data.meta.every_snapshot && toBase64url(await deflate(Uint8Array.from(pixels, (v) => Math.round(v * 255))));
      history.replaceState(null, "", `#${figureId}?${stateQuery(example)}`);
    }, 250);
  }
  function readState(query) {
    const state = new URLSearchParams(query), number = (key) => Number(state.get(key));
    const index = layers.findIndex((l) => l.name === state.get("layer"));
    if (index >= 0) view.layerAt = view.layerTarget = Math.min(layers.length - 1, index + (number("t") || 0));
    if (state.has("epoch")) { // the snapshot nearest the epoch asked for
      const gaps = data.meta.epochs.map((t) => Math.abs(t - number("epoch")));
      view.snapshot = view.snapshotTarget = gaps.indexOf(Math.min(...gaps));
    }
    if (state.has("select")) {
      view.selected = new Set(state.get("select").split(",").filter(Boolean)
        .map((c) => (classes.includes(c) ? classes.indexOf(c) : Number(c))).filter((c) => c >= 0 && c < classes.length));
      view.selectClasses();
    }
    if (state.has("points")) view.select(fromBitmask(fromBase64url(state.get("points")), n), "link");
    if (state.has("example")) { // into the explorer, which shows it and sends it back here
      inflate(fromBase64url(state.get("example"))).then((bytes) => {
        if (bytes.length === exampleSize()) pickExample(bytes);
      }, () => {});
    }
    view.mistakes = state.get("mistakes") === "1";
    if (state.has("play")) view.playing = state.get("play") === "1" && !still.matches;
    if (view.layerAt !== null) { moveTo(view.layerAt); view.layerAt = null; }
    const columns = (state.get("view") || "").split(",").map(Number);
    if (columns.length === 2 * rotation.n && columns.every(Number.isFinite)) {
      rotation.matrix.forEach((row, k) => { row[0] = columns[2 * k]; row[1] = columns[2 * k + 1]; });
      rotation.orthonormalize();
    }
    ui.show();
    updateReader();
    draw();
  }
  const linked = () => {
    const [id, query] = location.hash.slice(1).split("?");
    return decodeURIComponent(id) === figureId && query ? query : null;
  };
  window.addEventListener("hashchange", () => { if (linked()) readState(linked()); });
  // The explorer's example (the latest at once, if it showed one before the tour came near): the
  // reader's dot, and part of a link to this view once the address holds one.
  onExample((shown, outputs) => {
    pixels = shown;
    shared = outputs;
    updateReader();
    if (linked()) writeState();
  });
  root.addEventListener("tour:changed", writeState);
  ui.canvas.addEventListener("pointerup", writeState);
  new ResizeObserver(() => { view.renderer.size(); draw(); }).observe(ui.canvas);
  if (linked()) readState(linked());
  view.renderer.size();
  return { root, view, onscreen: () => run(true), offscreen: () => run(false) };
}

register("tours", ".grand-tour", mount);

// A link to a view of a tour (#figure?layer=...) scrolls to it, which also starts it.
function linkedTour() {
  const figure = document.getElementById(decodeURIComponent(location.hash.slice(1).split("?")[0]));
  return figure?.querySelector(".grand-tour") ? figure : null;
}
linkedTour()?.scrollIntoView();
window.addEventListener("hashchange", () => linkedTour()?.scrollIntoView());
