// What one example is at a layer, in the page: model/representation.py's twin, by which the Grand
// Tour places the reader's own example among the recorded ones. An image is its pixels at the
// input and each layer's output as it is; a text its characters' frequencies at the input and each
// layer's output averaged over its positions (a layer without positions is one row: as it is).

// `info`: the layer's entry in the tour's meta.json (name, width); `tokens` the text read;
// `outputs` every layer's output of the model's run on it (flat, positions x width).
export function textVector(info, tokens, outputs) {
  const width = info.width, vector = new Float32Array(width);
  if (info.name === "input") {
    for (const t of tokens) vector[t] += 1 / tokens.length;
    return vector;
  }
  const values = outputs[info.name], rows = values.length / width; // (T, width) or (1, width)
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) vector[j] += values[r * width + j] / rows;
  return vector;
}
