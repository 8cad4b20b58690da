// The reader's trained network, downloaded: its parameters as JSON, each tensor named as
// layerwise/playground.py's layout() names it (cut to the reader's architecture), and as an ONNX
// file onnxruntime runs on points x (N, 2): the build's template (the exported network with its
// parameters and masks as initializers) with the reader's floats written at the offsets the build
// found (model.template). No protobuf is written here.
import { el } from "./runtime.js";
import { masks, problemOf } from "./playground-state.js";

// Each tensor of the reader's network: { name: { shape, values } }, rows the inputs it reads
// (the ticked features for the first layer), columns its neurons.
export function namedTensors(model, setup, params) {
  const names = Object.keys(model.features), { tensors } = model.layout;
  const inputs = [setup.features.map((f) => names.indexOf(f)), ...setup.layers.map((n) => [...Array(n).keys()])];
  const cut = (name, rows, columns) => {
    const { offset, shape } = tensors[name], stride = shape.length > 1 ? shape[1] : 1;
    const values = rows.map((r) => columns.map((c) => params[offset + r * stride + c]));
    return shape.length > 1 ? { shape: [rows.length, columns.length], values } : { shape: [columns.length], values: values[0] };
  };
  const out = {};
  setup.layers.forEach((count, l) => {
    const neurons = [...Array(count).keys()];
    out[`layer${l + 1}.weight`] = cut(`layer${l + 1}.weight`, inputs[l], neurons);
    out[`layer${l + 1}.bias`] = cut(`layer${l + 1}.bias`, [0], neurons);
  });
  out["output.weight"] = cut("output.weight", inputs[setup.layers.length], [0]);
  out["output.bias"] = cut("output.bias", [0], [0]);
  return out;
}

// The template's bytes with the reader's parameters, mask, layers, activation and hyperparameters.
export function filledOnnx(model, template, setup, params) {
  const bytes = new Uint8Array(template.byteLength);
  bytes.set(new Uint8Array(template));
  const view = new DataView(bytes.buffer), values = { params, ...masks(model, setup) };
  for (const [name, { offset, length }] of Object.entries(model.template)) {
    if (values[name].length !== length) throw new Error(`the template's ${name} holds ${length} floats, not ${values[name].length}`);
    for (let i = 0; i < length; i++) view.setFloat32(offset + 4 * i, values[name][i], true);
  }
  return bytes;
}

function save(parts, type, name) {
  const link = el("a", { href: URL.createObjectURL(new Blob(parts, { type })), download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// The two downloads of a run ({ setup, epoch, params }); the template is fetched on the first ONNX one.
export function downloads(model, templateUrl) {
  let template = null;
  const base = (run) => `playground-${run.setup.data.replace(/\W+/g, "-")}-epoch-${run.epoch}`;
  return {
    json(run) {
      // The output's activation too: tanh on two labels, none on a target (the tensors alone do not say).
      const output = problemOf(model, run.setup.data) === "classification" ? "tanh" : "linear";
      const saved = { setup: run.setup, epoch: run.epoch, features: run.setup.features, output_activation: output,
        tensors: namedTensors(model, run.setup, run.params), layout: model.layout, params: Array.from(run.params) };
      save([JSON.stringify(saved)], "application/json", `${base(run)}.json`);
    },
    async onnx(run) {
      template ??= fetch(new URL(templateUrl, document.baseURI)).then((r) => r.arrayBuffer());
      save([filledOnnx(model, await template, run.setup, run.params)], "application/octet-stream", `${base(run)}.onnx`);
    },
  };
}
