// The Grand Tour's view state, without a page: what the view shows (layer, moment, rotation,
// selection, attack, the reader's point), the actions that change it, its motion over time, and
// its encoding in a link. `sample` is what the state is about: { n, snapshots, layers, epochs, classes,
// labels, align(snapshot, layer) } (tour-data.js); the link's keys and what each accepts are the
// figure's, handed over in the contract (figures/grand_tour.py STATE) and read by link-state.js,
// with a codec below for each of the tour's own types (a layer, an epoch, classes, points, an example).

import * as link from "./link-state.js";
import { Rotation, spread } from "./tour-projection.js";

// The view's whole state. Under prefers-reduced-motion (`still`) the tour starts still.
export function initialState({ dims, snapshot, still }) {
  return {
    rotation: new Rotation(dims), playing: !still, speed: 1,
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
    reader: null, // { layer, snapshot, point, trail } for the reader's example
  };
}

// --- actions: each changes the state and nothing else ---------------------------------------

// Select points (indices, or null for none); `from` names who selected them.
export function select(state, indices, from, n) {
  if (indices && !indices.length) indices = null;
  state.mask = indices && new Uint8Array(n);
  indices?.forEach((p) => { state.mask[p] = 1; });
  state.selection = indices ? `${from}:${indices.length}:${indices.slice(0, 8)}` : "";
  if (from !== "classes") state.selected.clear();
  return indices;
}

// The points of the classes picked in the legend (none picked: no selection).
export function selectClasses(state, sample) {
  const { labels, n } = sample;
  return select(state, state.selected.size ? [...labels.keys()].filter((p) => state.selected.has(labels[p])) : null, "classes", n);
}

export function toggleClass(state, sample, c) {
  if (!state.selected.delete(c)) state.selected.add(c);
  return selectClasses(state, sample);
}

// Rebase the rotation as the position crosses layers, so it always lives in `layer`'s
// coordinates: carried along the alignment between each pair crossed.
export function moveTo(state, sample, at) {
  const { layers, align } = sample, base = Math.min(Math.floor(at), layers.length - 1), e = Math.round(state.snapshot);
  while (state.layer < base) state.rotation.turn(align(e, state.layer++), true);
  while (state.layer > base) state.rotation.turn(align(e, --state.layer), false);
  state.t = at - base;
}

// Towards a layer at `pace` layers a second (the layer slider's keys, Play layers).
export function goToLayer(state, at, pace = 2.5) { state.layerTarget = at; state.layerPace = pace; }
// Straight to a position between layers (the slider dragged).
export function scrubLayer(state, at) { state.layerAt = state.layerTarget = at; }
// The whole layer a key on the slider goes to from where the view is, or undefined.
export function layerForKey(state, key, last) {
  const at = state.layer + state.t, to = { ArrowRight: Math.floor(at) + 1, ArrowUp: Math.floor(at) + 1, ArrowLeft: Math.ceil(at) - 1,
    ArrowDown: Math.ceil(at) - 1, PageUp: Math.floor(at) + 1, PageDown: Math.ceil(at) - 1, Home: 0, End: last }[key];
  return to === undefined ? undefined : Math.max(0, Math.min(last, to));
}
// From the input to the output, a layer every 1.25 seconds (from the input again if at the end).
export function playLayers(state, last) {
  if (state.layer + state.t >= last) state.layerAt = 0;
  goToLayer(state, last, 0.8);
}

export function setSnapshot(state, k) { state.snapshotTarget = k; }
export function restartTraining(state) { state.snapshot = state.snapshotTarget = 0; }

// An attack on (its method, how many of its steps) or off; it is on the trained network.
export function setAttack(state, attack, snapshots) {
  state.attack = attack && { ...attack, stepTarget: null };
  if (attack) state.snapshot = state.snapshotTarget = snapshots - 1;
}
export function playAttack(state, steps) { state.attack.stepTarget = steps; }

// Steering: axis `axis` (or the selection's handle, -2) grabbed, moved to (x, y) of the unit disk, let go.
export function grab(state, axis, selection) { state.dragging = axis; state.steeringSelection = axis < 0 && selection; }
export function release(state) { state.dragging = -1; state.steeringSelection = false; }
export function drag(state, sample, points, x, y) {
  if (state.steeringSelection) return steerSelection(state, sample, points, x, y);
  if (state.dragging >= 0) state.rotation.drag(state.dragging, x, y);
}
// The keyboard's steering: move the steered axis's handle by (dx, dy), or choose the next axis.
export function nudge(state, dims, dx, dy) {
  state.steered %= dims;
  const [hx, hy] = state.rotation.handle(state.steered);
  state.rotation.drag(state.steered, hx + dx, hy + dy);
}
export function nextAxis(state, dims, direction) { state.steered = (state.steered % dims + (direction > 0 ? 1 : dims - 1)) % dims; }

// The selection's centre in the shown layer (n-D, at the snapshot shown), or null.
export function centroid(state, sample, points) {
  const { n, layers } = sample, d = layers[state.layer].dims, e = Math.round(state.snapshot);
  if (!state.mask || !points) return null;
  const c = new Float64Array(state.rotation.n);
  let count = 0;
  for (let p = 0; p < n; p++)
    if (state.mask[p]) { count++; for (let k = 0; k < d; k++) c[k] += points[(e * n + p) * d + k]; }
  return count ? c.map((v) => v / count) : null;
}
// Where the selection's centre lands on screen (null between layers: it has no handle there).
export function centroidAt(state, sample, points) {
  const c = centroid(state, sample, points);
  if (!c || state.t > 0) return null;
  const s = spread(sample.layers[state.layer], state.snapshot), m = state.rotation.matrix;
  return [c.reduce((a, v, k) => a + v * m[k][0], 0) / s, c.reduce((a, v, k) => a + v * m[k][1], 0) / s];
}
function steerSelection(state, sample, points, x, y) {
  const c = centroid(state, sample, points), size = c && Math.hypot(...c);
  if (!size) return;
  const s = spread(sample.layers[state.layer], state.snapshot) / size; // its projection is the unit vector's times |c| / spread
  state.rotation.dragVector(c.map((v) => v / size), x * s, y * s);
}

// The reader's point in a layer at a snapshot; its trail keeps its last places there.
export function setReader(state, layer, snapshot, point) {
  const last = state.reader?.layer === layer && state.reader.snapshot === snapshot ? state.reader : null;
  const moved = last && last.point.some((v, k) => v !== point[k]);
  state.reader = { layer, snapshot, point, trail: !last ? [] : moved ? [...last.trail, last.point].slice(-12) : last.trail };
}

// --- motion: where the view is `dt` seconds later ------------------------------------------

// Moves rotation, snapshot, attack step and layer towards their targets; true if the layer moved.
export function advance(state, sample, dt) {
  if (state.playing && state.dragging < 0 && !state.steeringSelection) state.rotation.step(dt * state.speed * 0.6);
  const gap = state.snapshotTarget - state.snapshot;
  state.snapshot = Math.abs(gap) <= dt * 4 ? state.snapshotTarget : state.snapshot + Math.sign(gap) * dt * 4;
  if (state.attack?.stepTarget != null) {
    const a = state.attack, gap = a.stepTarget - a.step;
    a.step = Math.abs(gap) <= dt * 3 ? a.stepTarget : a.step + Math.sign(gap) * dt * 3;
    if (a.step === a.stepTarget) a.stepTarget = null;
  }
  let moved = false;
  if (state.layerAt !== null) { moveTo(state, sample, state.layerAt); state.layerAt = null; moved = true; }
  const at = state.layer + state.t, step = dt * state.layerPace;
  if (at !== state.layerTarget) {
    moveTo(state, sample, Math.abs(state.layerTarget - at) <= step ? state.layerTarget : at + Math.sign(state.layerTarget - at) * step);
    moved = true;
  }
  return moved;
}

// Whether anything on screen is moving (else no frame need be drawn).
export const moving = (state) => state.playing || state.snapshot !== state.snapshotTarget || state.layer + state.t !== state.layerTarget ||
  state.layerAt !== null || state.dragging >= 0 || state.steeringSelection || state.attack?.stepTarget != null;

// --- the view in a link (#figure?layer=relu3&epoch=1&select=1,7&view=...) -------------------

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
export const deflateExample = async (pixels) => toBase64url(await squeeze(Uint8Array.from(pixels, (v) => Math.round(v * 255)), CompressionStream));
export const inflateExample = (bytes) => squeeze(bytes, DecompressionStream);

// The tour's own link types (figures/__init__.py's converters name them), each a codec over the
// sample: read(text) -> a value (undefined: not one), write(value) -> text.
const CODECS = {
  layer: ({ layers }) => ({ // by name -> its index
    read(name) { const index = layers.findIndex((l) => l.name === name); return index < 0 ? undefined : index; },
    write: (index) => layers[index].name,
  }),
  epoch: ({ epochs }) => ({ // a moment of training -> the nearest snapshot
    read(text) {
      const gaps = epochs.map((t) => Math.abs(t - Number(text)));
      return text.trim() && Number.isFinite(Number(text)) ? gaps.indexOf(Math.min(...gaps)) : undefined;
    },
    write: (snapshot) => String(epochs[snapshot]),
  }),
  classes: ({ classes }) => ({ // by index (or by name, as prose may write them)
    read: (text) => text.split(",").filter(Boolean).map((c) => (classes.includes(c) ? classes.indexOf(c) : Number(c)))
      .filter((c) => Number.isInteger(c) && c >= 0 && c < classes.length),
    write: (selected) => [...selected].sort((a, b) => a - b).join(","),
  }),
  points: ({ n }) => ({ read: (text) => fromBitmask(fromBase64url(text), n), write: (mask) => toBase64url(bitmask(mask)) }),
  example: () => ({ read: fromBase64url, write: (deflated) => deflated }), // written already as base64url (deflateExample)
};
const codecsOf = (sample) => Object.fromEntries(Object.entries(CODECS).map(([type, codec]) => [type, codec(sample)]));

// The figure's link schema, from the contract, once its every type has a codec here.
export function linkSchema(schema) {
  link.checkCodecs(schema, CODECS);
  return schema;
}

// The view as a link's query; `example`: the reader's example, deflated (deflateExample). Numbers
// are rounded as text (a short link); commas left as they are.
export function encode(state, sample, schema, example = null) {
  const values = {
    layer: state.layer, t: state.t ? state.t.toFixed(3) : null, epoch: state.snapshotTarget,
    select: state.selected.size ? state.selected : null, mistakes: state.mistakes || null, play: state.playing,
    view: state.rotation.matrix.flatMap((row) => [row[0], row[1]]).map((v) => v.toFixed(4)), // the projection's two columns
    points: state.mask && !state.selected.size ? state.mask : null, // brushed points, when no class is picked
    example: example || null,
  };
  return link.encode(schema, values, codecsOf(sample)).replaceAll("%2C", ",");
}

// What a link's query sets: { layerAt (with t, the fraction towards the next layer), snapshot,
// selected, points, example (deflated bytes), mistakes (false unless set), play, view }, each
// only where the link has it.
export function decode(query, sample, schema) {
  const read = link.decode(schema, query, codecsOf(sample)), found = { mistakes: read.mistakes ?? false };
  if (read.layer !== undefined) found.layerAt = Math.min(sample.layers.length - 1, read.layer + (read.t ?? 0));
  if (read.epoch !== undefined) found.snapshot = read.epoch;
  const named = { select: "selected", play: "play", view: "view", points: "points", example: "example" };
  for (const [key, name] of Object.entries(named)) if (read[key] !== undefined) found[name] = read[key];
  return found;
}

// The view a decoded link sets (the example goes to the explorer, not here); `still`: the
// reader prefers reduced motion, which wins over a link's play=1.
export function apply(state, sample, link, still) {
  if (link.layerAt !== undefined) scrubLayer(state, link.layerAt);
  if (link.snapshot !== undefined) state.snapshot = state.snapshotTarget = link.snapshot;
  if (link.selected) { state.selected = new Set(link.selected); selectClasses(state, sample); }
  if (link.points) select(state, link.points, "link", sample.n);
  state.mistakes = link.mistakes;
  if (link.play !== undefined) state.playing = link.play && !still;
  if (state.layerAt !== null) { moveTo(state, sample, state.layerAt); state.layerAt = null; }
  const columns = link.view ?? [];
  if (columns.length === 2 * state.rotation.n && columns.every(Number.isFinite)) {
    state.rotation.matrix.forEach((row, k) => { row[0] = columns[2 * k]; row[1] = columns[2 * k + 1]; });
    state.rotation.orthonormalize();
  }
}
