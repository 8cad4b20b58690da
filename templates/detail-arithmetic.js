// A layer's arithmetic, pure: how it computes one output value from its input with the model's
// real weights (contract: layers[].step, read from the ONNX graph by layerwise/anatomy.py), its
// receptive field, and its weights fetched from the build. No DOM: detail.js draws what these return.

import { contract, fetchBytes, sitePath } from "./runtime.js";

// A flat index of a (C, H, W) tensor as [c, y, x].
export const cell = ([, H, W], i) => [Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W];

// erf by Abramowitz & Stegun 7.1.26 (error below 1.5e-7): GELU's exact form needs it.
function erf(x) {
  const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

export const FUNCTIONS = {
  relu: { f: (x) => Math.max(0, x), tex: "\\max(0, x)" },
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), tex: "\\frac{1}{1 + e^{-x}}" },
  tanh: { f: Math.tanh, tex: "\\tanh x" },
  gelu: { f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), tex: "x \\, \\Phi(x)" },
  silu: { f: (x) => x / (1 + Math.exp(-x)), tex: "\\frac{x}{1 + e^{-x}}" },
  softplus: { f: (x) => Math.log1p(Math.exp(x)), tex: "\\ln(1 + e^{x})" },
  leaky_relu: { f: (x, a = 0.01) => (x >= 0 ? x : a * x), tex: "\\max(\\alpha x, x)" },
  elu: { f: (x, a = 1) => (x >= 0 ? x : a * Math.expm1(x)), tex: "x \\text{ or } \\alpha (e^{x} - 1)" },
};

// The cells of a conv or pool window over input (C, H, W) for output row y, column x:
// [{ row, col, inside, padded }] in kernel order (inside: a real input cell).
function windowCells(settings, [, H, W], y, x) {
  const { kernel: [kh, kw], stride: [sy, sx], padding: [pt, pl, pb, pr], dilation: [dy, dx] } = settings;
  const cells = [];
  for (let u = 0; u < kh; u++)
    for (let v = 0; v < kw; v++) {
      const row = y * sy - pt + u * dy, col = x * sx - pl + v * dx;
      cells.push({ row, col, inside: row >= 0 && row < H && col >= 0 && col < W,
        padded: row >= -pt && row < H + pb && col >= -pl && col < W + pr });
    }
  return cells;
}

// One output value of `step` at flat index `at`, from `inputs` (one Float32Array per tensor it
// reads) and `weights` (name -> Float32Array), with the parts that make it.
export function arithmetic(step, inputs, weights, at) {
  const [x] = inputs, inShape = step.in_shapes[0], { settings } = step;
  switch (step.kind) {
    case "conv": {
      const [O] = step.shape, [C, H, W] = inShape, [o, y, col] = cell(step.shape, at);
      const perGroup = C / settings.groups, first = Math.floor(o / (O / settings.groups)) * perGroup;
      const cells = windowCells(settings, inShape, y, col), k = cells.length;
      const channels = [];
      for (let ci = 0; ci < perGroup; ci++) {
        const c = first + ci;
        const patch = cells.map((p) => (p.inside ? x[(c * H + p.row) * W + p.col] : 0));
        const kernel = Array.from({ length: k }, (_, i) => weights.W[(o * perGroup + ci) * k + i]);
        const products = patch.map((v, i) => v * kernel[i]);
        channels.push({ channel: c, patch, kernel, products, sum: products.reduce((a, b) => a + b, 0) });
      }
      const bias = weights.B ? weights.B[o] : 0;
      return { value: channels.reduce((a, c) => a + c.sum, bias), map: o, channels, bias, cells };
    }
    case "maxpool":
    case "avgpool": {
      const [c, y, col] = cell(step.shape, at), [, H, W] = inShape;
      const cells = windowCells(settings, inShape, y, col);
      const values = cells.map((p) => (p.inside ? x[(c * H + p.row) * W + p.col] : null));
      const real = values.filter((v) => v !== null);
      if (step.kind === "maxpool") {
        const from = values.indexOf(Math.max(...real));
        return { value: values[from], map: c, cells, values, from };
      }
      const count = settings.count_padding ? cells.filter((p) => p.padded).length : real.length;
      const sum = real.reduce((a, b) => a + b, 0);
      return { value: sum / count, map: c, cells, values, sum, count };
    }
    case "linear": {
      const n = step.weights.W[1][1];
      const products = Float64Array.from({ length: n }, (_, i) => x[i] * weights.W[at * n + i]);
      const bias = weights.B ? weights.B[at] : 0;
      const top = [...products.keys()].sort((a, b) => Math.abs(products[b]) - Math.abs(products[a])).slice(0, 8);
      return { value: products.reduce((a, b) => a + b, bias), unit: at, products, weights: weights.W.subarray(at * n, (at + 1) * n), bias, top };
    }
    case "softmax": {
      const exps = Array.from(x, Math.exp), sum = exps.reduce((a, b) => a + b, 0);
      return { value: exps[at] / sum, unit: at, logits: Array.from(x), exps, sum };
    }
    case "activation": {
      const fn = FUNCTIONS[settings.function];
      return { value: fn.f(x[at], settings.alpha), input: x[at], function: settings.function };
    }
    case "batchnorm": {
      const c = inShape.length === 3 ? cell(inShape, at)[0] : at;
      const { scale, B, mean, var: variance } = weights;
      const normalised = (x[at] - mean[c]) / Math.sqrt(variance[c] + settings.epsilon);
      return { value: normalised * scale[c] + B[c], input: x[at], channel: c, mean: mean[c], variance: variance[c], scale: scale[c], shift: B[c], normalised };
    }
    case "add":
      return { value: inputs[0][at] + inputs[1][at], terms: [inputs[0][at], inputs[1][at]] };
    case "flatten":
    case "identity":
      return { value: x[at], from: inShape?.length === 3 ? cell(inShape, at) : [at] };
    default:
      return null;
  }
}

// The rows and columns of the input image that output (row y, column x) of a layer depends on
// (the build composed its field back through every conv and pool: step.receptive_field):
// { rows: [first, last], cols, size: [h, w] } (size before clipping to the image), or null when
// it depends on the whole image.
export function receptiveField(step, y, x) {
  const field = step.receptive_field;
  if (!field) return null;
  const [, H, W] = contract().dataset.shape;
  const span = (k, at, n) => {
    const first = field.start[k] + at * field.jump[k];
    return [Math.max(0, first), Math.min(n - 1, first + field.size[k] - 1)];
  };
  return { rows: span(0, y, H), cols: span(1, x, W), size: field.size };
}

// Every float32 weight of a model, fetched once, as name -> Float32Array for a step.
const weightFiles = new Map();
export async function stepWeights(model, step) {
  if (!weightFiles.has(model)) weightFiles.set(model, fetchBytes(sitePath("weights", { model })).then((b) => new Float32Array(b)));
  const all = await weightFiles.get(model);
  return Object.fromEntries(Object.entries(step.weights).map(([name, [offset, shape]]) =>
    [name, all.subarray(offset, offset + shape.reduce((a, b) => a * b, 1))]));
}
