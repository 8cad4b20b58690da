// The Grand Tour's renderer: draws a given scene (a layer's points at a moment, under a rotation)
// on the tour's canvas and its PCA side view, and answers what is drawn where. Pixels only:
// no state of the view and no events (tour-state.js, tour-controls.js).

import { axesAreClasses, axisName, place, project, spread } from "./tour-projection.js";

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


// A scene, all the renderer draws: { values, info, count, snapshot (fractional), rotation,
// labels (one per point), classes, noun, colours: { palette, ink, paper } } and, each optional,
// mask (1 for each point to show bright; none: all), key (what the mask selects, for the side
// view), centroid (the selection's centre on screen, its handle), brush (a rectangle), marks
// (extra points { x, y, colour }: adversarial examples), wrong (indices to ring), next: { values,
// info, t, columns } between this layer and the next (columns: the next layer's view, aligned to
// this one's), reader: { point, trail (where it was before, oldest first) }.
export function scene(parts) {
  return { mask: null, key: "", centroid: null, brush: null, marks: null, wrong: null, next: null, reader: null,
    classes: [], noun: "point", ...parts };
}

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

  // The unit disk's radius on a canvas, a margin inside its edges (the side view's too: its
  // outermost dots sat on the panel's edge).
  radius(canvas = this.canvas) { return Math.min(canvas.width, canvas.height) / 2 - 16; }

  // Canvas pixels of a screen point of the unit disk, and back.
  toCanvas(x, y) { return [this.canvas.width / 2 + x * this.radius(), this.canvas.height / 2 - y * this.radius()]; }
  toUnit(x, y) { return [(x - this.canvas.width / 2) / this.radius(), -(y - this.canvas.height / 2) / this.radius()]; }

  // Canvas pixels of point p as last drawn.
  pointOnCanvas(p) { return this.toCanvas(this.positions[2 * p], this.positions[2 * p + 1]); }

  // Draws the scene; returns where the reader's point is drawn (canvas pixels), or null.
  draw(scene) {
    const { count } = scene;
    if (this.positions.length !== 2 * count) {
      this.positions = new Float32Array(2 * count);
      this.nextPositions = new Float32Array(2 * count);
    }
    const positions = this.positions, { next } = scene;
    project(scene.values, scene.info, scene.snapshot, count, scene.rotation.matrix, positions);
    if (next) {
      // Between two layers: the next one under the aligned view, blended by how far along.
      project(next.values, next.info, scene.snapshot, count, next.columns, this.nextPositions);
      for (let i = 0; i < positions.length; i++) positions[i] = (1 - next.t) * positions[i] + next.t * this.nextPositions[i];
    }
    const ctx = this.canvas.getContext("2d");
    this.splat(ctx, count, scene.labels, scene.mask);
    if (scene.wrong?.length) this.drawRings(ctx, scene.wrong, scene.colours.ink);
    const texts = [], markers = []; // text to lay out last; what it must not cover
    this.drawHandles(ctx, scene, texts, markers);
    this.drawMarks(ctx, scene);
    this.drawSelection(ctx, scene, texts, markers);
    const readerAt = scene.reader ? this.drawReader(ctx, scene, texts, markers) : null;
    this.drawLabels(ctx, texts, markers, scene.colours);
    this.drawSide(scene);
    return readerAt;
  }

  // Rings around the points `wrong` (the ones the network gets wrong).
  drawRings(ctx, wrong, ink) {
    const [cx, cy] = this.toCanvas(0, 0), r = this.radius(), positions = this.positions;
    ctx.strokeStyle = ink;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (const p of wrong) {
      ctx.moveTo(cx + positions[2 * p] * r + 5, cy - positions[2 * p + 1] * r);
      ctx.arc(cx + positions[2 * p] * r, cy - positions[2 * p + 1] * r, 5, 0, 2 * Math.PI);
    }
    ctx.stroke();
  }

  // Handles: the projected axes (a class in the logits and the softmax, a principal component
  // in reduced layers, a unit in other narrow ones), each ending in a dot of its colour.
  drawHandles(ctx, { next, rotation, classes, colours: { palette }, info: shown }, texts, markers) {
    const [cx, cy] = this.toCanvas(0, 0);
    const nearer = next && next.t >= 0.5 ? next : null; // the handles of the nearer layer
    const info = nearer ? nearer.info : shown;
    for (let a = 0; a < info.dims; a++) {
      const [x, y] = this.toCanvas(...(nearer ? nearer.columns[a] : rotation.handle(a)));
      ctx.strokeStyle = ctx.fillStyle = axesAreClasses(info, classes) ? palette[a] : "#888";
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(x, y); ctx.stroke();
      ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
      texts.push({ text: axisName(info, a, classes), at: [x, y] });
      markers.push([x, y, 5]);
    }
  }

  // Adversarial examples, filled with what they are read as.
  drawMarks(ctx, { marks, colours: { ink } }) {
    for (const mark of marks ?? []) {
      const [x, y] = this.toCanvas(mark.x, mark.y);
      ctx.fillStyle = mark.colour; ctx.strokeStyle = ink; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, y - 6); ctx.lineTo(x + 6, y); ctx.lineTo(x, y + 6); ctx.lineTo(x - 6, y); ctx.closePath();
      ctx.fill(); ctx.stroke();
    }
  }

  // The selection's handle (drag it to steer by the selected points) and the brush's rectangle.
  drawSelection(ctx, { centroid, brush, colours: { ink } }, texts, markers) {
    if (centroid) {
      const [x, y] = this.toCanvas(...centroid);
      ctx.strokeStyle = ink; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, 9, 0, 2 * Math.PI); ctx.moveTo(x - 4, y); ctx.lineTo(x + 4, y); ctx.moveTo(x, y - 4); ctx.lineTo(x, y + 4); ctx.stroke();
      texts.push({ text: "selection", at: [x, y] });
      markers.push([x, y, 10]);
    }
    if (brush) {
      const [[x0, y0], [x1, y1]] = brush;
      ctx.strokeStyle = ink; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
      ctx.setLineDash([]);
    }
  }

  // The reader's point, and a line through where it was a moment ago (a stroke, an attack's steps).
  drawReader(ctx, { reader, info, snapshot, rotation, noun, colours: { ink, paper } }, texts, markers) {
    const s = spread(info, snapshot), at = (point) => this.toCanvas(...place(point, info.dims, rotation.matrix, s));
    const readerAt = at(reader.point);
    if (reader.trail.length) {
      ctx.strokeStyle = ink; ctx.lineWidth = 1.5; ctx.globalAlpha = 0.6;
      ctx.beginPath();
      for (const [x, y] of reader.trail.map(at)) ctx.lineTo(x, y);
      ctx.lineTo(...readerAt);
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    ctx.fillStyle = ink; ctx.strokeStyle = paper; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(...readerAt, 8, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    texts.unshift({ text: `your ${noun}`, at: readerAt }); // placed first: the one the reader looks for
    markers.push([...readerAt, 10]);
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
  splat(ctx, count, labels, mask) {
    const { width, height } = this.canvas, [cx, cy] = this.toCanvas(0, 0), r = this.radius();
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
    const ctx = this.side.getContext("2d"), r = this.radius(this.side);
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
