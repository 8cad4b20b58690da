// One lifecycle for every widget of the page (after the Grand Tour article's figures):
// registered once, started when it nears the viewport, told when it goes on and off screen (so
// nothing animates unseen), and any error it meets shown inside it in words.
import { el, whenNear } from "./runtime.js";

// Scripts run here: the still pictures drawn for browsers that cannot draw figures stay hidden.
document.documentElement.classList.add("scripted");

// window.layerwise[kind]: a promise of each widget `mount(root, near)` makes of a `selector`
// element. `near` resolves when the element nears the viewport (or is touched or focused): the
// widget builds what costs nothing at once (no layout shift) and fetches its data only then. A
// widget may return { onscreen(), offscreen() }. `margin`: how near is near (runtime.js whenNear).
export function register(kind, selector, mount, margin = undefined) {
  const page = (window.layerwise ??= {});
  page[kind] ??= [...document.querySelectorAll(selector)].map((root) => start(root, mount, margin));
  return page[kind];
}

// A link to a figure's view (#figure?query) names no element, so the browser does not scroll:
// the figure holding a `selector` widget is scrolled to, on load and on each new link, which
// also brings it near (and so starts it).
export function followLinks(selector) {
  const linked = () => {
    const figure = document.getElementById(decodeURIComponent(location.hash.slice(1).split("?")[0]));
    return figure?.querySelector(selector) ? figure : null;
  };
  linked()?.scrollIntoView();
  window.addEventListener("hashchange", () => linked()?.scrollIntoView());
  // A link to the view the address already holds (a reader who came by it, then scrolled away)
  // changes no hash: scrolled to all the same.
  document.addEventListener("click", (event) => {
    const a = event.target.closest?.("a[href^='#']");
    if (a && a.hash === location.hash) linked()?.scrollIntoView();
  });
}

async function start(root, mount, margin) {
  // The build's sentence for where no script runs (a file:// page): this one does.
  root.querySelector(':scope > .figure-fallback[data-until="script"]')?.remove();
  try {
    const widget = await mount(root, whenNear(root, margin));
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
