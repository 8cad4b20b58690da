// Draws the page's Plotly figures, each when it nears the viewport: its data is a file of its
// own (data-src) and plotly.js itself is loaded with the first, so neither delays the text.
// Figures over the recorded sample (data-thumbnails: the recorded model) show the hovered example.
import { register } from "./lifecycle.js";
import { announceSelection, contract, el, loadSample, loadScript, onSelection, pickExample, showPreview } from "./runtime.js";

// No toolbar: its buttons were 8 tab stops a figure; zoom and pan stay on the plot itself.
const config = { responsive: true, displaylogo: false, displayModeBar: false };

const loadPlotly = () => loadScript("plotly.min.js", "Plotly");

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
    showPreview(canvas, await sampleOf(figure.dataset.thumbnails), point.customdata); // a text's is in the hover
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
  for (const key of Object.keys(figure.layout || {})) {
    if (!/^[xy]axis\d*$/.test(key)) continue;
    for (const part of ["gridcolor", "zerolinecolor", "linecolor"]) layout[`${key}.${part}`] = grid;
    if (figure.layout[key].minor?.showgrid) layout[`${key}.minor.gridcolor`] = grid; // (setting it would switch minor grids on)
  }
  return layout;
}

// A Plotly button menu as HTML buttons before the figure: Plotly draws its own inside the SVG,
// where no keyboard or screen reader reaches them.
function buttonsOf(menu, Plotly, figure) {
  const group = el("div", { class: "figure-buttons", role: "group", "aria-label": "Show" });
  const buttons = menu.buttons.map((b, i) => {
    const button = el("button", { type: "button", "aria-pressed": String(i === (menu.active ?? 0)) }, b.label);
    button.addEventListener("click", () => {
      Plotly[b.method](figure, ...b.args);
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
    });
    return button;
  });
  group.append(...buttons);
  return group;
}

async function draw(figure, near) {
  await near;
  const [Plotly, fig] = await Promise.all([
    loadPlotly(),
    fetch(figure.dataset.src).then((response) => {
      if (!response.ok) throw new Error(`its data (${figure.dataset.src}) answered ${response.status}`);
      return response.json();
    }),
  ]);
  figure.querySelector(".figure-fallback")?.remove();
  const menus = (fig.layout.updatemenus || []).filter((menu) => menu.type === "buttons");
  // Figures of the recorded sample are brushed with a lasso (and linked to the tour).
  const dragmode = figure.dataset.thumbnails ? "lasso" : fig.layout.dragmode;
  await Plotly.newPlot(figure, fig.data, { ...fig.layout, updatemenus: [], dragmode }, config);
  for (const menu of menus) figure.before(buttonsOf(menu, Plotly, figure));
  Plotly.relayout(figure, pageColours(figure));
  if (figure.dataset.thumbnails) { showThumbnails(figure); linkSample(figure, Plotly, await sampleOf(figure.dataset.thumbnails)); }
  if (fig.layout.meta?.examples) linkPictures(figure, Plotly, fig.layout.meta);
  // An atlas (figures/atlas.py): the reader's example on it, by code fetched only for one; told
  // when it goes on and off screen.
  if (fig.layout.meta?.atlas) {
    const { placeReader } = await import("./atlas.js");
    return placeReader(figure, Plotly, fig.layout.meta.atlas, await sampleOf(fig.layout.meta.atlas.model));
  }
  return null;
}

// Brushing and linking (runtime.js): a lasso or box here selects the same held-out examples in
// every other view (the Grand Tour, the mistakes); a selection made there shows here. The
// points' customdata are their positions in the recorded sample. A lasso needs a pointer, so
// buttons under the figure select whole classes: the keyboard's (and a screen reader's) way in.
function linkSample(figure, Plotly, sample) {
  function show(examples) {
    const chosen = examples && new Set(examples.map((e) => sample.position.get(e)));
    const selected = figure.data.map((trace) => (chosen && trace.customdata ? trace.customdata.flatMap((c, i) => (chosen.has(c) ? [i] : [])) : null));
    Plotly.restyle(figure, { selectedpoints: selected });
    figure.dataset.selected = String(selected.reduce((count, s) => count + (s?.length ?? 0), 0));
  }
  const classes = classButtons(figure, (chosen) => {
    const examples = chosen.size ? sample.examples.filter((_, p) => chosen.has(sample.labels[p])) : null;
    show(examples);
    announceSelection(examples, figure);
  });
  // A lasso, or a selection made elsewhere, replaces the classes' selection.
  const announce = (positions) => { classes.clear(); announceSelection(positions && positions.map((p) => sample.examples[p]), figure); };
  figure.on("plotly_selected", (event) => announce(event ? event.points.map((p) => p.customdata).filter((c) => c !== undefined) : null));
  figure.on("plotly_deselect", () => announce(null));
  onSelection(figure, (examples) => { classes.clear(); show(examples); });
}

// Toggle buttons, one per class, after a figure: `select(set of class indices)` on each press;
// returns { clear() } for when a selection made otherwise replaces the classes'.
function classButtons(figure, select) {
  const { classes, noun } = contract().dataset, chosen = new Set();
  const buttons = classes.map((name, c) => {
    const button = el("button", { type: "button", "aria-pressed": "false" }, name);
    button.addEventListener("click", () => {
      if (chosen.has(c)) chosen.delete(c); else chosen.add(c);
      button.setAttribute("aria-pressed", String(chosen.has(c)));
      select(chosen);
    });
    return button;
  });
  figure.after(el("div", { class: "figure-buttons", role: "group", "aria-label": `Select the ${noun}s of a class` },
    el("span", {}, "Select by class:"), ...buttons));
  return { clear: () => { chosen.clear(); for (const b of buttons) b.setAttribute("aria-pressed", "false"); } };
}

// A row of pictures of held-out examples (the mistakes; layout.meta: their indices, pixels,
// labels and the model's answers): a selection elsewhere dims the ones outside it; a click
// selects one and loads it into the layer explorer, and so does a button under the figure (the
// keyboard's way: Tab to it, Enter).
function linkPictures(figure, Plotly, { examples, pixels, labels, predicted }) {
  const { classes, noun } = contract().dataset;
  function load(i) {
    announceSelection([examples[i]], figure);
    show([examples[i]]);
    pickExample(Uint8Array.from(pixels[i]), labels[i]);
  }
  figure.on("plotly_click", (event) => load(event.points[0].curveNumber));
  const buttons = examples.map((_, i) => {
    const button = el("button", { type: "button" }, `${classes[labels[i]]} → ${classes[predicted[i]]}`);
    button.addEventListener("click", () => load(i));
    return button;
  });
  const group = `Load a mistaken ${noun} into the layer explorer (its label → the model's answer)`;
  figure.after(el("div", { class: "figure-buttons", role: "group", "aria-label": group },
    el("span", {}, "Load one:"), ...buttons));
  function show(chosen) {
    const picked = chosen && new Set(chosen);
    Plotly.restyle(figure, { opacity: examples.map((e) => (!picked || picked.has(e) ? 1 : 0.25)) });
    figure.dataset.selected = String(picked ? examples.filter((e) => picked.has(e)).length : 0);
  }
  onSelection(figure, show);
}

register("figures", ".plotly-figure", draw);
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const figure of document.querySelectorAll(".plotly-figure"))
    if (figure.layout) window.Plotly.relayout(figure, pageColours(figure));
});
