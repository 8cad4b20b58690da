// Draws every Plotly figure the build wrote into the page (data in data-plotly, no inline script).
// Figures over the recorded sample (data-thumbnails) show the hovered digit's image.
import { paintDigit } from "./runtime.js";

const config = { responsive: true, displaylogo: false };

const samples = new Map(); // folder -> Promise<{n, thumbnail(i) -> Uint8Array}>
function loadSample(folder) {
  if (!samples.has(folder)) {
    samples.set(folder, (async () => {
      const meta = await (await fetch(folder + "meta.json")).json();
      const bytes = new Uint8Array(await (await fetch(folder + "sample.u8")).arrayBuffer());
      const offset = meta.n * (1 + meta.epochs);
      return (i) => bytes.subarray(offset + i * 784, offset + (i + 1) * 784);
    })());
  }
  return samples.get(folder);
}

function showThumbnails(el) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 28;
  canvas.className = "hover-digit";
  canvas.hidden = true;
  el.append(canvas);
  el.on("plotly_hover", async (event) => {
    const point = event.points[0];
    if (point.customdata === undefined) return;
    paintDigit(canvas, (await loadSample(el.dataset.thumbnails))(point.customdata));
    canvas.hidden = false;
  });
  el.on("plotly_unhover", () => { canvas.hidden = true; });
}

for (const el of document.querySelectorAll(".plotly-figure")) {
  const fig = JSON.parse(el.dataset.plotly);
  window.Plotly.newPlot(el, fig.data, fig.layout, config).then(() => {
    if (el.dataset.thumbnails) showThumbnails(el);
  });
}
