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
  const spots = [];
  for (const p of points) {
    spots.push([p.lat, p.lon]);
    L.circleMarker([p.lat, p.lon], { radius: 7, color: p.stale ? "#6b7280" : "#1d4ed8", fillOpacity: p.stale ? 0.3 : 0.8 })
      .bindTooltip(p.label, { permanent: points.length <= 30, direction: "right" })
      .addTo(map);
  }
  if (spots.length === 1) map.setView(spots[0], 14);
  else if (spots.length) map.fitBounds(L.latLngBounds(spots).pad(0.15));
  else map.setView([-15.8, -47.9], 4);
  mapDiv.dataset.drawn = String(spots.length);
})();
