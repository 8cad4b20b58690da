// Only on pages served by `layerwise serve`: reload when the site has been rebuilt, and show a
// failed rebuild's error over the page (file:line and what to do) until a save fixes it.
const events = new EventSource("/_layerwise/events");
events.onmessage = () => location.reload();
events.addEventListener("failed", (event) => {
  let overlay = document.getElementById("layerwise-build-error");
  if (!overlay) {
    overlay = document.createElement("div");
    overlay.id = "layerwise-build-error";
    overlay.setAttribute("role", "alert");
    document.body.prepend(overlay);
  }
  overlay.textContent = `The last rebuild failed: ${JSON.parse(event.data)}`;
});
