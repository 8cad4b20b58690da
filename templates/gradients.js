// A model's exact input gradient in the page: the build's gradient graph (layerwise/gradients.py,
// PyTorch's autograd exported as ONNX) run by onnxruntime-web. Never finite differences.
import { contract, loadGraph, sitePath } from "./runtime.js";

// (images, weights, count) -> { scores (count x K), gradient (count x C*H*W) }, where `weights`
// (count x K) weighs each row's class scores and gradient = d sum(weights . scores) / d image
// (weights null: all zero, for the scores alone); null where the model has no graph (contract: models[model].no_gradients says why).
export async function loadGradients(model) {
  if (!contract().models[model].gradients) return null;
  const graph = await loadGraph(sitePath("gradients", { model }));
  const { shape, classes } = contract().dataset;
  const K = classes.length;
  return (images, weights, count) =>
    graph.run({ image: [images, [count, ...shape]], weights: [weights ?? new Float32Array(count * K), [count, K]] });
}

// `rows` rows of K weights, 1 on class `c` (the rows listed in `only`, or all).
export function oneHot(K, c, rows = 1, only = null) {
  const weights = new Float32Array(rows * K);
  for (let r = 0; r < rows; r++) if (!only || only.includes(r)) weights[r * K + c] = 1;
  return weights;
}
