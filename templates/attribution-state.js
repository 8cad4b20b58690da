// Attribution's arithmetic, pure: saliency, integrated gradients and occlusion of one example
// for one class, from the model's gradient graph (gradients.js) or its forward runs. No DOM:
// the widget (attribution.js) draws what these return.

import { oneHot } from "./gradients.js";

export const STEPS = 32; // integrated gradients' steps along the path
export const PATCH = 4; // occlusion's square, in pixels
// The methods, and whether each needs the exact gradient.
export const METHODS = {
  saliency: { label: "saliency (gradient × input)", exact: true },
  integrated: { label: `integrated gradients (${STEPS} steps)`, exact: true },
  occlusion: { label: `occlusion (${PATCH}×${PATCH} squares)`, exact: false },
};

export const argmax = (values) => values.indexOf(Math.max(...values));

// Gradient × input at x: one row through the gradient graph. `cls` null: the network's answer.
export async function saliency(gradients, x, cls, K) {
  const scores = cls === null ? (await gradients(x, null, 1)).scores : null;
  const c = cls ?? argmax(scores);
  const { gradient, scores: at } = await gradients(x, oneHot(K, c), 1);
  return { cls: c, scores: at, attribution: x.map((v, i) => v * gradient[i]) };
}

// Integrated gradients from the blank baseline (all zeros): (x - 0) times the gradient averaged
// at the midpoints of `steps` equal pieces of the straight path, all in one batch with the two
// ends (for their scores: completeness compares the attributions' sum with their difference).
export async function integratedGradients(gradients, x, cls, K, steps = STEPS) {
  const n = x.length, rows = steps + 2, images = new Float32Array(rows * n); // (steps + 2, C*H*W)
  for (let k = 0; k < steps; k++) {
    const along = (k + 0.5) / steps;
    for (let i = 0; i < n; i++) images[k * n + i] = along * x[i];
  }
  images.set(x, (steps + 1) * n); // row `steps` stays the baseline
  const c = cls ?? argmax((await gradients(x, null, 1)).scores);
  const path = Array.from({ length: steps }, (_, k) => k);
  const { scores, gradient } = await gradients(images, oneHot(K, c, rows, path), rows);
  const attribution = new Float32Array(n);
  for (let k = 0; k < steps; k++) for (let i = 0; i < n; i++) attribution[i] += gradient[k * n + i];
  let sum = 0;
  for (let i = 0; i < n; i++) { attribution[i] *= x[i] / steps; sum += attribution[i]; }
  const baseline = scores[steps * K + c], score = scores[(steps + 1) * K + c];
  return { cls: c, scores: scores.slice((steps + 1) * K), attribution, sum, baseline, score, steps,
    error: Math.abs(sum - (score - baseline)) / Math.max(Math.abs(score - baseline), 1e-12) };
}

// Occlusion: each PATCH x PATCH square (every channel) set to the baseline (0) in turn, all in
// one batch of forward runs; a square's pixels get how much the class score drops without it.
// `score(images, count)` -> class scores (count x K).
export async function occlusion(score, x, cls, [C, H, W], K, patch = PATCH) {
  const squares = [];
  for (let y = 0; y < H; y += patch) for (let x0 = 0; x0 < W; x0 += patch) squares.push([y, x0]);
  const n = x.length, images = new Float32Array((squares.length + 1) * n); // row 0: the example
  for (let r = 0; r <= squares.length; r++) images.set(x, r * n);
  const inside = ([y, x0], i) => { const p = i % (H * W), row = Math.floor(p / W), col = p % W;
    return row >= y && row < y + patch && col >= x0 && col < x0 + patch; };
  squares.forEach((square, s) => { for (let i = 0; i < n; i++) if (inside(square, i)) images[(s + 1) * n + i] = 0; });
  const scores = await score(images, squares.length + 1);
  const c = cls ?? argmax(scores.slice(0, K)), attribution = new Float32Array(n);
  squares.forEach((square, s) => {
    const drop = scores[c] - scores[(s + 1) * K + c];
    for (let i = 0; i < n; i++) if (inside(square, i)) attribution[i] = drop / C; // spread over the channels
  });
  return { cls: c, scores: scores.slice(0, K), attribution, squares: squares.length };
}

// (H, W) attribution per pixel: the channels' sum, and its largest magnitude (the colour scale).
export function perPixel(attribution, [C, H, W]) {
  const map = new Float32Array(H * W);
  attribution.forEach((v, i) => { map[i % (H * W)] += v; });
  let scale = 1e-12;
  for (const v of map) scale = Math.max(scale, Math.abs(v));
  return { map, scale };
}
