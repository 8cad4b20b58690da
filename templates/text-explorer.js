// The text explorer: the reader's own text, or a held-out example, through a text model run by
// onnxruntime-web: the chosen layer per position (attention per head), the prediction, the logit
// lens, and for a next-token model, generation one character at a time with a seeded sampler.
// Controls only dispatch actions (text-explorer-state.js); drawing is text-explorer-render.js.
// The vocabulary, the context, the layers and the link's schema all come from the build.

import { register } from "./lifecycle.js";
import { contract, el, loadTokenModel, shareExample, sitePath } from "./runtime.js";
import { decode, encode, fullText, generation, initial, queryOf, reading, reduce } from "./text-explorer-state.js";
import { drawState, queryAt, readingSaid, visible } from "./text-explorer-render.js";
import { attentionArithmetic, drawAttentionDetail } from "./text-attention.js";
import { RECURRENT, drawRecurrentDetail } from "./text-recurrent.js";
import { stepWeights } from "./detail-arithmetic.js";

const field = (label, input) => el("label", { class: "text-control" }, `${label} `, input);
const option = (value, text) => el("option", { value: String(value) }, text);
const shortened = (text, n) => (Array.from(text).length > n ? `${Array.from(text).slice(0, n).join("")}…` : text); // by code points

// A layer by its name and type, the type left out where the name says it
// ("block1.attention.probabilities", not "... (Attention)": a phone's select shows it whole).
const layerLabel = ({ name, type }) => (name.toLowerCase().includes(type.toLowerCase()) ? name : `${name} (${type})`);

// The controls, built at once (no layout shift): each only dispatches an action.
function controls(info, layers, explorer, dispatch) {
  const text = el("textarea", { rows: "3", spellcheck: "false" });
  const examples = el("select", {}, option("", "choose one"), ...info.examples.map((e, i) => option(i, shortened(e, 40))));
  const layer = el("select", {}, ...layers.filter((l) => l.type !== "Lens").map((l) => option(l.name, layerLabel(l))));
  const head = el("select", {});
  const query = el("input", { type: "range", min: "0", max: "0", step: "1", value: "0" });
  text.addEventListener("input", () => dispatch({ type: "text", text: text.value }));
  examples.addEventListener("change", () => examples.value !== "" && dispatch({ type: "text", text: info.examples[Number(examples.value)] }));
  layer.addEventListener("change", () => dispatch({ type: "layer", layer: layer.value }));
  head.addEventListener("change", () => dispatch({ type: "head", value: Number(head.value) }));
  query.addEventListener("input", () => dispatch({ type: "query", value: Number(query.value) }));
  const found = { text, examples, layer, head, query };
  const headField = field("Head", head);
  headField.hidden = !layers.some((l) => l.type === "Attention"); // a GRU's: no head to choose, not an empty box
  const parts = [field("Your text", text), el("div", { class: "text-controls" }, field("A held-out example", examples),
    field("Layer", layer), headField, field("Query position", query))];
  if (info.task === "next-token") {
    const [low, high] = [explorer.schema.temperature.min, explorer.schema.temperature.max];
    found.temperature = el("input", { type: "number", min: String(low), max: String(high), step: "0.05" });
    found.top_k = el("input", { type: "number", min: "1", max: String(info.vocabulary.length), step: "1" });
    found.seed = el("input", { type: "number", min: "0", max: String(explorer.schema.seed.max), step: "1" });
    // A value out of range is said (and the field marked), not silently left out of the next generation.
    for (const [key, name] of [["temperature", "temperature"], ["top_k", "top-k"], ["seed", "seed"]])
      found[key].addEventListener("change", () => {
        if (found[key].checkValidity()) return dispatch({ type: key, value: Number(found[key].value) });
        found.progress.textContent = `The ${name} ${found[key].value || "(empty)"} is not taken: ${found[key].validationMessage} Generating keeps the last one taken.`;
      });
    found.generate = el("button", { type: "button" }, `Generate ${explorer.generate} characters`);
    found.progress = el("output", { class: "text-progress", "aria-live": "polite" });
    found.continued = el("p", { class: "text-continued" });
    parts.push(el("div", { class: "text-controls figure-buttons", role: "group", "aria-label": "Generation" }, found.generate,
      field("temperature", found.temperature), field("top-k", found.top_k), field("seed", found.seed), found.progress), found.continued);
  }
  return { found, parts };
}

// The controls showing a state (a link, an example or a generation may have set it).
function showState(found, state, read, layerInfo) {
  if (found.text.value !== state.text && document.activeElement !== found.text) found.text.value = state.text;
  found.layer.value = state.layer;
  const heads = layerInfo.type === "Attention" ? layerInfo.shape[0] : 0;
  if (found.head.options.length !== heads) found.head.replaceChildren(...Array.from({ length: heads }, (_, h) => option(h, `head ${h + 1}`)));
  found.head.value = String(Math.min(state.head, Math.max(heads - 1, 0)));
  found.head.disabled = heads === 0;
  found.query.max = String(Math.max(read.characters.length - 1, 0));
  const query = queryOf(state, read.characters.length);
  found.query.value = String(query);
  found.query.setAttribute("aria-valuetext", `position ${query + 1}: ${visible(read.characters[query] ?? "")}`);
  // What the model generated, after the reader's text (marked as the model's).
  found.continued?.replaceChildren(...(state.generated ? [state.text, el("mark", {}, state.generated)] : []));
  for (const key of ["temperature", "top_k", "seed"]) if (found[key] && document.activeElement !== found[key]) found[key].value = String(state[key]);
}

// The pictures' nodes, built at once (no layout shift); the logit lens only for a model with one.
// A picture is named from the start (axe, a screen reader): drawing renames it with what it shows.
function views(info, layers) {
  const sequence = el("canvas", { class: "text-sequence", role: "img", tabindex: "0",
    "aria-label": "Each position by its features, drawn once the model has read the input" });
  const heads = el("div", { class: "text-heads" }), headSaid = el("p", { class: "text-head-said" });
  const found = { said: el("output", { class: "text-said", "aria-live": "polite" }), sequence, heads, headSaid,
    view: el("div", { class: "text-view" }, sequence, heads, headSaid), prediction: el("ol", { class: "text-prediction" }),
    arithmetic: el("div", { class: "attention-arithmetic", hidden: "" }) };
  const nodes = [found.said, found.view, found.arithmetic, el("h3", {}, info.task === "next-token" ? "The next character, as the model reads it" : "The class, as the model reads it"), found.prediction];
  if (layers.some((l) => l.type === "Lens")) {
    found.lens = el("table", { class: "text-lens" });
    nodes.push(el("h3", {}, "The logit lens: what each block would predict next, at each position"),
      el("div", { class: "text-lens-scroll", tabindex: "0", role: "region", "aria-label": "The logit lens" }, found.lens));
  }
  return { found, nodes };
}

// Pressing a row of a head's map or of the sequence's heatmap (mouse, touch or pen) opens that
// position's arithmetic (in that head); on a focused picture, Enter or Space opens the current
// query's, the arrows move the query. `now()`: [the state, the positions drawn].
function pressable(view, dispatch, now) {
  const pressed = (event) => event.target.closest("canvas[data-head], canvas.text-sequence");
  const headOf = (canvas) => (canvas.dataset.head ? Number(canvas.dataset.head) : now()[0].head);
  view.addEventListener("click", (event) => {
    const canvas = pressed(event), query = canvas && queryAt(canvas, event.clientY, now()[1], canvas.dataset.head ? undefined : 0);
    if (query != null) dispatch({ type: "arithmetic", open: true, head: headOf(canvas), query });
  });
  view.addEventListener("keydown", (event) => {
    const canvas = pressed(event), [state, T] = now();
    if (!canvas || !T) return;
    const head = headOf(canvas);
    const step = { ArrowUp: -1, ArrowDown: 1 }[event.key];
    if (event.key === "Enter" || event.key === " ") dispatch({ type: "arithmetic", open: true, head });
    else if (step) dispatch({ type: "arithmetic", open: state.arithmetic, head, query: Math.min(T - 1, Math.max(0, queryOf(state, T) + step)) });
    else return;
    event.preventDefault();
  });
}

// The arithmetic of the state's query (and head), where it is open on a layer whose step the
// build described: attention's, or a GRU's or LSTM's (whose weights are fetched); hidden otherwise.
async function drawArithmetic(holder, { state, read, outputs, layers, model, close }) {
  const layer = layers.find((l) => l.name === state.layer), T = read.characters.length;
  const kind = state.arithmetic && T ? layer.step?.kind : null, query = queryOf(state, T);
  holder.hidden = kind !== "attention" && !(kind in RECURRENT);
  if (holder.hidden) return null;
  if (kind in RECURRENT) {
    const found = RECURRENT[kind].arithmetic(layer, outputs, await stepWeights(model, layer.step), query);
    drawRecurrentDetail(holder, kind, found, read.characters, close);
    return found;
  }
  const found = attentionArithmetic(layer, outputs, Math.min(state.head, layer.shape[0] - 1), query, T);
  drawAttentionDetail(holder, found, read.characters, close);
  return found;
}

// `work(item)` for the latest item only: at most one in flight and one waiting, so typing never
// queues stale runs. Resolves when the latest item is done.
function latestOnly(work) {
  let pending = null, running = null;
  return (item) => {
    pending = item;
    running ??= (async () => {
      while (pending) { const now = pending; pending = null; await work(now); }
      running = null;
    })();
    return running;
  };
}

async function mount(root, near) {
  // What a link may set (with the inputs' ranges) is the figure's link state, in the contract.
  const explorer = { ...JSON.parse(root.dataset.explorer), schema: contract().link_state["text-explorer"] }, info = contract().text;
  const layers = contract().models[explorer.model].layers, figureId = root.closest("figure")?.id ?? "";
  const linked = () => (figureId && location.hash.startsWith(`#${figureId}?`) ? location.hash.slice(figureId.length + 2) : "");
  const fromLink = decode(explorer.schema, linked(), initial(explorer, info, layers), layers);
  let state = fromLink.state, outputs = null, session = null, visibleNow = true, resume = null, positions = 0, arithmetic = null;

  const { found, parts } = controls(info, layers, explorer, (action) => dispatch(action));
  const { found: shown, nodes } = views(info, layers);
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "Text explorer");
  root.append(...parts, ...nodes);
  pressable(shown.view, (action) => dispatch(action), () => [state, positions]);
  const closeArithmetic = () => { // focus back on the picture it was opened from
    dispatch({ type: "arithmetic", open: false });
    (shown.sequence.hidden ? shown.heads.children[state.head]?.firstChild : shown.sequence)?.focus();
  };

  function dispatch(action) {
    state = reduce(state, action);
    // A classifier generates nothing: its link leaves out the sampler's settings.
    const linkOf = info.task === "next-token" ? state : { ...state, temperature: null, top_k: null, seed: null };
    if (figureId) history.replaceState(null, "", `#${figureId}?${encode(explorer.schema, linkOf, layers)}`);
    return refresh();
  }
  // The model on the state's text (its last `context` characters), then every picture drawn.
  const runAndDraw = latestOnly(async (read) => {
    outputs = await session.run(read.tokens);
    shareExample(read.tokens, { model: explorer.model, values: outputs }); // the Grand Tour's live point
    drawState(shown, { state, read, outputs, info, layers, top: explorer.top, classes: contract().dataset.classes });
    positions = read.characters.length;
    arithmetic = await drawArithmetic(shown.arithmetic, { state, read, outputs, layers, model: explorer.model, close: closeArithmetic });
    root.dataset.drawn = fullText(state);
  });
  function refresh() {
    const read = reading(fullText(state), info);
    showState(found, state, read, layers.find((l) => l.name === state.layer));
    shown.said.textContent = readingSaid(read, info.context);
    return session && read.tokens.length ? runAndDraw(read) : Promise.resolve();
  }

  // `count` characters, shown as they come (at most once a frame: each change of the page makes
  // the browser lay it out again); every layer redrawn every REDRAW and at the end (a redraw is a
  // run of every output); paused while the figure is off screen.
  const REDRAW = 25, last = layers.at(-1).name;
  async function generate(count = explorer.generate) {
    let i = 0, generated = "", frame = 0;
    const show = () => { frame = 0; found.continued.replaceChildren(state.text, el("mark", {}, generated)); };
    for await (generated of generation(async (tokens) => (await session.run(tokens, [last]))[last], state, info, count)) {
      if (!visibleNow) await new Promise((r) => (resume = r));
      frame ||= requestAnimationFrame(show);
      if (++i % REDRAW === 0 || i === count) {
        found.progress.textContent = `Generated ${i} of ${count} characters.`;
        await dispatch({ type: "generated", generated });
      }
    }
    return generated;
  }
  found.generate?.addEventListener("click", async () => {
    if (!Array.from(state.text).length) return (shown.said.textContent = "Type a few characters for the model to go on from.");
    found.generate.disabled = true;
    try { await dispatch({ type: "generated", generated: "" }); await generate(); } finally { found.generate.disabled = false; }
  });

  // A word clicked in another view (the Grand Tour, the manifold maps) is read here.
  window.addEventListener("layerwise:pick", (event) => {
    if (typeof event.detail.pixels === "string") dispatch({ type: "text", text: event.detail.pixels });
  });
  refresh();
  await near;
  session = await loadTokenModel(sitePath("model", { model: explorer.model }));
  await refresh();
  if (fromLink.generate) await generate(fromLink.generate);
  return {
    root, info, generate, dispatch, state: () => state, outputs: () => outputs, arithmetic: () => arithmetic,
    run: (text) => session.run(reading(text, info).tokens),
    onscreen() { visibleNow = true; resume?.(); resume = null; },
    offscreen() { visibleNow = false; },
  };
}

register("text-explorers", ".text-explorer", mount);
