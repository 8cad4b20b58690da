// Only on pages served by `layerwise serve`: reload when the site has been rebuilt.
new EventSource("/_layerwise/events").onmessage = () => location.reload();
