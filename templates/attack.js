// The reader's own adversarial example: the explorer's example pushed towards a class the reader
// picks, by the build's targeted sign-gradient steps (layerwise/adversarial.py: the same bound,
// step and count, from the contract), on the 1/255 grid. Each step's gradient is exact where the
// build exported the model's gradient graph (gradients.js: PyTorch's autograd, as the build's
// attack uses). A model brought in as ONNX has none: there each step measures the gradient's sign
// by finite differences, the example and one copy per input value nudged by one grid step, run
// as batches through the very model the page shows.

import { oneHot } from "./gradients.js";

const GRID = 1 / 255;
const ROWS = 64; // examples per run: a step of the 28x28 CNN is 13 runs of a few ms each, not one long freeze

// Which output to differentiate: the class scores before a final softmax or sigmoid (the
// logits) where the page's model shows them, else the last layer's; { name, probabilities }.
export function classScores(layers, classes) {
  const last = layers.at(-1), before = layers.at(-2);
  const normalised = ["Softmax", "Sigmoid", "LogSoftmax"].includes(last.type);
  const logits = normalised && before?.shape.length === 1 && before.shape[0] === classes.length;
  return logits ? { name: before.name, probabilities: false } : { name: last.name, probabilities: last.type === "Softmax" };
}

// log p(target), from a model's class scores: logits (log-softmax, stable), or probabilities.
export function logProbability(scores, target, probabilities) {
  if (probabilities) return Math.log(Math.max(scores[target], 1e-38));
  const top = Math.max(...scores);
  let sum = 0;
  for (const s of scores) sum += Math.exp(s - top);
  return scores[target] - top - Math.log(sum);
}

// The sign of d log p(target) / d x for every input value. `score(batch, count)` runs `count`
// examples and resolves to their class scores (count x classes).
export async function gradientSign(score, x, target, probabilities) {
  const n = x.length, sign = new Int8Array(n), now = await score(x, 1), classes = now.length;
  const base = logProbability(now, target, probabilities);
  for (let from = 0; from < n; from += ROWS) {
    const rows = Math.min(ROWS, n - from), batch = new Float32Array(rows * n), nudge = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const i = from + r;
      batch.set(x, r * n);
      nudge[r] = x[i] > 0.5 ? -GRID : GRID; // stay within 0..1
      batch[r * n + i] += nudge[r];
    }
    const scores = await score(batch, rows);
    for (let r = 0; r < rows; r++) {
      const moved = logProbability(scores.subarray(r * classes, (r + 1) * classes), target, probabilities) - base;
      sign[from + r] = Math.sign(moved / nudge[r]);
    }
  }
  return sign;
}

// The sign of d log p(target) / d x from the gradient graph (`gradients`, gradients.js), whose
// scores are logits: d log softmax(z)_t / dx = sum_k (onehot_t - softmax(z))_k dz_k / dx, the
// gradient the build's cross-entropy steps descend.
export async function exactSign(gradients, x, target) {
  const { scores } = await gradients(x, null, 1);
  const K = scores.length, top = Math.max(...scores), exp = Array.from(scores, (s) => Math.exp(s - top));
  const total = exp.reduce((a, b) => a + b, 0), weights = oneHot(K, target);
  exp.forEach((e, k) => { weights[k] -= e / total; });
  const { gradient } = await gradients(x, weights, 1);
  return Int8Array.from(gradient, Math.sign);
}

// One step up log p(target), kept within epsilon of the original (L-inf), within 0..1, on the grid.
export function stepTowards(x, original, sign, { epsilon, step }) {
  return x.map((v, i) => {
    const moved = Math.min(original[i] + epsilon, Math.max(original[i] - epsilon, v + step * sign[i]));
    return Math.round(Math.min(1, Math.max(0, moved)) * 255) / 255;
  });
}

// The attack, step by step: yields { step, pixels } after each; stops once the model reads the
// target (it has crossed the boundary) or after the contract's steps. With `gradients` (the
// model's gradient graph) each step's sign is exact, else measured.
export async function* attack(score, original, target, settings, probabilities, gradients = null) {
  let x = Float32Array.from(original);
  for (let k = 1; k <= settings.steps; k++) {
    const sign = gradients ? await exactSign(gradients, x, target) : await gradientSign(score, x, target, probabilities);
    x = stepTowards(x, original, sign, settings);
    const scores = await score(x, 1);
    yield { step: k, pixels: x, scores };
    if (scores.indexOf(Math.max(...scores)) === target) return;
  }
}
