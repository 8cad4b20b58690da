// The playground's state, without a page: the reader's setup (what the URL fragment holds), the
// points it makes, and the graphs' inputs for it. The datasets and the generator are those of
// layerwise/playground.py (TensorFlow Playground's formulas, mulberry32), so a seed makes the same
// points there and here; `model` is that module's description of the graphs (the figure hands it).

import * as link from "./link-state.js";

// mulberry32: uniform floats in [0, 1) from a 32-bit seed.
export function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.uniform = (low, high) => next() * (high - low) + low;
  next.normal = (mean, variance) => { // Marsaglia's polar method
    let v1, v2, s;
    do { v1 = 2 * next() - 1; v2 = 2 * next() - 1; s = v1 * v1 + v2 * v2; } while (s > 1);
    return mean + Math.sqrt(variance) * Math.sqrt((-2 * Math.log(s)) / s) * v1;
  };
  return next;
}

const GAUSSIANS = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]];
function regressionTarget(name, x, y) {
  if (name === "plane") return (x + y) / 10;
  let label = 0; // multigauss: the strongest of six bumps, each 1 at its centre, 0 from 2 away
  for (const [cx, cy, sign] of GAUSSIANS) {
    const value = sign * Math.max(0, 1 - Math.hypot(x - cx, y - cy) / 2);
    if (Math.abs(value) > Math.abs(label)) label = value;
  }
  return label;
}

// n points of a named dataset, [x1, x2, label] each, noise in [0, 0.5], in the order drawn.
export function generate(name, n, noise, seed, extent = 6) {
  const rng = random(seed), points = [];
  if (name === "circle") {
    const radius = 5;
    for (const [low, high] of [[0, radius * 0.5], [radius * 0.7, radius]])
      for (let i = 0; i < Math.floor(n / 2); i++) {
        const r = rng.uniform(low, high), angle = rng.uniform(0, 2 * Math.PI);
        const x = r * Math.sin(angle), y = r * Math.cos(angle);
        const nx = rng.uniform(-radius, radius) * noise, ny = rng.uniform(-radius, radius) * noise;
        points.push([x, y, Math.hypot(x + nx, y + ny) < radius * 0.5 ? 1 : -1]);
      }
  } else if (name === "xor") {
    for (let i = 0; i < n; i++) {
      let x = rng.uniform(-5, 5), y = rng.uniform(-5, 5);
      x += x > 0 ? 0.3 : -0.3; y += y > 0 ? 0.3 : -0.3; // apart from the axes
      const nx = rng.uniform(-5, 5) * noise, ny = rng.uniform(-5, 5) * noise;
      points.push([x, y, (x + nx) * (y + ny) >= 0 ? 1 : -1]);
    }
  } else if (name === "gauss") {
    const variance = 0.5 + 7 * noise;
    for (const [centre, label] of [[2, 1], [-2, -1]])
      for (let i = 0; i < Math.floor(n / 2); i++) points.push([rng.normal(centre, variance), rng.normal(centre, variance), label]);
  } else if (name === "spiral") {
    const half = Math.floor(n / 2);
    for (const [turn, label] of [[0, 1], [Math.PI, -1]])
      for (let i = 0; i < half; i++) {
        const r = (i / half) * 5, t = ((1.75 * i) / half) * 2 * Math.PI + turn;
        points.push([r * Math.sin(t) + rng.uniform(-1, 1) * noise, r * Math.cos(t) + rng.uniform(-1, 1) * noise, label]);
      }
  } else {
    for (let i = 0; i < n; i++) {
      const x = rng.uniform(-extent, extent), y = rng.uniform(-extent, extent);
      const nx = rng.uniform(-extent, extent) * noise, ny = rng.uniform(-extent, extent) * noise;
      points.push([x, y, regressionTarget(name, x + nx, y + ny)]);
    }
  }
  return points;
}

// Shuffled with the seed (Fisher-Yates), then the first `ratio` to train on, the rest held out.
export function split(points, ratio, seed) {
  const rng = random(seed), shuffled = points.slice();
  for (let counter = shuffled.length - 1; counter > 0; counter--) {
    const index = Math.floor(rng() * (counter + 1));
    [shuffled[counter], shuffled[index]] = [shuffled[index], shuffled[counter]];
  }
  const cut = Math.floor(shuffled.length * ratio);
  return { train: shuffled.slice(0, cut), test: shuffled.slice(cut) };
}

// `model.own`: an author's points as the build read them from the figure's CSV (playground.OwnPoints:
// name, problem, labels, rows of x1, x2 and -1/+1 or a target), or null.
const ownData = (model, data) => (model.own?.name === data ? model.own : null);
export const problemOf = (model, data) =>
  ownData(model, data)?.problem ?? (model.datasets.regression.includes(data) ? "regression" : "classification");

// The setup's points: { train, test }; an author's as they are (no noise added).
export function dataset(model, setup) {
  const own = ownData(model, setup.data);
  const points = own ? own.rows.map((row) => row.slice())
    : generate(setup.data, model.points[problemOf(model, setup.data)], setup.noise / 100, setup.seed, model.extent);
  return split(points, setup.ratio / 100, setup.seed);
}

// The names of the labels -1 and +1 where the setup's points name them (an author's), else null.
export const labelNames = (model, setup) => (ownData(model, setup.data)?.labels.length ? ownData(model, setup.data).labels : null);

// The graphs' architecture inputs (playground.masks): which parameters exist, which layers are
// on, the activation's one-hot and [learning rate, L1, L2, tanh output].
export function masks(model, setup) {
  const { width, layers, layout } = model, names = Object.keys(model.features);
  const mask = new Float32Array(layout.parameters);
  let previous = Array.from({ length: width }, (_, i) => setup.features.includes(names[i]));
  setup.layers.forEach((count, layer) => {
    const base = layer * layout.layer_size, neurons = Array.from({ length: width }, (_, i) => i < count);
    for (let i = 0; i < width; i++) for (let j = 0; j < width; j++) mask[base + i * width + j] = previous[i] && neurons[j] ? 1 : 0;
    for (let j = 0; j < width; j++) mask[base + layout.biases + j] = neurons[j] ? 1 : 0;
    previous = neurons;
  });
  for (let i = 0; i < width; i++) mask[layout.output_weights + i] = previous[i] ? 1 : 0;
  mask[layout.output_bias] = 1;
  const rate = setup.regularization === "none" ? 0 : setup.rate;
  return {
    mask,
    layers: Float32Array.from({ length: layers }, (_, l) => (l < setup.layers.length ? 1 : 0)),
    activation: Float32Array.from(model.activations, (a) => (a === setup.activation ? 1 : 0)),
    hyper: Float32Array.of(setup.learningRate, setup.regularization === "l1" ? rate : 0, setup.regularization === "l2" ? rate : 0,
      problemOf(model, setup.data) === "classification" ? 1 : 0),
  };
}

const isBias = (model, i) => {
  const { layout } = model;
  return i === layout.output_bias || (i < layout.output_weights && i % layout.layer_size >= layout.biases);
};

// Weights uniform in [-0.5, 0.5], biases 0.1, drawn from seed + 1 (playground.initial).
export function initial(model, setup, mask = masks(model, setup).mask) {
  const rng = random(setup.seed + 1), params = new Float32Array(model.layout.parameters);
  for (let i = 0; i < params.length; i++) params[i] = rng.uniform(-0.5, 0.5);
  for (let i = 0; i < params.length; i++) params[i] = (isBias(model, i) ? 0.1 : params[i]) * mask[i];
  return params;
}

// Up to model.batch rows as the step's x, y and weight (padding weighs nothing).
export function padded(model, rows) {
  const x = new Float32Array(model.batch * 2), y = new Float32Array(model.batch), weight = new Float32Array(model.batch);
  rows.forEach(([x1, x2, label], i) => { x[2 * i] = x1; x[2 * i + 1] = x2; y[i] = label; weight[i] = 1 / rows.length; });
  return { x, y, weight };
}

// The setup as a link's query ("data=spiral&layers=8,8&...", no hidden layer: "layers=none") and
// back, by the schema the build hands over (figures/playground.py STATE, in the contract's
// link_state): keys it does not know, or values out of range, keep the setup's own.
export const encode = (schema, setup) => link.encode(schema, setup);
export const decode = (schema, query, setup) => ({ ...setup, ...link.decode(schema, query) });
