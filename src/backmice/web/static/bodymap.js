// The body map's keyboard (templates/_bodymap.html): one Tab stop into the map (a roving
// tabindex), the arrow keys move to the neighbouring region (its data-left / data-right /
// data-up / data-down name the neighbour's data-key), and the region's name is written to the
// live line under the map. Enter or Space places a lump: the page's own script does that (the
// workspace, the patient page, the interview), as for a click.
"use strict";

(function () {
  if (window.backmiceBodymap) return;  // the partial may be included more than once
  window.backmiceBodymap = true;

  const WAYS = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };

  document.querySelectorAll("svg.bodymap").forEach((map) => {
    // the interview's picture is tapped only: its radio list under it takes the keyboard
    // (static/interview.js), so the map keeps no tab stop of its own there
    if (map.closest(".patient-map")) return;
    const regions = Array.from(map.querySelectorAll(".region[data-key]"));
    const byKey = new Map(regions.map((r) => [r.dataset.key, r]));
    const where = map.parentElement.querySelector(".map-where");

    function nameOf(region) {
      const title = region.querySelector("title");
      return title ? title.textContent.trim() : region.dataset.key;
    }

    function activate(region, focus) {
      regions.forEach((r) => r.setAttribute("tabindex", r === region ? "0" : "-1"));
      if (focus) region.focus();
    }

    regions.forEach((region) => {
      region.addEventListener("focus", () => {
        activate(region, false);  // a click or a script may focus any region: it becomes the Tab stop
        map.classList.add("keyboard");
        if (where) where.textContent = nameOf(region) + ": press Enter to place a lump here.";
      });
      region.addEventListener("blur", () => map.classList.remove("keyboard"));
      region.addEventListener("keydown", (ev) => {
        const way = WAYS[ev.key];
        if (!way || ev.altKey || ev.ctrlKey || ev.metaKey) return;
        ev.preventDefault();  // the page does not scroll
        const next = byKey.get(region.dataset[way]);
        if (next) activate(next, true);
      });
    });
  });
})();
