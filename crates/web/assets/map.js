// Interactive maps, progressive enhancement only: an element with `data-map-geojson="<url>"`
// holds a static SVG map that works without JavaScript. Where scripts run, the vendored Leaflet
// (BSD-2-Clause, assets/leaflet/LICENSE) draws the points of that GeoJSON URL with zoom, pan,
// keyboard control and a popup per point listing its values. Background tiles only when the
// page names a tile server (`data-map-tiles`, `data-map-attribution`, from the `[web]` config).
"use strict";

(function () {
  if (!window.L) return;

  function popup(properties) {
    var table = document.createElement("table");
    table.className = "kh-map-popup";
    Object.keys(properties).forEach(function (key) {
      var row = table.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = key;
      var td = document.createElement("td");
      var value = properties[key];
      td.textContent = value === null || value === undefined ? "–" : String(value);
      row.append(th, td);
    });
    return table;
  }

  function draw(box, geo) {
    if (!geo || !geo.features || geo.features.length === 0) return;
    var d = box.dataset;
    var el = document.createElement("div");
    el.className = "kh-map-live";
    el.setAttribute("role", "region");
    el.setAttribute("aria-label", d.mapLabel || "Karte");
    box.prepend(el);
    var map = L.map(el, { zoomControl: false, keyboard: true });
    L.control.zoom({ zoomInTitle: d.mapZoomIn || "+", zoomOutTitle: d.mapZoomOut || "-" }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    if (d.mapTiles) {
      L.tileLayer(d.mapTiles, { attribution: d.mapAttribution || "", maxZoom: 18 }).addTo(map);
    }
    var points = L.geoJSON(geo, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 7, color: "#ffffff", weight: 2, fillColor: "#1a3da5", fillOpacity: 0.9 });
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(popup(feature.properties || {}));
      },
    }).addTo(map);
    map.fitBounds(points.getBounds(), { padding: [24, 24], maxZoom: 15 });
    box.classList.add("kh-map--live");
  }

  document.querySelectorAll("[data-map-geojson]").forEach(function (box) {
    fetch(box.dataset.mapGeojson, { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (geo) { draw(box, geo); })
      .catch(function () { /* the static map stays */ });
  });
})();
