// A figure's view in a link's query ("layers=8,8&activation=relu"), read and written by the schema
// the build hands over (the contract's link_state: figures.link_schema), so each key, range and
// choice is declared once, in Python. A key the schema does not have, or a value it does not
// accept, is left out of what decode returns: the widget keeps its own.
//
// A key's schema: { type: "int" | "number" (min, max inclusive; above, below exclusive),
// "choice" (values), "flag" (off, on: its text), "text", "list" (of: its items' schema; min_length,
// max_length; empty: how an empty list is written) }; any other type names a codec the widget
// brings, { read(text) -> value (undefined: not one), write(value) -> text }.

const within = (spec, n) => Number.isFinite(n) && !(n < spec.min) && !(n > spec.max) && !(n <= spec.above) && !(n >= spec.below);
const numberOf = (text) => (text.trim() === "" ? NaN : Number(text));

const TYPES = {
  int: { read: (spec, text) => { const n = numberOf(text); return Number.isInteger(n) && within(spec, n) ? n : undefined; } },
  number: { read: (spec, text) => { const n = numberOf(text); return within(spec, n) ? n : undefined; } },
  choice: { read: (spec, text) => (spec.values.includes(text) ? text : undefined) },
  flag: {
    read: (spec, text) => (text === spec.on ? true : text === spec.off ? false : undefined),
    write: (spec, on) => (on ? spec.on : spec.off),
  },
  text: { read: (spec, text) => text },
  list: {
    read(spec, text, codecs) {
      if (text === spec.empty) return [];
      const items = text.split(",").map((item) => read(spec.of, item, codecs));
      const fits = items.length >= (spec.min_length ?? 0) && items.length <= (spec.max_length ?? Infinity);
      return fits && !items.includes(undefined) ? items : undefined;
    },
    write: (spec, items, codecs) =>
      (!items.length && spec.empty !== undefined ? spec.empty : items.map((item) => write(spec.of, item, codecs)).join(",")),
  },
};

// The built-in type, or the widget's codec, that reads and writes a key of this schema.
function typeOf(spec, codecs) {
  if (spec.type in TYPES) return TYPES[spec.type];
  const codec = codecs[spec.type];
  if (!codec) throw new Error(`the contract's link type "${spec.type}" has no codec in this widget`);
  return { read: (_, text) => codec.read(text), write: (_, value) => codec.write(value) };
}

const read = (spec, text, codecs) => typeOf(spec, codecs).read(spec, text, codecs);
const write = (spec, value, codecs) => (typeOf(spec, codecs).write ?? ((_, v) => String(v)))(spec, value, codecs);

// Throws at mount, not at the first link, where the schema names a type this widget has no codec for.
export function checkCodecs(schema, codecs = {}) {
  const check = (spec) => (spec.type === "list" ? check(spec.of) : typeOf(spec, codecs));
  Object.values(schema).forEach(check);
}

// A link's query -> { key: value } of the keys it sets that the schema accepts (the last of a repeated key).
export function decode(schema, query, codecs = {}) {
  const values = {};
  for (const [key, text] of new URLSearchParams(query)) {
    if (!Object.hasOwn(schema, key)) continue;
    const value = read(schema[key], text, codecs);
    if (value !== undefined) values[key] = value;
  }
  return values;
}

// { key: value } -> a link's query, in the schema's order; a key whose value is null or undefined is left out.
export function encode(schema, values, codecs = {}) {
  const given = Object.keys(schema).filter((key) => values[key] != null);
  return new URLSearchParams(given.map((key) => [key, write(schema[key], values[key], codecs)])).toString();
}
