// Live training's pictures: each class's weight template (the diverging palette, one limit for
// all so they grow from white together) and the held-out accuracy curve against the build's.
import { el, paintWeights } from "./runtime.js";

// One labelled canvas per class, sized as paintWeights draws it (no shift when first drawn);
// returns the canvases in class order.
export function templateGrid(container, classes, noun, [channels, height, width]) {
  return classes.map((name) => {
    const canvas = el("canvas", { class: "live-template", role: "img", "aria-label": `Weights of the ${noun} ${name}`,
      width: String(channels * width + channels - 1), height: String(height) });
    container.append(el("figure", { class: "live-template-cell" }, canvas, el("figcaption", {}, name)));
    return canvas;
  });
}

// The weights of every class as images; the biases (after them) are not drawn.
export function drawTemplates(canvases, params, shape) {
  const size = shape.reduce((a, b) => a * b, 1);
  let limit = 1e-6;
  for (let i = 0; i < size * canvases.length; i++) limit = Math.max(limit, Math.abs(params[i]));
  canvases.forEach((canvas, k) => paintWeights(canvas, params.subarray(k * size, (k + 1) * size), shape, limit));
}

// Held-out accuracy (0 to 1) against examples seen, with the build's accuracy as a dashed line.
export function drawCurve(canvas, curve, target, examplesPerEpoch) {
  const ctx = canvas.getContext("2d"), { width, height } = canvas, ink = getComputedStyle(canvas).color;
  ctx.clearRect(0, 0, width, height);
  const span = Math.max(examplesPerEpoch, curve.at(-1)?.[0] ?? 0);
  const y = (accuracy) => height - accuracy * (height - 2) - 1;
  ctx.strokeStyle = ink;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(0, y(target));
  ctx.lineTo(width, y(target));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  for (const [seen, accuracy] of curve) ctx.lineTo((seen / span) * width, y(accuracy));
  ctx.stroke();
}
