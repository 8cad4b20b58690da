// The Grand Tour's data: the recorded sample of one model, each layer's points (float16) fetched
// when first shown, the alignments between layers, the attacks' points, and the reader's own
// example run through a snapshot's weights and reduced as the build reduced that layer.

import { fetchBytes, loadModel, loadSample, sitePath } from "./runtime.js";
import { textVector } from "./representation.js";

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

// The sample of one model: labels, predictions per snapshot of the weights, thumbnails, and per
// layer a Float32Array (snapshots x n x dims); `readerPoint` runs the reader's own pixels through
// one snapshot's weights (a text: pools the explorer's outputs) and reduces them as the build
// reduced that layer.
export async function tourData(model) {
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
