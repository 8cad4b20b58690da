// Live training's state, without the page: the examples file read by the contract's layout, each
// epoch's order and batches exactly as layerwise/live_training.py makes them (so a test can
// replay PyTorch's steps here), and a run's counters, losses and held-out accuracy curve.
import { split } from "./playground-state.js";

// live.u8 (contract.live_layout) -> typed views: labels (bytes) and pixels (C*H*W bytes a row).
export function readExamples(bytes, layout, size) {
  const part = (name) => bytes.subarray(layout[name][0], layout[name][0] + layout[name][1]);
  return {
    size, trainLabels: part("train_labels"), trainPixels: part("train_pixels"),
    testLabels: part("test_labels"), testPixels: part("test_pixels"),
  };
}

// The training examples' order in an epoch (0, 1, ...): the playground's mulberry32 Fisher-Yates
// seeded with the epoch (live_training.epoch_order).
export function epochOrder(n, epoch) {
  return split(Array.from({ length: n }, (_, i) => i), 1, epoch).train;
}

// Examples (indices into the training split) as the step's padded batch: raw pixel values, one-hot
// targets, and a weight per row (1/size for real rows, 0 for padding): live_training.padded.
export function batchOf(examples, indices, batch, classes) {
  const { size, trainPixels, trainLabels } = examples;
  const pixels = new Float32Array(batch * size), targets = new Float32Array(batch * classes), weight = new Float32Array(batch);
  indices.forEach((example, row) => {
    pixels.set(trainPixels.subarray(example * size, (example + 1) * size), row * size);
    targets[row * classes + trainLabels[example]] = 1;
    weight[row] = 1 / indices.length;
  });
  return { pixels, targets, weight };
}

// A run from zero: every parameter 0, at the start of epoch 0.
export function newRun(parameters, n) {
  return { params: new Float32Array(parameters), epoch: 0, cursor: 0, seen: 0, order: epochOrder(n, 0),
    lossSum: 0, lossCount: 0, loss: null, accuracy: null, curve: [] };
}

// The next batch's indices (the last of an epoch may be short).
export const nextIndices = (run, batch) => run.order.slice(run.cursor, run.cursor + batch);

// After a step on `count` examples: the new parameters, the loss, and the epoch moved on when done.
export function advance(run, params, loss, count) {
  run.params = params;
  run.cursor += count;
  run.seen += count;
  run.lossSum += loss;
  run.lossCount += 1;
  run.loss = run.lossSum / run.lossCount; // the mean batch loss of this epoch so far
  if (run.cursor >= run.order.length) {
    run.epoch += 1;
    run.cursor = 0;
    run.order = epochOrder(run.order.length, run.epoch);
    run.lossSum = 0;
    run.lossCount = 0;
  }
}

// The share of held-out examples whose highest score is their class; recorded on the curve
// against the examples seen.
export function measure(run, scores, labels, classes) {
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (scores[i * classes + k] > scores[i * classes + best]) best = k;
    if (best === labels[i]) right++;
  }
  run.accuracy = right / labels.length;
  if (run.curve.at(-1)?.[0] !== run.seen) run.curve.push([run.seen, run.accuracy]);
  return run.accuracy;
}
