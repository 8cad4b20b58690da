// Draws every Plotly figure the build wrote into the page (data in data-plotly, no inline script).
const config = { responsive: true, displaylogo: false };
for (const el of document.querySelectorAll(".plotly-figure")) {
  const fig = JSON.parse(el.dataset.plotly);
  window.Plotly.newPlot(el, fig.data, fig.layout, config);
}
