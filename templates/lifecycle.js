// One lifecycle for every widget of the page (after the Grand Tour article's figures):
// registered once, started when it nears the viewport, told when it goes on and off screen (so
// nothing animates unseen), and any error it meets shown inside it in words.
import { el, whenNear } from "./runtime.js";

// Scripts run here: the still pictures drawn for browsers that cannot draw figures stay hidden.
document.documentElement.classList.add("scripted");

// window.layerwise[kind]: a promise of each widget `mount(root, near)` makes of a `selector`
// element. `near` resolves when the element nears the viewport (or is touched or focused): the
// widget builds what costs nothing at once (no layout shift) and fetches its data only then. A
// widget may return { onscreen(), offscreen() }.
export function register(kind, selector, mount) {
  const page = (window.layerwise ??= {});
  page[kind] ??= [...document.querySelectorAll(selector)].map((root) => start(root, mount));
  return page[kind];
}

async function start(root, mount) {
  // The build's sentence for where no script runs (a file:// page): this one does.
  root.querySelector(':scope > .figure-fallback[data-until="script"]')?.remove();
  try {
    const widget = await mount(root, whenNear(root));
    if (widget?.onscreen || widget?.offscreen) {
      new IntersectionObserver((entries) => {
        if (entries.at(-1).isIntersecting) widget.onscreen?.();
        else widget.offscreen?.();
      }).observe(root);
    }
    return widget;
  } catch (error) {
    console.error(error); // the trace, for whoever maintains the page
    const said = root.querySelector(".figure-fallback") ?? root.appendChild(el("p", { class: "figure-fallback" }));
    said.textContent = `This figure could not be shown: ${error.message}.`;
    return null;
  }
}
