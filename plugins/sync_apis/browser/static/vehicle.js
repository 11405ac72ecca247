// Draws a vehicle day from the JSON embedded in the page: the route coloured by speed, stops,
// start and end. Tiles come from [sync_apis] map_tiles_url; if they cannot load (no internet)
// the drawing stays on the map's plain background, with a scale bar.
(function () {
  const holder = document.getElementById("vehicle-data");
  const mapDiv = document.getElementById("map");
  if (!holder || !mapDiv || typeof L === "undefined") return;
  const data = JSON.parse(holder.textContent);
  const map = L.map(mapDiv, { preferCanvas: true });
  L.tileLayer(mapDiv.dataset.tiles, { maxZoom: 19, attribution: mapDiv.dataset.attribution || "" }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  const colour = (v) => (v == null ? "#64748b" : v < 20 ? "#2563eb" : v < 60 ? "#16a34a" : v < 90 ? "#f59e0b" : "#dc2626");
  const line = data.line;
  const all = [];
  let run = [], runColour = null;
  for (let i = 0; i < line.length; i++) {
    const p = [line[i][0], line[i][1]];
    all.push(p);
    const c = colour(line[i][2]);
    if (runColour !== null && c !== runColour) {
      L.polyline(run.concat([p]), { color: runColour, weight: 4 }).addTo(map);
      run = [];
    }
    run.push(p);
    runColour = c;
  }
  if (run.length > 1) L.polyline(run, { color: runColour, weight: 4 }).addTo(map);
  for (const s of data.stops) {
    L.circleMarker([s.lat, s.lon], { radius: 7, color: "#7c3aed", fillOpacity: 0.8, className: "stop-marker" })
      .bindTooltip(s.minutes + " min · " + s.start.slice(11, 16) + "–" + s.end.slice(11, 16))
      .addTo(map);
  }
  if (all.length) {
    L.circleMarker(all[0], { radius: 8, color: "#15803d", fillOpacity: 1, className: "start-marker" }).bindTooltip("start").addTo(map);
    L.circleMarker(all[all.length - 1], { radius: 8, color: "#b91c1c", fillOpacity: 1, className: "end-marker" }).bindTooltip("end").addTo(map);
    map.fitBounds(L.latLngBounds(all).pad(0.1));
  } else {
    map.setView([-15.8, -47.9], 4);
  }
  // Clicking a trip zooms to the fixes between its start and end.
  document.querySelectorAll("[data-trip-start]").forEach((row) => {
    row.addEventListener("click", () => {
      const a = row.dataset.tripStart, b = row.dataset.tripEnd || "9999";
      const pts = line.filter((p) => p[3] >= a && p[3] <= b).map((p) => [p[0], p[1]]);
      if (pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.2));
      document.querySelectorAll("[data-trip-start]").forEach((r) => r.classList.remove("selected"));
      row.classList.add("selected");
    });
  });
  mapDiv.dataset.drawn = String(line.length);
})();
