// The reader's example on an atlas (figures/atlas.py), loaded by figures.js once one is drawn:
// a ring on the cell of its nearest neighbour among the recorded sample, in the layer's own
// activations (every value of the layer, not the 2-D map, which places no new point).
import { contract, exampleSize, loadModel, onExample, sitePath } from "./runtime.js";

// The sample's activations in `layer` (n x width), computed once in the page from its pixels.
async function sampleActivations(sample, layer, session) {
  const n = sample.meta.n, size = exampleSize(), images = new Float32Array(n * size);
  for (let p = 0; p < n; p++) {
    const pixels = sample.thumbnail(p);
    for (let i = 0; i < size; i++) images[p * size + i] = pixels[i] / 255;
  }
  return layer === "input" ? images : (await session).output(layer, images, n);
}

// The sample point nearest `point` (squared Euclidean distance over the layer's width).
function nearest(points, point) {
  const width = point.length, n = points.length / width;
  let best = 0, bestDistance = Infinity;
  for (let p = 0; p < n; p++) {
    let distance = 0;
    for (let i = 0; i < width && distance < bestDistance; i++) distance += (points[p * width + i] - point[i]) ** 2;
    if (distance < bestDistance) { best = p; bestDistance = distance; }
  }
  return best;
}

// The latest of `wanted()`'s examples placed by `place(example)`, one placement at a time, only
// while the figure is on screen (a stroke in the explorer above waits for no unseen figure), and
// after the frame that shows the explorer's layers: returns { request, onscreen, offscreen }.
function whenSeen(wanted, place) {
  let seen = false, placed = null, running = null;
  const frameShown = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  const due = () => seen && wanted() && wanted() !== placed;
  function request() {
    if (running || !due()) return;
    running = (async () => {
      for (;;) {
        await frameShown();
        if (!due()) return;
        placed = wanted();
        await place(placed);
      }
    })().finally(() => { running = null; });
  }
  return { request, onscreen() { seen = true; request(); }, offscreen() { seen = false; } };
}

// meta: { model, layer, columns, cell: [width, height] of a cell in the picture's pixels,
// cells: each sample point's cell, trace: the reader's trace }. Returns the figure's
// { onscreen, offscreen } (lifecycle.js tells them).
export async function placeReader(figure, Plotly, { model, layer, columns, cell, cells, trace }, sample) {
  const session = loadModel(sitePath("model", { model }));
  const points = sampleActivations(sample, layer, session);
  const { classes, noun } = contract().dataset;
  let latest = null, ringAt = null; // the explorer's newest example; the sample point the ring marks
  const placing = whenSeen(() => latest, async ({ pixels, outputs }) => {
    const activation = layer === "input" ? pixels
      : outputs?.model === model ? outputs.values[layer] : (await (await session).run(pixels))[layer];
    const p = nearest(await points, activation);
    if (p === ringAt) return; // the same neighbour: the ring and its words stand (Plotly redraws every trace on a restyle)
    ringAt = p;
    const at = cells[p], x = (at % columns + 0.5) * cell[0], y = (Math.floor(at / columns) + 0.5) * cell[1];
    const said = `your ${noun}: nearest in ${layer} is held-out ${noun} ${sample.examples[p]}, labelled ${classes[sample.labels[p]]}`;
    // Its words lean inwards near an edge: centred on a first or last column, a phone cut them off.
    const column = at % columns;
    const textposition = column < columns / 4 ? "top right" : column >= columns * 3 / 4 ? "top left" : "top center";
    await Plotly.restyle(figure, { x: [[x]], y: [[y]], hovertext: [[said]], textposition: [textposition] }, [trace]);
    figure.dataset.readerCell = String(at);
    figure.dataset.readerNeighbour = String(sample.examples[p]);
  });
  onExample((pixels, outputs) => { latest = { pixels, outputs }; placing.request(); });
  return { onscreen: placing.onscreen, offscreen: placing.offscreen };
}
