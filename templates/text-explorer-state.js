// The text explorer's state, without a page: the reader's text and view (what a link's fragment
// holds, by the schema the build hands over: figures/text_explorer.py STATE), the tokens the
// model reads of it, and the seeded sampler that makes a generation reproducible from a link.
// Nothing here knows the vocabulary or the model: the contract's TextInfo and layers are passed in.

import * as link from "./link-state.js";
import { random } from "./playground-state.js";

// The state a figure starts in: its first held-out example, its first attention layer (else its
// first layer), the first head, the query at the last position (-1), the build's sampling defaults.
export function initial(explorer, info, layers) {
  const attention = layers.find((l) => l.type === "Attention") ?? layers[0];
  return { text: info.examples[0] ?? "", layer: attention.name, head: 0, query: -1, ...explorer.defaults, generated: "", arithmetic: false };
}

// Text -> token indices, one per code point (Array.from, never UTF-16 units), as the build's
// sources/text.py `tokenize`: a character not in the vocabulary is the unknown token.
export function tokenize(text, vocabulary, unknown) {
  const index = new Map(vocabulary.map((character, i) => [character, i]));
  return Array.from(text, (character) => index.get(character) ?? unknown);
}

// What the model reads of `text`: its last `context` characters and their tokens, how many it
// had to leave out at the start (the widget says so, and where), and the characters it has no
// token for where its vocabulary has no unknown (left out, and said: the build refuses them).
export function reading(text, info) {
  const all = Array.from(text), tokens = tokenize(text, info.vocabulary, info.unknown);
  const kept = all.map((character, i) => [character, tokens[i]]).filter(([, token]) => token != null);
  const unreadable = [...new Set(all.filter((_, i) => tokens[i] == null))];
  const dropped = Math.max(0, kept.length - info.context), window = kept.slice(dropped);
  // Characters training never had, read as the one unknown token: the page says which.
  const unknown = info.unknown == null ? [] : [...new Set(window.filter(([c, t]) => t === info.unknown && c !== "\ufffd").map(([c]) => c))];
  return { characters: window.map(([c]) => c), tokens: window.map(([, t]) => t), dropped, total: kept.length, unreadable, unknown };
}

// The query position among T: the state's, or the last (-1, or past a shortened text's end).
export const queryOf = (state, T) => (state.query < 0 || state.query >= T ? T - 1 : state.query);

// The full text the model reads: the reader's, then what it generated.
export const fullText = (state) => state.text + state.generated;

// One action -> the next state. A new text starts without a generation, the query at its end.
export function reduce(state, action) {
  switch (action.type) {
    case "text": return { ...state, text: action.text, generated: "", query: -1 };
    case "generated": return { ...state, generated: action.generated };
    case "layer": return { ...state, layer: action.layer };
    case "head": case "query": case "temperature": case "top_k": case "seed":
      return { ...state, [action.type]: action.value };
    // Attention's arithmetic for a query of a head opened (a pressed token of its map), or closed.
    case "arithmetic": return { ...state, head: action.head ?? state.head, query: action.query ?? state.query, arithmetic: action.open };
    default: throw new Error(`no action ${action.type}`);
  }
}

// A layer, in a link, is one of the model's (`layers`), by name.
const layerCodec = (layers) => {
  const names = new Set(layers.map((l) => l.name));
  return { layer: { read: (name) => (names.has(name) ? name : undefined), write: (name) => name } };
};

// The view as a link's query ("text=...&layer=block0.attention&head=1&generate=200"), by the
// schema: the generation is its length (the seed and settings regenerate it), the query left out
// at its end.
export function encode(schema, state, layers) {
  const query = state.query >= 0 ? state.query : null, generate = state.generated ? Array.from(state.generated).length : null;
  return link.encode(schema, { ...state, query, generate }, layerCodec(layers));
}

// A link's query -> { state, generate: characters to generate }; a key the schema does not have,
// or a value out of its range (or not a layer of `layers`), keeps the state's own.
export function decode(schema, query, state, layers) {
  const { generate = 0, ...view } = link.decode(schema, query, layerCodec(layers));
  return { state: { ...state, ...view, generated: "" }, generate };
}

// Softmax of a row of logits, divided by `temperature` first (1: as the model says).
export function softmax(logits, temperature = 1) {
  let top = -Infinity;
  for (const v of logits) top = Math.max(top, v / temperature);
  const chances = Float64Array.from(logits, (v) => Math.exp(v / temperature - top));
  const sum = chances.reduce((a, b) => a + b, 0);
  return chances.map((c) => c / sum);
}

// The `n` likeliest entries of `chances` as [{ index, p }], leaving out `excluded` (the unknown
// token, which stands for no one character).
export function topOf(chances, n, excluded = null) {
  return [...chances.keys()].filter((i) => i !== excluded).sort((a, b) => chances[b] - chances[a] || a - b)
    .slice(0, n).map((index) => ({ index, p: chances[index] }));
}

// A seeded sampler: next(logits) draws one token from the top `topK` at `temperature`
// (renormalized), never the unknown; the same seed draws the same tokens from the same logits.
export function sampler(seed, temperature, topK, unknown) {
  const uniform = random(seed);
  return (logits) => {
    const kept = topOf(softmax(logits, temperature), topK, unknown);
    const total = kept.reduce((sum, k) => sum + k.p, 0);
    let u = uniform() * total;
    for (const k of kept) if ((u -= k.p) < 0) return k.index;
    return kept.at(-1).index;
  };
}

// The logit lens: per Lens layer and the last layer, the likeliest character (never the unknown)
// at each of T positions, from the outputs' (T, V) logits.
export function lensReadings(outputs, layers, info, T) {
  const V = info.vocabulary.length, read = [...layers.filter((l) => l.type === "Lens"), layers.at(-1)];
  return read.map(({ name }) => ({
    name, predicted: Array.from({ length: T }, (_, t) => info.vocabulary[topOf(outputs[name].subarray(t * V, (t + 1) * V), 1, info.unknown)[0].index]),
  }));
}

// `count` characters after the state's text, one at a time: each the seeded sampler's draw from
// the last layer's last row (`run(tokens)` -> those logits); yields the generation so far.
export async function* generation(run, state, info, count) {
  const next = sampler(state.seed, state.temperature, state.top_k, info.unknown), V = info.vocabulary.length;
  let generated = "";
  for (let i = 0; i < count; i++) {
    const { tokens } = reading(fullText({ ...state, generated }), info);
    generated += info.vocabulary[next((await run(tokens)).subarray((tokens.length - 1) * V))];
    yield generated;
  }
}
