/* Patient interview: the body picture of the "where is the lump?" screen.
   The radio list under the picture is the form (it works without this file, and by keyboard).
   This file makes the picture tappable: a tap on a region checks the matching radio; the
   checked place is highlighted on the picture. The picture's own regions leave the tab order
   (the radios take the keyboard) and it is hidden from screen readers, which read the list. */
(function () {
  "use strict";
  var figure = document.querySelector(".patient-map");
  if (!figure) return;
  var radios = Array.prototype.slice.call(
    document.querySelectorAll(".place-options input[type=radio]"));
  var svg = figure.querySelector("svg");
  figure.removeAttribute("inert");
  if (svg) svg.setAttribute("aria-hidden", "true");

  function radioFor(location, side) {
    return radios.filter(function (r) {
      return r.dataset.location === location && (r.dataset.side || "") === (side || "");
    })[0] || radios.filter(function (r) { return r.dataset.location === location; })[0];
  }
  var shapes = Array.prototype.slice.call(figure.querySelectorAll("[data-location]"));
  shapes.forEach(function (shape) {
    shape.setAttribute("tabindex", "-1");
    shape.removeAttribute("role");
    shape.removeAttribute("aria-label");
    var radio = radioFor(shape.dataset.location, shape.dataset.side);
    var title = shape.querySelector("title");
    if (title && radio) title.textContent = radio.parentNode.textContent.trim();
    shape.addEventListener("click", function () {
      if (!radio) return;
      radio.checked = true;
      radio.focus({ preventScroll: true }); // the picture stays in view on a phone
      show();
    });
  });
  figure.querySelectorAll(".side-label").forEach(function (label) {
    label.textContent = label.textContent.replace("patient's", "your");
  });

  var status = figure.querySelector(".place-chosen");
  var next = figure.querySelector(".place-next");
  if (next) next.type = "submit"; // a plain button until now: the picture was inert
  function show() {
    shapes.forEach(function (shape) {
      var radio = radioFor(shape.dataset.location, shape.dataset.side);
      shape.classList.toggle("chosen", Boolean(radio && radio.checked));
    });
    var checked = radios.filter(function (r) { return r.checked; })[0];
    if (status && next) {
      status.hidden = next.hidden = !checked;
      status.textContent = checked ? "You chose: " + checked.parentNode.textContent.trim() : "";
    }
  }
  radios.forEach(function (r) { r.addEventListener("change", show); });
  show();
})();
