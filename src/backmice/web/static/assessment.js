// A stored assessment (saved, shared or a patient's visit): copy the chart note, print it.
// Printing opens the folded sections a chart needs (findings, work-up) and closes them after.
"use strict";

(function () {
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  if (window.backmiceAssessmentTools) return;  // the partial can appear once per page only
  window.backmiceAssessmentTools = true;

  function say(button, text) {
    const box = button.closest(".note-tools").querySelector(".note-tools-status");
    if (box) box.textContent = text;
  }

  $$(".copy-chart-note").forEach((button) => button.addEventListener("click", async () => {
    const note = document.getElementById(button.dataset.target);
    if (!note) return;
    try {
      await navigator.clipboard.writeText(note.value);
    } catch (err) {
      note.select();
      document.execCommand("copy");
    }
    say(button, "Chart note copied.");
  }));
  $$(".print-assessment").forEach((button) => button.addEventListener("click", () => window.print()));

  function openForPrint() {
    $$("details.fold-print:not([open])").forEach((d) => { d.open = true; d.dataset.printOpened = "1"; });
  }
  function restoreAfterPrint() {
    $$("details[data-print-opened]").forEach((d) => { d.open = false; delete d.dataset.printOpened; });
  }
  window.addEventListener("beforeprint", openForPrint);
  window.addEventListener("afterprint", restoreAfterPrint);
  window.matchMedia("print").addEventListener("change", (ev) => (ev.matches ? openForPrint() : restoreAfterPrint()));
})();
