// The text explorer's pictures of one state: a sequence layer as positions x features, attention
// as one query x key map per head (the causal mask drawn as a hatch, not as zero), the prediction
// (the next characters, or the classes) and the logit lens per block. Drawing only: the widget
// (text-explorer.js) runs the model and hands over its outputs.

import { diverging, el, percent } from "./runtime.js";
import { lensReadings, queryOf, softmax, topOf } from "./text-explorer-state.js";

const ROW = 12, LABEL = 18; // px: one position's row; the token labels' gutter
const MASKED = "#8a8f98"; // the hatch of a masked cell: mid grey, visible on light and dark

// A token as the reader can see it in a label: a space as ␣, a line break as ↵.
const SHOWN = { " ": "␣", "\n": "↵", "\t": "⇥" };
export const visible = (character) => SHOWN[character] ?? character;

function maxAbs(values) {
  let m = 1e-9;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

const ink = (node) => getComputedStyle(node).color || "#1d1d1f"; // the page's text colour, light or dark

// A rows x columns grid of colours (`colourOf(i)` -> [r, g, b], or null to leave a cell empty)
// drawn at (x, y) in cells of w x h: one image scaled up, not a rectangle per cell (a 64 x 64 map
// of four heads was 16,000 fills, 100 ms a redraw).
function paintCells(ctx, rows, columns, colourOf, x, y, w, h) {
  const cells = new ImageData(columns, rows);
  for (let i = 0; i < rows * columns; i++) {
    const rgb = colourOf(i);
    if (rgb) cells.data.set([...rgb, 255], 4 * i);
  }
  const small = new OffscreenCanvas(columns, rows);
  small.getContext("2d").putImageData(cells, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, x, y, columns * w, rows * h);
}

// A (T, D) layer as a heatmap: a row per position labelled by its token, a column per feature.
export function drawSequence(canvas, values, characters, width) {
  const T = characters.length, D = values.length / T, cell = Math.max(1, Math.floor(width / D));
  canvas.width = LABEL + cell * D; canvas.height = ROW * T;
  const ctx = canvas.getContext("2d"), scale = maxAbs(values);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  paintCells(ctx, T, D, (i) => diverging(values[i] / scale), LABEL, 0, cell, ROW);
  labelRows(ctx, characters, 0, ink(canvas));
  canvas.setAttribute("aria-label", `${T} positions by ${D} features; red positive, blue negative, largest ${scale.toPrecision(3)}`);
}

function labelRows(ctx, characters, top, colour) {
  ctx.fillStyle = colour; ctx.font = `${ROW - 2}px system-ui, sans-serif`; ctx.textAlign = "center"; ctx.textBaseline = "middle";
  characters.forEach((c, t) => ctx.fillText(visible(c), LABEL / 2, top + t * ROW + ROW / 2));
}

let hatch = null;
function maskPattern(ctx) {
  if (!hatch) {
    const tile = new OffscreenCanvas(6, 6), t = tile.getContext("2d");
    t.strokeStyle = MASKED; t.lineWidth = 1.5;
    t.beginPath(); t.moveTo(0, 6); t.lineTo(6, 0); t.stroke();
    hatch = tile;
  }
  return ctx.createPattern(hatch, "repeat");
}

// Whether an attention layer's (H, T, T) probabilities are causally masked: every weight on a
// later position exactly 0 (a softmax of -inf), read from the model's output, not assumed.
export function isCausal(probabilities, T) {
  for (let i = 0; i < probabilities.length; i++) if (i % T > Math.floor(i / T) % T && probabilities[i] !== 0) return false;
  return T > 1;
}

// One head's (T, T) probabilities: queries down (the tokens on the left), keys across (the
// tokens on top); where `causal`, a key after its query is masked (hatched); the query row outlined.
export function drawAttention(canvas, probabilities, head, characters, query, causal) {
  const T = characters.length, cell = ROW, offset = head * T * T;
  canvas.width = LABEL + cell * T; canvas.height = LABEL + cell * T;
  const ctx = canvas.getContext("2d"), colour = ink(canvas);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  paintCells(ctx, T, T, (i) => (causal && i % T > Math.floor(i / T) ? null : diverging(probabilities[offset + i])), LABEL, LABEL, cell, cell);
  if (causal) { // the masked triangle hatched: a row's later keys
    ctx.beginPath();
    for (let q = 0; q < T - 1; q++) ctx.rect(LABEL + (q + 1) * cell, LABEL + q * cell, (T - q - 1) * cell, cell);
    ctx.fillStyle = maskPattern(ctx);
    ctx.fill();
  }
  labelRows(ctx, characters, LABEL, colour);
  characters.forEach((c, k) => ctx.fillText(visible(c), LABEL + k * cell + cell / 2, LABEL / 2));
  ctx.strokeStyle = colour; ctx.lineWidth = 1.5;
  ctx.strokeRect(LABEL + 0.75, LABEL + query * cell + 0.75, T * cell - 1.5, cell - 1.5);
}

// The position (a row) of an attention map (or, `top` 0, a sequence's heatmap) under a pointer at
// `clientY`, or null off its rows.
export function queryAt(canvas, clientY, T, top = LABEL) {
  const box = canvas.getBoundingClientRect(), y = ((clientY - box.top) * canvas.height) / box.height;
  const query = Math.floor((y - top) / ROW);
  return query >= 0 && query < T ? query : null;
}

// In words, for the query's row of one head: where it looks most (and the mask, where there is one);
// `pressable`: its rows open the arithmetic (the explorer's maps; not a still record's).
export function attentionSaid(probabilities, head, characters, query, causal, pressable = true) {
  const T = characters.length, row = probabilities.subarray(head * T * T + query * T, head * T * T + (query + 1) * T);
  let best = 0;
  for (let k = 1; k < T; k++) if (row[k] > row[best]) best = k;
  return `Head ${head + 1}, at position ${query + 1} (“${visible(characters[query])}”), attends most to position ${best + 1} ` +
    `(“${visible(characters[best])}”): ${percent(row[best])}.` +
    (causal ? " Hatched cells are masked: a position never sees a later one." : " Every position may read every other.") +
    (pressable ? " Press a row (or Enter) for its arithmetic; arrows move the query." : "");
}

// Every head of an attention layer as a small map (the chosen one outlined), in `holder`.
export function drawHeads(holder, probabilities, heads, characters, query, chosen, pressable = true) {
  const causal = isCausal(probabilities, characters.length);
  while (holder.children.length > heads) holder.lastChild.remove();
  while (holder.children.length < heads)
    holder.append(el("figure", { class: "text-head" }, el("canvas", { role: "img", tabindex: "0", "data-head": String(holder.children.length) }),
      el("figcaption", {}, `head ${holder.children.length + 1}`)));
  [...holder.children].forEach((box, h) => {
    const canvas = box.firstChild;
    drawAttention(canvas, probabilities, h, characters, query, causal);
    canvas.setAttribute("aria-label", attentionSaid(probabilities, h, characters, query, causal, pressable));
    box.classList.toggle("chosen", h === chosen);
    // The chosen map large, yet never blurred past twice its size, and never shrunk below it: its
    // labels stay ROW - 2 = 10 CSS px, a long text's map scrolling sideways in its box (a phone's).
    canvas.style.maxWidth = h === chosen ? `${2 * canvas.width}px` : "";
    // (its border lies outside its drawn pixels; read for the chosen map only: a style read a keystroke)
    const border = h === chosen ? parseFloat(getComputedStyle(canvas).borderLeftWidth) || 0 : 0;
    canvas.style.minWidth = h === chosen ? `${canvas.width + 2 * border}px` : "";
  });
  return causal;
}

// The prediction: the likeliest next characters (or classes), each with its probability as a bar.
export function drawPrediction(list, top, names, noun) {
  list.replaceChildren(...top.map(({ index, p }) => el("li", {},
    el("span", { class: "text-token" }, noun === "class" ? names[index] : `“${visible(names[index])}”`),
    el("span", { class: "text-bar", style: `width: ${(100 * p).toFixed(1)}%` }),
    el("span", { class: "text-p" }, percent(p)))));
}

// The logit lens: per block (and the output), the character it would predict at each position,
// in bold where that is the text's actual next character.
export function drawLens(table, rows, characters) {
  const head = el("tr", {}, el("th", { scope: "col" }, "reads"), ...characters.map((c) => el("th", { scope: "col" }, visible(c))));
  const body = rows.map(({ name, predicted }) => el("tr", {}, el("th", { scope: "row" }, name),
    ...predicted.map((c, t) => el("td", { class: characters[t + 1] === c ? "hit" : "" }, visible(c)))));
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
}

// What the model reads of the reader's text, in words: where a text past the context is cut,
// and characters it has no token for.
export function readingSaid(read, context) {
  const cut = read.dropped
    ? `Your text has ${read.total} characters; the model reads at most ${context}, so it reads the last ${context}, ` +
      `from character ${read.dropped + 1} (“${read.characters.slice(0, 12).join("")}…”) on.`
    : "";
  const left = read.unreadable.length ? ` The model has no token for ${read.unreadable.map((c) => `“${c}”`).join(", ")}: left out.` : "";
  const unknown = read.unknown?.length
    ? ` The model never saw ${read.unknown.slice(0, 8).map((c) => `“${c}”`).join(", ")}${read.unknown.length > 8 ? " and others" : ""} in training: ` +
      "it reads each as the same unknown character."
    : "";
  return (cut + left + unknown).trim();
}

// Every picture of one state: the chosen layer (attention: every head; a sequence: its
// heatmap), the prediction at the query position, the logit lens. `views` are the widget's nodes.
export function drawState(views, { state, read, outputs, info, layers, top, classes }) {
  const layer = layers.find((l) => l.name === state.layer), values = outputs[layer.name], T = read.characters.length;
  const query = queryOf(state, T), attention = layer.type === "Attention";
  views.heads.hidden = views.headSaid.hidden = !attention;
  views.sequence.hidden = attention || layer.shape.length !== 2;
  if (attention) {
    const causal = drawHeads(views.heads, values, layer.shape[0], read.characters, query, state.head);
    views.headSaid.textContent = attentionSaid(values, state.head, read.characters, query, causal);
  } else if (layer.shape.length === 2) drawSequence(views.sequence, values, read.characters, Math.max(views.view.clientWidth - 24, 120));
  const last = outputs[layers.at(-1).name], nextToken = info.task === "next-token";
  const V = nextToken ? last.length / T : last.length, scores = nextToken ? last.subarray(query * V, (query + 1) * V) : last;
  drawPrediction(views.prediction, topOf(softmax(scores), top, info.unknown), nextToken ? info.vocabulary : classes, nextToken ? "token" : "class");
  if (views.lens) drawLens(views.lens, lensReadings(outputs, layers, info, T), read.characters);
}
