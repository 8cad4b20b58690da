// A pinned run: the network's answer over the plane, its loss curve and its setup, kept beside
// the live one so the reader can compare two runs. It lives in the page only (not in the link:
// a run's parameters would make links long, and a link already rebuilds any setup).
import { el } from "./runtime.js";
import { drawLoss } from "./playground-render.js";

// The setup in words: what differs between two runs is read at a glance.
export function describe(model, setup) {
  const features = setup.features.map((name) => model.features[name]).join(", ");
  const layers = setup.layers.length ? setup.layers.join("-") : "no hidden layer";
  const penalty = setup.regularization === "none" ? "no regularization" : `${setup.regularization.toUpperCase()} ${setup.rate}`;
  return `${setup.data}; ${features}; ${layers}; ${setup.activation}; learning rate ${setup.learningRate}; batch ${setup.batch}; ${penalty}; seed ${setup.seed}`;
}

// The panel: { node, pin(run) }, run = { setup, epoch, losses (per epoch), now ([train, test] loss), output (the live answer's canvas) };
// `back` takes the focus when Unpin, which goes with the panel, had it (else it fell to the page's start).
export function pinPanel(model, back = null) {
  const map = el("canvas", { class: "playground-output", role: "img" });
  const curve = el("canvas", { class: "playground-curve", width: "240", height: "60", role: "img", "aria-label": "The pinned run's train and test loss by epoch" });
  const setupText = el("p", { class: "playground-legend playground-pinned-setup" });
  const unpin = el("button", { type: "button", title: "Forget the pinned run" }, "Unpin");
  // Empty until a run is pinned (its Unpin button is not a control until then).
  const node = el("div", { class: "playground-side playground-pinned", role: "group", "aria-label": "Pinned run" });
  node.hidden = true;
  unpin.addEventListener("click", () => { node.hidden = true; node.replaceChildren(); delete node.dataset.epoch; back?.focus(); });
  return {
    node,
    pin({ setup, epoch, losses, now: [train, test], output }) {
      node.replaceChildren(el("p", { class: "playground-legend" }, "pinned run"), map, curve, setupText, el("span", { class: "figure-buttons" }, unpin));
      node.hidden = false;
      map.width = output.width; map.height = output.height;
      map.getContext("2d").drawImage(output, 0, 0);
      drawLoss(curve, losses);
      setupText.textContent = `${describe(model, setup)}. Epoch ${epoch}: train loss ${train.toFixed(3)}, test loss ${test.toFixed(3)}.`;
      map.setAttribute("aria-label", `The pinned run's answer over the plane at epoch ${epoch}`);
      node.dataset.epoch = String(epoch);
    },
  };
}
