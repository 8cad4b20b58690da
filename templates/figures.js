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

// The page's own colours (light or dark) for every figure: transparent paper, its text colour
// for text and a faint version of it for grid lines.
function pageColours(figure) {
  const ink = getComputedStyle(figure).color;
  const grid = ink.replace("rgb(", "rgba(").replace(")", ", 0.15)");
  const layout = { paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", "font.color": ink };
  // Attribute paths, so each axis keeps its title and tick format.
  for (const key of Object.keys(figure.layout || {}))
    if (/^[xy]axis\d*$/.test(key)) for (const part of ["gridcolor", "zerolinecolor", "linecolor"]) layout[`${key}.${part}`] = grid;
  return layout;
}

const figures = [...document.querySelectorAll(".plotly-figure")];
for (const figure of figures) {
  const fig = JSON.parse(figure.dataset.plotly);
  window.Plotly.newPlot(figure, fig.data, fig.layout, config).then(() => {
    window.Plotly.relayout(figure, pageColours(figure));
    if (figure.dataset.thumbnails) showThumbnails(figure);
  });
}
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const figure of figures) if (figure.layout) window.Plotly.relayout(figure, pageColours(figure));
});
