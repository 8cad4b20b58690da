// Draws every Plotly figure the build wrote into the page (data in data-plotly, no inline script).
// Figures over the recorded sample (data-thumbnails: the recorded model) show the hovered example.
import { el, loadSample, paintImage } from "./runtime.js";

const config = { responsive: true, displaylogo: false };

const samples = new Map(); // model -> Promise<the recorded sample>
function sampleOf(model) {
  if (!samples.has(model)) samples.set(model, loadSample(model));
  return samples.get(model);
}

function showThumbnails(figure) {
  const canvas = el("canvas", { class: "hover-digit", hidden: "" });
  figure.append(canvas);
  figure.on("plotly_hover", async (event) => {
    const point = event.points[0];
    if (point.customdata === undefined) return;
    paintImage(canvas, (await sampleOf(figure.dataset.thumbnails)).thumbnail(point.customdata));
    canvas.hidden = false;
  });
  figure.on("plotly_unhover", () => { canvas.hidden = true; });
}

for (const figure of document.querySelectorAll(".plotly-figure")) {
  const fig = JSON.parse(figure.dataset.plotly);
  window.Plotly.newPlot(figure, fig.data, fig.layout, config).then(() => {
    if (figure.dataset.thumbnails) showThumbnails(figure);
  });
}
