// The tips of glossary terms and checked claims show on hover and keyboard focus (style.css);
// Escape hides the one showing until the pointer or the focus leaves it (WCAG 1.4.13).
const hosts = ".term, .claim";

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const host of document.querySelectorAll(hosts)) if (host.matches(":hover, :focus")) host.classList.add("dismissed");
});
for (const leave of ["mouseleave", "focusout"])
  document.addEventListener(leave, (event) => { if (event.target.matches?.(hosts)) event.target.classList.remove("dismissed"); }, true);
