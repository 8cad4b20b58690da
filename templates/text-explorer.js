// The text explorer: the reader's own text, or a held-out example, through a text model run by
// onnxruntime-web: the chosen layer per position (attention per head), the prediction, the logit
// lens, and for a next-token model, generation one character at a time with a seeded sampler.
// Controls only dispatch actions (text-explorer-state.js); drawing is text-explorer-render.js.
// The vocabulary, the context, the layers and the link's schema all come from the build.

import { register } from "./lifecycle.js";
import { contract, el, loadTokenModel, sitePath } from "./runtime.js";
import { decode, encode, fullText, initial, reading, reduce, sampler, softmax, topOf } from "./text-explorer-state.js";
import { attentionSaid, drawHeads, drawLens, drawPrediction, drawSequence, visible } from "./text-explorer-render.js";

const field = (label, input) => el("label", { class: "text-control" }, `${label} `, input);
const option = (value, text) => el("option", { value: String(value) }, text);

// The controls, built at once (no layout shift): each only dispatches an action.
function controls(info, layers, explorer, dispatch) {
  const text = el("textarea", { rows: "3", spellcheck: "false" });
  const examples = el("select", {}, option("", "choose one"), ...info.examples.map((e, i) => option(i, e.length > 40 ? `${e.slice(0, 40)}…` : e)));
  const layer = el("select", {}, ...layers.filter((l) => l.type !== "Lens").map((l) => option(l.name, `${l.name} (${l.type})`)));
  const head = el("select", {});
  const query = el("input", { type: "range", min: "0", max: "0", step: "1", value: "0" });
  text.addEventListener("input", () => dispatch({ type: "text", text: text.value }));
  examples.addEventListener("change", () => examples.value !== "" && dispatch({ type: "text", text: info.examples[Number(examples.value)] }));
  layer.addEventListener("change", () => dispatch({ type: "layer", layer: layer.value }));
  head.addEventListener("change", () => dispatch({ type: "head", value: Number(head.value) }));
  query.addEventListener("input", () => dispatch({ type: "query", value: Number(query.value) }));
  const found = { text, examples, layer, head, query };
  const parts = [field("Your text", text), el("div", { class: "text-controls" }, field("A held-out example", examples),
    field("Layer", layer), field("Head", head), field("Query position", query))];
  if (info.task === "next-token") {
    const [low, high] = [explorer.schema.temperature[1], explorer.schema.temperature[2]];
    found.temperature = el("input", { type: "number", min: String(low), max: String(high), step: "0.05" });
    found.top_k = el("input", { type: "number", min: "1", max: String(info.vocabulary.length), step: "1" });
    found.seed = el("input", { type: "number", min: "0", max: String(explorer.schema.seed[2]), step: "1" });
    for (const key of ["temperature", "top_k", "seed"])
      found[key].addEventListener("change", () => found[key].checkValidity() && dispatch({ type: key, value: Number(found[key].value) }));
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
  found.query.value = String(queryAt(state, read));
  found.query.setAttribute("aria-valuetext", `position ${queryAt(state, read) + 1}: ${visible(read.characters[queryAt(state, read)] ?? "")}`);
  // What the model generated, after the reader's text (marked as the model's).
  found.continued?.replaceChildren(...(state.generated ? [state.text, el("mark", {}, state.generated)] : []));
  for (const key of ["temperature", "top_k", "seed"]) if (found[key] && document.activeElement !== found[key]) found[key].value = String(state[key]);
}

const queryAt = (state, read) => (state.query < 0 || state.query >= read.characters.length ? read.characters.length - 1 : state.query);

async function mount(root, near) {
  const explorer = JSON.parse(root.dataset.explorer), info = contract().text;
  const layers = contract().models[explorer.model].layers, figureId = root.closest("figure")?.id ?? "";
  const linked = () => (figureId && location.hash.startsWith(`#${figureId}?`) ? location.hash.slice(figureId.length + 2) : "");
  const fromLink = decode(explorer.schema, linked(), initial(explorer, info, layers), layers);
  let state = fromLink.state, outputs = null, read = reading(state.text, info), visibleNow = true, resume = null;

  const { found, parts } = controls(info, layers, explorer, (action) => dispatch(action));
  const said = el("output", { class: "text-said", "aria-live": "polite" });
  const sequence = el("canvas", { class: "text-sequence", role: "img" });
  const heads = el("div", { class: "text-heads" }), headSaid = el("p", { class: "text-head-said" });
  const view = el("div", { class: "text-view" }, sequence, heads, headSaid);
  const prediction = el("ol", { class: "text-prediction" }), lens = el("table", { class: "text-lens" });
  const nextWhat = info.task === "next-token" ? "The next character, as the model reads it" : "The class, as the model reads it";
  const hasLens = layers.some((l) => l.type === "Lens");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "Text explorer");
  root.append(...parts, said, view, el("h4", {}, nextWhat), prediction,
    ...(hasLens ? [el("h4", {}, "The logit lens: what each block would predict next, at each position"), el("div", { class: "text-lens-scroll", tabindex: "0", role: "region", "aria-label": "The logit lens" }, lens)] : []));

  function dispatch(action) {
    state = reduce(state, action);
    if (figureId) history.replaceState(null, "", `#${figureId}?${encode(state)}`);
    return refresh();
  }

  // The model on the state's text (its last `context` characters), then every picture drawn.
  let session = null, pending = null, running = null;
  async function refresh() {
    read = reading(fullText(state), info);
    const layerInfo = layers.find((l) => l.name === state.layer);
    showState(found, state, read, layerInfo);
    said.textContent = read.dropped
      ? `Your text has ${read.total} characters; the model reads at most ${info.context}, so it reads the last ${info.context}, from character ${read.dropped + 1} (“${read.characters.slice(0, 12).join("")}…”) on.`
      : "";
    if (read.unreadable.length) said.textContent += ` The model has no token for ${read.unreadable.map((c) => `“${c}”`).join(", ")}: left out.`;
    if (!session || !read.tokens.length) return null;
    pending = read; // at most one run in flight and one waiting: typing never queues stale runs
    if (running) return running;
    running = (async () => {
      while (pending) {
        const now = pending;
        pending = null;
        outputs = await session.run(now.tokens);
        draw(now);
      }
      running = null;
      return outputs;
    })();
    return running;
  }

  function draw(now) {
    const layerInfo = layers.find((l) => l.name === state.layer), values = outputs[state.layer], T = now.characters.length;
    const query = queryAt(state, now);
    const attention = layerInfo.type === "Attention";
    heads.hidden = headSaid.hidden = !attention;
    sequence.hidden = attention || layerInfo.shape.length !== 2;
    if (attention) {
      drawHeads(heads, values, layerInfo.shape[0], now.characters, query, state.head);
      headSaid.textContent = attentionSaid(values, state.head, now.characters, query);
    } else if (layerInfo.shape.length === 2) drawSequence(sequence, values, now.characters, Math.max(view.clientWidth - 24, 120));
    const last = outputs.output, V = info.task === "next-token" ? last.length / T : last.length;
    const scores = info.task === "next-token" ? last.subarray(query * V, (query + 1) * V) : last;
    const names = info.task === "next-token" ? info.vocabulary : contract().dataset.classes;
    drawPrediction(prediction, topOf(softmax(scores), explorer.top, info.unknown), names, info.task === "next-token" ? "token" : "class");
    if (hasLens) drawLens(lens, lensRows(now), now.characters);
    root.dataset.drawn = fullText(state);
  }

  // Per Lens layer and the output: the likeliest character (never the unknown) at each position.
  function lensRows(now) {
    const T = now.characters.length, V = info.vocabulary.length;
    return layers.filter((l) => l.type === "Lens" || l.name === "output").map(({ name }) => ({
      name, predicted: Array.from({ length: T }, (_, t) => info.vocabulary[topOf(outputs[name].subarray(t * V, (t + 1) * V), 1, info.unknown)[0].index]),
    }));
  }

  // `count` characters, one at a time from the seed: each the sampler's draw from the output's
  // last row, shown as it comes; every layer redrawn every REDRAW characters and at the end
  // (each redraw is a run of every output); paused while the figure is off screen.
  const REDRAW = 25;
  async function generate(count = explorer.generate) {
    const next = sampler(state.seed, state.temperature, state.top_k, info.unknown), V = info.vocabulary.length;
    let generated = "";
    for (let i = 0; i < count; i++) {
      if (!visibleNow) await new Promise((r) => (resume = r));
      const now = reading(fullText({ ...state, generated }), info);
      const logits = (await session.run(now.tokens, ["output"])).output;
      generated += info.vocabulary[next(logits.subarray((now.tokens.length - 1) * V))];
      found.continued.replaceChildren(state.text, el("mark", {}, generated));
      if (i % REDRAW === REDRAW - 1 || i === count - 1) {
        found.progress.textContent = `Generated ${i + 1} of ${count} characters.`;
        await dispatch({ type: "generated", generated });
      }
    }
    return generated;
  }
  found.generate?.addEventListener("click", async () => {
    if (!Array.from(state.text).length) return (said.textContent = "Type a few characters for the model to go on from.");
    found.generate.disabled = true;
    try { await dispatch({ type: "generated", generated: "" }); await generate(); } finally { found.generate.disabled = false; }
  });

  showState(found, state, read, layers.find((l) => l.name === state.layer));
  found.text.value = state.text;
  await near;
  session = await loadTokenModel(sitePath("model", { model: explorer.model }));
  await refresh();
  if (fromLink.generate) await generate(fromLink.generate);
  return {
    root, info, generate, dispatch, state: () => state, outputs: () => outputs,
    run: (text) => session.run(reading(text, info).tokens),
    onscreen() { visibleNow = true; resume?.(); resume = null; },
    offscreen() { visibleNow = false; },
  };
}

register("text-explorers", ".text-explorer", mount);
