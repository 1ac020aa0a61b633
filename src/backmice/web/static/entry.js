// Fast entry of findings (templates/_fields.html), in the clinician workspace and the
// record-a-visit form. Everything here is an enhancement: without it the toggles are plain
// radio buttons that post the same values.
// - <choice-group>: a row of radio toggles (yes / no / unknown, or a short category) with the
//   value, focus() and change event of a select, so the pages' scripts treat both alike;
// - a letter answers (Y, N, U, or the first letter of an answer) and moves on to the next
//   question when that letter names one answer; the arrow keys stay the radios' own;
// - Page Down / Page Up go to the first question of the next / previous group;
// - "Go to" links open their group and focus its first question;
// - "No to every unanswered safety question" sets the safety questions still unknown to no
//   (the patient's too), "Skin normal" the signs of the look group.
"use strict";

(function () {
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  class ChoiceGroup extends HTMLElement {
    // Focusable from scripts only (never a Tab stop): its focus goes on to its radio.
    connectedCallback() {
      if (this.hasAttribute("tabindex")) return;
      this.tabIndex = -1;
      this.addEventListener("focus", () => this.focus());
    }
    get radios() { return $$("input[type='radio']", this); }
    get value() {
      const on = this.radios.find((r) => r.checked);
      return on ? on.value : "";
    }
    set value(v) {
      const wanted = v === null || v === undefined ? "" : String(v);
      const radio = this.radios.find((r) => r.value === wanted) || this.radios.find((r) => r.value === "");
      if (radio) radio.checked = true;
    }
    // The words of an answer, as a select's option text.
    labelOf(v) {
      const radio = this.radios.find((r) => r.value === String(v));
      const label = radio && radio.labels && radio.labels[0];
      return label ? label.textContent.trim() : String(v);
    }
    focus(options) {
      const radio = this.radios.find((r) => r.checked) || this.radios[0];
      if (radio) radio.focus(options);
    }
  }
  if (!customElements.get("choice-group")) customElements.define("choice-group", ChoiceGroup);

  // --- where the keyboard goes next -------------------------------------------------------
  const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";

  function shown(el) { return el.getClientRects().length > 0; }

  // Would Tab stop here? (A radio group stops once: at its checked radio, else its first.)
  function tabStop(el) {
    if (el.disabled || el.tabIndex < 0 || el.closest("[hidden]") || !shown(el)) return false;
    if (el.type === "radio") {
      const group = el.closest("choice-group");
      if (group) return el === (group.radios.find((r) => r.checked) || group.radios[0]);
    }
    return true;
  }

  function nextStop(after) {
    return $$(FOCUSABLE).find((el) => !after.contains(el) &&
      (after.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) && tabStop(el)) || null;
  }

  // The first question of a group of findings (its summary once the group is closed).
  function firstQuestion(section) {
    if (section.tagName === "DETAILS" && !section.open) section.open = true;
    const summary = section.querySelector(":scope > summary");
    return $$(FOCUSABLE, section).find((el) => el !== summary && tabStop(el)) || summary;
  }

  function focusQuestion(el) {
    if (!el) return;
    if (el.type === "radio") el.closest("choice-group").focus();
    else el.focus();
  }

  // --- letters answer -----------------------------------------------------------------------
  function answerByLetter(ev, group) {
    const letter = ev.key.toLowerCase();
    const radios = group.radios;
    const starts = radios.filter((r) => group.labelOf(r.value).toLowerCase().startsWith(letter));
    if (!starts.length) return;
    ev.preventDefault();
    const current = radios.findIndex((r) => r.checked);
    // Several answers share the letter: each press takes the next one, and the focus stays.
    const pick = starts.find((r) => radios.indexOf(r) > current) || starts[0];
    if (!pick.checked) {
      pick.checked = true;
      pick.dispatchEvent(new Event("input", { bubbles: true }));
      pick.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (starts.length === 1) focusQuestion(nextStop(group));
    else pick.focus();
  }

  // --- Page Down / Page Up: the next or previous group of findings --------------------------
  function sections() { return $$(".exam-section").filter((s) => !s.closest("[hidden]") && shown(s)); }

  function jumpSection(ev, down) {
    const all = sections();
    const here = all.findIndex((s) => s.contains(ev.target));
    let target;
    if (down) {
      target = all.find((s) => !s.contains(ev.target) &&
        (ev.target.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING));
    } else if (here > 0) {
      target = all[here - 1];
    } else if (here < 0) {
      target = all.filter((s) => ev.target.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_PRECEDING).pop();
    }
    if (!target) return;
    ev.preventDefault();
    focusQuestion(firstQuestion(target));
  }

  document.addEventListener("keydown", (ev) => {
    const el = ev.target;
    if (!(el instanceof HTMLElement) || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const group = el.type === "radio" ? el.closest("choice-group") : null;
    if (group && ev.key.length === 1 && /\p{L}/u.test(ev.key)) {
      answerByLetter(ev, group);
      return;
    }
    if ((ev.key === "PageDown" || ev.key === "PageUp") && !["TEXTAREA", "SELECT"].includes(el.tagName) &&
        el.closest(".exam-section, .field, .section-jumps")) {
      jumpSection(ev, ev.key === "PageDown");
    }
  });

  // --- "Go to" links ------------------------------------------------------------------------
  $$(".section-jumps a[href^='#']").forEach((link) => link.addEventListener("click", (ev) => {
    const section = document.getElementById(link.getAttribute("href").slice(1));
    if (!section) return;
    ev.preventDefault();
    focusQuestion(firstQuestion(section));
  }));

  // --- no to every unanswered safety question -------------------------------------------------
  $$(".all-no-row").forEach((row) => {
    const button = row.querySelector("button.all-no");
    const said = document.createElement("span");
    said.className = "all-no-status";
    said.setAttribute("role", "status");
    row.append(said);
    row.hidden = false;
    button.addEventListener("click", () => {
      const section = row.closest(".exam-section");
      const root = row.closest("form") || document;
      let groups = $$("choice-group[data-kind='boolean']", section);
      if (section.dataset.section === "safety" && section.dataset.sectionScope !== "patient") {  // the patient's safety questions too
        groups = $$(".exam-section[data-section='safety'][data-section-scope='patient'] choice-group[data-kind='boolean']", root)
          .concat(groups);
      }
      const open = groups.filter((g) => g.value === "");
      open.forEach((g) => {
        g.value = "false";
        g.dispatchEvent(new Event("change", { bubbles: true }));
      });
      said.textContent = open.length
        ? open.length + " set to “no”: check each with the patient."
        : "Every question here is already answered.";
    });
  });

  window.backmiceEntry = { firstQuestion: firstQuestion, focusQuestion: focusQuestion };
})();
