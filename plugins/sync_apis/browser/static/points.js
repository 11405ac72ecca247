// Markers from the JSON embedded in the page ([{lat, lon, label, stale}]) on a Leaflet map with a
// scale bar; tiles from [sync_apis] map_tiles_url, the plain background when they cannot load.
(function () {
  const holder = document.getElementById("points-data");
  const mapDiv = document.getElementById("map");
  if (!holder || !mapDiv || typeof L === "undefined") return;
  const points = JSON.parse(holder.textContent).filter((p) => p.lat != null && p.lon != null);
  const map = L.map(mapDiv, { preferCanvas: true });
  L.tileLayer(mapDiv.dataset.tiles, { maxZoom: 19, attribution: mapDiv.dataset.attribution || "" }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  const permanent = points.length <= 30; // more labels than that are a blur: on hover only
  const spots = [];
  const labelled = [];
  for (const p of points) {
    spots.push([p.lat, p.lon]);
    const marker = L.circleMarker([p.lat, p.lon], { radius: 7, color: p.stale ? "#6b7280" : "#1d4ed8", fillOpacity: p.stale ? 0.3 : 0.8 })
      .bindTooltip(p.label, { permanent, direction: "right" })
      .addTo(map);
    if (permanent) labelled.push({ marker, stale: Boolean(p.stale) });
  }
  // Vehicles a few hundred metres apart would have their labels printed over each other, and
  // neither could be read. The first keeps its place (fresh fixes before stale ones, then the
  // page's order: the list beside the map); a label it would cover hides until a zoom makes
  // room for it, or its marker is hovered: the hovered label comes first while it is.
  const order = labelled.slice().sort((a, b) => Number(a.stale) - Number(b.stale)).map((l) => l.marker);
  function declutter(hovered) {
    const kept = [];
    const first = hovered ? [hovered, ...order.filter((m) => m !== hovered)] : order;
    for (const marker of first) {
      const el = marker.getTooltip().getElement();
      if (!el) continue;
      el.classList.remove("crowded");
      const r = el.getBoundingClientRect();
      if (kept.some((k) => r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom)) {
        el.classList.add("crowded");
      } else {
        kept.push(r);
      }
    }
  }
  for (const marker of order) {
    marker.on("mouseover", () => declutter(marker));
    marker.on("mouseout", () => declutter());
  }
  map.on("zoomend moveend", () => declutter());
  if (spots.length === 1) map.setView(spots[0], 14);
  else if (spots.length) map.fitBounds(L.latLngBounds(spots).pad(0.15));
  else map.setView([-15.8, -47.9], 4);
  declutter();
  mapDiv.dataset.drawn = String(spots.length);
})();
