// Clinician workspace: lumps on the body map, findings per lump, live assessment.
// The page holds the state; every change posts the native patient document to
// /clinician/result (the HTML twin of POST /api/v1/assess) and shows the answer.
// A value that cannot be used is marked at its field (checked here first, else named by the
// server's 422 answer) and the last good assessment stays on screen, marked as out of date.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TYPING_PAUSE = 300;  // ms without a keystroke before a typed number is used
  const state = { patient: {}, lumps: [], selected: -1, next: 1, clusterMode: false };
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  const map = $("#bodymap");
  const markers = $("#markers");
  const lumpList = $("#lump-list");
  const lumpForm = $("#lump-form");
  const result = $("#result");
  const resultPanel = $("#result-panel");
  const status = $("#map-status");
  const toolStatus = $("#tool-status");
  const resultStatus = $("#result-status");
  const staleNote = $("#result-stale");
  const jump = $("#jump-result");
  const clusterCount = $("#cluster-count");

  // --- field errors: aria-invalid and a message in plain words next to the field ---------
  const invalid = new Map();  // control id -> message, for values kept out of the state
  let serverProblem = null;  // what the server's last answer refused, until one is accepted

  function labelOf(el) {
    const named = el.getAttribute("aria-labelledby");  // a row of toggles (a <choice-group>)
    const label = (named && document.getElementById(named)) || (el.id && $("label[for='" + el.id + "']"));
    if (!label) return "This field";
    const copy = label.cloneNode(true);
    $$(".unit", copy).forEach((u) => u.remove());
    return copy.textContent.trim();
  }

  function showError(el, message) {
    const id = el.id + "-error";
    let box = document.getElementById(id);
    if (!box) {
      box = document.createElement("p");
      box.id = id;
      box.className = "field-error";
      // The cluster's count shares a row with its button: its message goes below both.
      (el === clusterCount ? $("#cluster-mode") : el).insertAdjacentElement("afterend", box);
      const described = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      el.setAttribute("aria-describedby", described.concat(id).join(" "));
    }
    box.textContent = message;
    el.setAttribute("aria-invalid", "true");
    const field = el.closest(".field");
    if (field) field.classList.add("invalid");
  }

  function clearError(el) {
    const id = el.id + "-error";
    const box = document.getElementById(id);
    if (box) box.remove();
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") || "").split(" ")
      .filter((x) => x && x !== id);
    if (described.length) el.setAttribute("aria-describedby", described.join(" "));
    else el.removeAttribute("aria-describedby");
    const field = el.closest(".field");
    if (field) field.classList.remove("invalid");
  }

  function range(el) {
    const min = el.dataset.min !== undefined ? el.dataset.min : el.min;
    const max = el.dataset.max !== undefined ? el.dataset.max : el.max;
    return [min === "" || min === undefined ? null : Number(min),
      max === "" || max === undefined ? null : Number(max)];
  }

  function unitOf(el) {
    const unit = el.id && $("label[for='" + el.id + "'] .unit");
    return unit ? " " + unit.textContent.replace(/[()]/g, "").trim() : "";
  }

  // Why a control's value cannot be used, or null when it can (empty means unknown).
  function problem(el) {
    const raw = el.value.trim();
    const kind = el.dataset.kind || (el.type === "number" ? "number" : null);
    if (kind !== "number" && kind !== "count") return null;
    const [min, max] = range(el);
    const span = (min !== null && max !== null) ? " from " + min + " to " + max + unitOf(el) : "";
    const leave = ", or leave it empty if not known.";
    if (el.validity && el.validity.badInput) return labelOf(el) + ": enter a number" + span + leave;
    if (raw === "") return null;
    if (kind === "count") {
      if (raw.toLowerCase() === "many") return null;
      if (!/^\d+$/.test(raw)) return labelOf(el) + ": enter a whole number" + span + " or “many”" + leave;
      // A lump has at least one nodule (the server refuses 0 too).
      if (el.dataset.scope === "lump" && Number(raw) < 1) {
        return labelOf(el) + ": enter a whole number of 1 or more, or “many”" + leave;
      }
    }
    const n = Number(raw);
    if (!Number.isFinite(n)) return labelOf(el) + ": enter a number" + span + leave;
    if ((min !== null && n < min) || (max !== null && n > max)) {
      return labelOf(el) + ": " + raw + " is outside the allowed range; enter a number" + span + leave;
    }
    return null;
  }

  function setInvalid(el, message) {
    invalid.set(el.id, message);
    showError(el, message);
    markStale();
  }

  function setValid(el) {
    invalid.delete(el.id);
    clearError(el);
    markStale();
  }

  // The last good result stays visible while a marked field holds a value it does not include.
  function markStale() {
    const messages = Array.from(invalid.values());
    if (serverProblem && !messages.includes(serverProblem)) messages.push(serverProblem);
    const stale = messages.length > 0 && !!$(".assessment", result);
    result.classList.toggle("stale", stale);
    staleNote.hidden = !messages.length;
    staleNote.textContent = messages.length
      ? (stale ? "Out of date: the assessment below was made before this change, which cannot be used. "
        : "Cannot assess yet. ") + messages.join(" ")
      : "";
  }

  // --- reading and writing form controls -------------------------------------------------
  function readControl(el) {
    const raw = el.value.trim();
    if (raw === "") return null;
    const kind = el.dataset.kind;
    if (kind === "boolean") return raw === "true";
    if (kind === "number") return Number(raw);
    if (kind === "count") {
      if (raw.toLowerCase() === "many") return "many";
      return /^\d+$/.test(raw) ? Number(raw) : raw;  // the server names a bad value
    }
    return raw;
  }

  function writeControl(el, value) {
    if (value === null || value === undefined) el.value = "";
    else if (typeof value === "boolean") el.value = value ? "true" : "false";
    else el.value = String(value);
  }

  // --- lumps ------------------------------------------------------------------------------
  function clusterProblem() {
    const raw = clusterCount.value.trim();
    const n = Number(raw);
    if (raw === "" || clusterCount.validity.badInput || !/^\d+$/.test(raw) || n < 2 || n > 10000) {
      return "A cluster needs at least 2 nodules: enter a whole number from 2 to 10000.";
    }
    return null;
  }

  function checkCluster() {
    const message = clusterProblem();
    if (message) showError(clusterCount, message);
    else clearError(clusterCount);
    return !message;
  }

  function addLump(location, side, x, y) {
    if (state.clusterMode && !checkCluster()) {
      status.textContent = "Not placed: the number of nodules in the cluster needs correcting.";
      clusterCount.focus();
      return;
    }
    const count = state.clusterMode ? Number(clusterCount.value) : null;
    const id = (count ? "cluster-" : "lump-") + state.next++;
    const findings = { location: location, laterality: side, palpable_lump: true };
    if (count) findings.nodule_count = count;
    state.lumps.push({ id: id, x: x, y: y, findings: findings, later: {} });
    setClusterMode(false);
    select(state.lumps.length - 1);
    status.textContent = "Placed " + describe(state.lumps[state.selected]) + ".";
    showJump("Assessing " + state.lumps[state.selected].id + "…");
    assessSoon();
  }

  function describe(lump) {
    const f = lump.findings;
    const where = (f.laterality && f.laterality !== "midline" ? f.laterality + " " : "") +
      String(f.location || "").replace(/_/g, " ");
    const many = lump.id.startsWith("cluster-") ? " (" + f.nodule_count + " nodules)" : "";
    return lump.id + ": " + where + many;
  }

  function removeLump(index) {
    state.lumps.splice(index, 1);
    select(Math.min(state.selected, state.lumps.length - 1));
    assessSoon();
  }

  function select(index) {
    state.selected = index;
    renderLumps();
    const lump = state.lumps[index];
    lumpForm.hidden = !lump;
    // The form now shows this lump's stored values: errors of the previous values are gone.
    $$("[data-scope='lump'], [data-later]", lumpForm).forEach((el) => {
      if (invalid.has(el.id) || el.hasAttribute("aria-invalid")) { invalid.delete(el.id); clearError(el); }
    });
    markStale();
    if (!lump) return;
    $("#lump-form-title").textContent = "Lump " + describe(lump);
    $$("[data-scope='lump']", lumpForm).forEach((el) => writeControl(el, lump.findings[el.dataset.finding]));
    $$("[data-later]", lumpForm).forEach((el) => writeControl(el, lump.later[el.dataset.later]));
    renderMarks();
  }

  function renderLumps() {
    markers.replaceChildren();
    lumpList.replaceChildren();
    state.lumps.forEach((lump, i) => {
      const g = document.createElementNS(SVG_NS, "g");
      g.setAttribute("class", "marker" + (i === state.selected ? " selected" : "") +
        (lump.id.startsWith("cluster-") ? " cluster" : ""));
      const c = document.createElementNS(SVG_NS, "circle");
      c.setAttribute("cx", lump.x);
      c.setAttribute("cy", lump.y);
      c.setAttribute("r", lump.id.startsWith("cluster-") ? 11 : 7);
      const t = document.createElementNS(SVG_NS, "text");
      t.setAttribute("x", lump.x);
      t.setAttribute("y", lump.y + 4);
      t.textContent = lump.id.startsWith("cluster-") ? String(lump.findings.nodule_count) : String(i + 1);
      g.append(c, t);
      g.addEventListener("click", (ev) => { ev.stopPropagation(); select(i); });
      markers.append(g);

      const li = document.createElement("li");
      const pick = document.createElement("button");
      pick.type = "button";
      pick.textContent = (i + 1) + ". " + describe(lump);
      pick.setAttribute("aria-pressed", i === state.selected ? "true" : "false");
      pick.addEventListener("click", () => select(i));
      const del = document.createElement("button");
      del.type = "button";
      del.className = "link";
      del.textContent = "Remove";
      del.setAttribute("aria-label", "Remove " + lump.id);
      del.addEventListener("click", () => removeLump(i));
      li.append(pick, del);
      lumpList.append(li);
    });
  }

  function setClusterMode(on) {
    if (on && !checkCluster()) {
      clusterCount.focus();
      return;
    }
    state.clusterMode = on;
    $("#cluster-mode").setAttribute("aria-pressed", on ? "true" : "false");
    status.textContent = on ? "Now choose the region of the cluster on the map." : status.textContent;
  }

  function svgPoint(ev) {
    const pt = map.createSVGPoint();
    pt.x = ev.clientX;
    pt.y = ev.clientY;
    return pt.matrixTransform(map.getScreenCTM().inverse());
  }

  function placeAtCentre(region) {
    const jitter = (state.lumps.length % 5) * 3;
    addLump(region.dataset.location, region.dataset.side,
      Number(region.dataset.cx) + jitter, Number(region.dataset.cy) + jitter);
  }

  $$("[data-location]", map).forEach((region) => {
    region.addEventListener("click", (ev) => {
      const p = svgPoint(ev);
      addLump(region.dataset.location, region.dataset.side, Math.round(p.x), Math.round(p.y));
    });
    region.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        const placed = state.lumps.length;
        placeAtCentre(region);
        if (state.lumps.length > placed) focusLumpForm();
      }
    });
  });

  // --- the form half: where the keyboard starts and goes (static/entry.js does the rest) ---
  // Placed from the keyboard: on to the lump's first question (a click leaves the focus alone).
  function focusLumpForm() {
    const entry = window.backmiceEntry;
    const first = entry && $(".exam-section", lumpForm);
    if (!first) return;
    entry.focusQuestion(entry.firstQuestion(first));
    status.textContent += " Its findings follow.";
  }
  // On a wide screen with a mouse and keyboard the page starts at the patient's age (phones:
  // no keyboard popping up); a link to a part of the page keeps its place.
  const age = $("#patient-age_years");
  if (age && !location.hash && !age.value && window.matchMedia("(min-width: 1100px) and (pointer: fine)").matches) {
    age.focus({ preventScroll: true });
  }
  // The region buttons under the map place a lump at the centre of the matching map region.
  $$(".region-button").forEach((button) => button.addEventListener("click", () => {
    const region = $("[role='button'][data-location='" + button.dataset.region + "'][data-side='" +
      button.dataset.side + "']", map);
    if (region) placeAtCentre(region);
  }));
  $("#cluster-mode").addEventListener("click", () => setClusterMode(!state.clusterMode));
  let clusterTimer = null;
  clusterCount.addEventListener("input", () => {
    clearTimeout(clusterTimer);
    clusterTimer = setTimeout(checkCluster, TYPING_PAUSE);
  });
  clusterCount.addEventListener("change", () => { clearTimeout(clusterTimer); checkCluster(); });

  // --- findings ---------------------------------------------------------------------------
  // Store a control's value (or mark it when it cannot be used); assess only on a real change.
  function commit(el) {
    const message = problem(el);
    if (message) {
      setInvalid(el, message);
      return;
    }
    if (invalid.has(el.id) || el.hasAttribute("aria-invalid")) setValid(el);
    let target;
    let key;
    let value;
    if (el.dataset.later) {
      const lump = state.lumps[state.selected];
      if (!lump) return;
      const raw = el.value.trim();
      target = lump.later;
      key = el.dataset.later;
      value = raw === "" ? null : (el.type === "number" ? Number(raw) : raw);
    } else if (el.dataset.scope === "patient") {
      target = state.patient;
      key = el.dataset.finding;
      value = readControl(el);
    } else {
      const lump = state.lumps[state.selected];
      if (!lump) return;
      target = lump.findings;
      key = el.dataset.finding;
      value = readControl(el);
    }
    const before = Object.prototype.hasOwnProperty.call(target, key) ? target[key] : null;
    if (before === value) return;
    if (value === null) delete target[key];
    else target[key] = value;
    if (target !== state.patient && !el.dataset.later) renderLumps();
    assessSoon();
  }

  const controls = $$("[data-scope='patient']").concat($$("[data-scope='lump'], [data-later]", lumpForm));
  controls.forEach((el) => {
    let typing = null;
    el.addEventListener("change", () => { clearTimeout(typing); edited(el); commit(el); });
    if (el.tagName === "INPUT") {  // numbers and counts: used while typing, after a short pause
      el.addEventListener("input", () => {
        edited(el);
        clearTimeout(typing);
        typing = setTimeout(() => commit(el), TYPING_PAUSE);
      });
    }
  });
  $("#setting").addEventListener("change", () => { clearError($("#setting")); assessSoon(); });

  // --- paste the note ----------------------------------------------------------------------
  // POST /api/v1/extract reads the note; each finding fills its field only as a suggestion
  // (marked "read from the note", the phrase shown on hover and focus and given as the field's
  // description), kept out of the state until confirmed or edited. A value already entered is
  // never overwritten: the note's value is shown beside it. Marks: state.note (patient) and
  // lump.note, finding -> {kind: suggested | confirmed | conflict, raw, value, shown, phrase}.
  state.note = {};
  const noteText = $("#paste-text");
  const noteStatus = $("#note-status");
  const readButton = $("#read-note");
  const confirmAllButton = $("#confirm-all");
  const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);

  function formValue(v) {
    if (typeof v === "boolean") return v ? "true" : "false";
    return String(v);
  }

  function sameValue(a, b) {
    const x = formValue(a);
    const y = formValue(b);
    if (x === y) return true;
    return x.trim() !== "" && y.trim() !== "" && Number.isFinite(Number(x)) && Number(x) === Number(y);
  }

  function shownValue(el, value) {
    if (el.tagName === "SELECT") {
      const option = Array.from(el.options).find((o) => o.value === value);
      return option ? option.textContent.trim() : value;
    }
    if (el.labelOf) return el.labelOf(value);  // a row of toggles
    return value + unitOf(el);
  }

  function phraseOf(data, fid, value) {
    const counted = data.mentions.filter((m) => m.finding === fid && m.counted);
    const same = counted.filter((m) => sameValue(m.value, value));
    const quoted = [];
    (same.length ? same : counted).slice(0, 3).forEach((m) => {
      const q = "“" + m.text.replace(/\s+/g, " ").trim().slice(0, 80) + "”" + (m.basis ? " (" + m.basis + ")" : "");
      if (!quoted.includes(q)) quoted.push(q);
    });
    return quoted.join("; ");
  }

  function marksOf(el) {
    if (el.dataset.scope === "patient") return state.note;
    const lump = state.lumps[state.selected];
    return lump ? (lump.note = lump.note || {}) : null;
  }

  function targetOf(el) {
    if (el.dataset.scope === "patient") return state.patient;
    const lump = state.lumps[state.selected];
    return lump ? lump.findings : null;
  }

  function renderMark(el) {
    const field = el.closest(".field");
    if (!field || !el.dataset.finding) return;
    const phraseId = el.id + "-note-phrase";
    $$(".note-mark", field).forEach((m) => m.remove());
    field.classList.remove("from-note", "note-suggested", "note-disagrees", "confirmed");
    const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== phraseId);
    const marks = marksOf(el);
    const m = marks && marks[el.dataset.finding];
    if (!m) {
      if (described.length) el.setAttribute("aria-describedby", described.join(" "));
      else el.removeAttribute("aria-describedby");
      return;
    }
    const box = document.createElement("div");
    box.className = "note-mark";
    box.dataset.noteValue = m.value;
    if (m.kind === "conflict") {
      const p = document.createElement("p");
      p.className = "note-conflict";
      p.id = phraseId;
      const strong = document.createElement("strong");
      strong.textContent = m.shown;
      p.append("The note says ", strong, " (" + m.phrase + "); your entry is kept.");
      box.append(p);
    } else {
      const tag = document.createElement("span");
      tag.className = "note-tag";
      const word = document.createElement("span");
      word.className = "note-state";
      word.textContent = m.kind === "confirmed" ? "Confirmed, read from the note" : "Read from the note: not used until confirmed";
      const phrase = document.createElement("span");
      phrase.className = "note-phrase";
      phrase.id = phraseId;
      phrase.setAttribute("role", "tooltip");
      phrase.textContent = "Read from the note: " + m.phrase;
      tag.append(word, phrase);
      box.append(tag);
      if (m.kind === "suggested") {
        const ok = document.createElement("button");
        ok.type = "button";
        ok.className = "note-confirm";
        ok.textContent = "Confirm";
        ok.setAttribute("aria-label", "Confirm " + labelOf(el) + ": " + m.shown);
        ok.addEventListener("click", () => { confirmMark(el); el.focus(); });
        box.append(ok);
        writeControl(el, m.value);
      }
    }
    el.insertAdjacentElement("afterend", box);
    field.classList.add("from-note", m.kind === "conflict" ? "note-disagrees" : "note-suggested");
    if (m.kind === "confirmed") field.classList.add("confirmed");
    el.setAttribute("aria-describedby", described.concat(phraseId).join(" "));
  }

  function noteControls() {
    return $$("[data-finding][data-scope='patient']").concat($$("[data-finding][data-scope='lump']", lumpForm));
  }

  function renderMarks() {
    noteControls().forEach(renderMark);
    // "Confirm all" confirms what is on screen: the patient's and the selected lump's values.
    const waiting = (marks) => Object.values(marks || {}).some((m) => m.kind === "suggested");
    const lump = state.lumps[state.selected];
    confirmAllButton.hidden = !(waiting(state.note) || (lump && waiting(lump.note)));
  }

  // Confirmed: the value counts from now on, as if entered.
  function confirmIn(target, marks, fid) {
    const m = marks[fid];
    if (!m || m.kind !== "suggested") return false;
    m.kind = "confirmed";
    target[fid] = m.raw;
    return true;
  }

  function confirmMark(el) {
    const target = targetOf(el);
    if (!target || !confirmIn(target, marksOf(el), el.dataset.finding)) return;
    if (target !== state.patient) renderLumps();
    renderMarks();
    noteStatus.textContent = labelOf(el) + ": confirmed.";
    assessSoon();
  }

  confirmAllButton.addEventListener("click", () => {
    let n = 0;
    Object.keys(state.note).forEach((fid) => { if (confirmIn(state.patient, state.note, fid)) n++; });
    const lump = state.lumps[state.selected];
    if (lump) {
      Object.keys(lump.note || {}).forEach((fid) => { if (confirmIn(lump.findings, lump.note, fid)) n++; });
    }
    renderLumps();
    renderMarks();
    noteStatus.textContent = n + " value" + (n === 1 ? "" : "s") + " read from the note confirmed.";
    readButton.focus();  // this button is now hidden
    assessSoon();
  });

  // The clinician changed a field: a suggestion becomes their own value (commit stores it); a
  // conflict goes once the field says what the note says.
  function edited(el) {
    const marks = el.dataset.finding ? marksOf(el) : null;
    const m = marks && marks[el.dataset.finding];
    if (!m) return;
    if (m.kind !== "conflict" || sameValue(el.value, m.value)) {
      delete marks[el.dataset.finding];
      renderMark(el);
      renderMarks();
    }
  }

  function merge(target, marks, found, data, controlOf) {
    const counts = { suggested: 0, conflict: 0 };
    Object.keys(marks).forEach((fid) => {  // an earlier reading's suggestions are replaced
      if (marks[fid].kind === "confirmed") return;
      const el = controlOf(fid);
      if (marks[fid].kind === "suggested" && el) writeControl(el, has(target, fid) ? target[fid] : null);
      delete marks[fid];
    });
    Object.entries(found).forEach(([fid, raw]) => {
      const el = controlOf(fid);
      const value = formValue(raw);
      let entered = has(target, fid) ? target[fid] : null;
      if (entered === null && el && el.value.trim() !== "") entered = el.value.trim();  // typed, not usable yet
      const m = { raw: raw, value: value, shown: shownValue(el, value), phrase: phraseOf(data, fid, raw) };
      if (entered === null) {
        marks[fid] = Object.assign(m, { kind: "suggested" });
        counts.suggested++;
      } else if (!sameValue(entered, raw)) {
        marks[fid] = Object.assign(m, { kind: "conflict" });
        counts.conflict++;
      }
    });
    return counts;
  }

  function regionFor(location, side) {
    const regions = $$("[role='button'][data-location]", map).filter((r) => r.dataset.location === location);
    return regions.find((r) => r.dataset.side === side) || regions[0] || null;
  }

  function applyNote(data) {
    const patientFound = {};
    const lumpFound = {};
    let skipped = 0;
    Object.entries(data.findings || {}).forEach(([fid, v]) => {
      if ($("#patient-" + fid)) patientFound[fid] = v;
      else if ($("#lump-" + fid, lumpForm)) lumpFound[fid] = v;
      else skipped++;
    });
    const said = [];
    const counts = merge(state.patient, state.note, patientFound, data, (fid) => $("#patient-" + fid));
    if (Object.keys(lumpFound).length) {
      if (!state.lumps[state.selected] && state.lumps.length) select(0);
      if (!state.lumps.length) {
        const region = lumpFound.location ? regionFor(lumpFound.location, lumpFound.laterality) : null;
        if (region) {
          placeAtCentre(region);
          const lump = state.lumps[state.selected];
          lump.note = {};
          ["location", "laterality"].forEach((fid) => {
            if (has(lumpFound, fid) && sameValue(lump.findings[fid], lumpFound[fid])) {
              lump.note[fid] = { kind: "confirmed", raw: lumpFound[fid], value: formValue(lumpFound[fid]),
                shown: shownValue($("#lump-" + fid), formValue(lumpFound[fid])), phrase: phraseOf(data, fid, lumpFound[fid]) };
            }
          });
          said.push("Placed " + describe(lump) + " where the note says; its findings are in the lump's form.");
        }
      }
      const lump = state.lumps[state.selected];
      if (lump) {
        const placed = said.length > 0;
        lump.note = lump.note || {};
        const c = merge(lump.findings, lump.note, lumpFound, data, (fid) => $("#lump-" + fid, lumpForm));
        counts.suggested += c.suggested;
        counts.conflict += c.conflict;
        if (!placed && (c.suggested || c.conflict)) said.push("Lump findings went to the selected lump, " + describe(lump) + ".");
      } else {
        said.push("The note does not say where the lump is: place it on the map, then read the note again.");
      }
    }
    renderMarks();
    const first = counts.suggested
      ? counts.suggested + " value" + (counts.suggested === 1 ? "" : "s") + " read from the note: confirm or change each one (not used until then)."
      : "Nothing in the note fills an empty field.";
    if (counts.conflict) said.unshift(counts.conflict + " disagree" + (counts.conflict === 1 ? "s" : "") + " with what is entered: shown beside the field, nothing was overwritten.");
    if (skipped) said.push(skipped + " finding" + (skipped === 1 ? " has" : "s have") + " no field here.");
    noteStatus.textContent = [first].concat(said).join(" ");
  }

  let reading = false;
  readButton.addEventListener("click", async () => {
    if (reading) return;
    const text = noteText.value;
    if (!text.trim()) {
      noteStatus.textContent = "Paste a note first.";
      noteText.focus();
      return;
    }
    reading = true;
    readButton.setAttribute("aria-disabled", "true");
    noteStatus.textContent = "Reading the note…";
    try {
      const response = await fetch("/api/v1/extract", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text }),
      });
      const data = await response.json();
      if (!response.ok) {
        const e = data.error || {};
        noteStatus.textContent = "Not read: " + (e.message || response.status) + (e.allowed ? " (allowed: " + e.allowed + ")" : "") + ".";
        return;
      }
      applyNote(data);
    } catch (err) {
      noteStatus.textContent = "The note could not be read: the server could not be reached; try again.";
    } finally {
      reading = false;
      readButton.removeAttribute("aria-disabled");
    }
  });

  // A next-question button answers the question for that lump (or the patient); once the
  // result is back, the keyboard focus goes to the text of that lump's next question (or to
  // the field), never to an answer button: pressing Enter again must not answer a question the
  // user has not read yet (a red-flag "yes" by accident).
  let focusAfter = null;
  result.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.answer");
    if (!btn) return;
    const index = state.lumps.findIndex((l) => l.id === btn.dataset.lump);
    if (index < 0) return;
    select(index);
    const finding = btn.dataset.finding;
    const control = $("#patient-" + finding) || $("#lump-" + finding);
    if (!control) return;
    // A value read from the note but not confirmed is not an answer yet: answering counts.
    const suggested = control.closest(".field.note-suggested:not(.confirmed)");
    if (btn.dataset.focus || (control.value === btn.dataset.value && !suggested)) {
      focusControl(control);
      return;
    }
    focusAfter = { lump: btn.dataset.lump, control: control };
    control.value = btn.dataset.value;
    control.dispatchEvent(new Event("change"));
  });

  function focusControl(control) {
    const group = control.closest("details");
    if (group) group.open = true;
    control.focus();
  }

  function restoreFocus(hadFocus) {
    const wanted = focusAfter;
    focusAfter = null;
    if (wanted) {
      const article = $$(".lump-result", result).find((a) => a.dataset.lump === wanted.lump);
      const next = article && $(".questions > li.question[tabindex='-1']", article);
      if (next) next.focus();
      else focusControl(wanted.control);
    } else if (hadFocus && !result.contains(document.activeElement)) {
      resultPanel.focus({ preventScroll: true });  // never drop the keyboard user on <body>
    }
  }

  // --- assessment -------------------------------------------------------------------------
  function documentForServer() {
    return {
      setting: $("#setting").value,
      patient: state.patient,
      lumps: state.lumps.map((l) => ({
        id: l.id, findings: l.findings,
        later_tests: Object.keys(l.later).length ? l.later : null,
      })),
    };
  }

  let timer = null;
  let sequence = 0;
  function assessSoon() {
    clearTimeout(timer);
    timer = setTimeout(assessNow, 150);
    keepDraft();  // every change to the entries passes here: keep them in this browser
  }

  function announce(text) {
    resultStatus.textContent = "";
    // A fresh text node, set a moment later, is read again even if the words are the same.
    setTimeout(() => { resultStatus.textContent = text; }, 50);
  }

  function summary() {
    const doc = $(".assessment", result);
    if (!doc) return null;
    const articles = $$(".lump-result", result);
    const selected = state.lumps[state.selected];
    const article = articles.find((a) => selected && a.dataset.lump === selected.id) || articles[0];
    let text = "Triage: " + doc.dataset.triageLabel +
      (doc.dataset.triageProvisional ? " (provisional)" : "");
    const shown = article && state.lumps.find((l) => l.id === article.dataset.lump);
    const name = shown && shown.label ? shown.label : (article ? article.dataset.lump : "");
    if (article) text += " · " + name + ": " + article.dataset.top + " " + article.dataset.topP;
    return text;
  }

  // A field the server's 422 answer names (patient.age_years, lumps.0.findings.size_cm, ...).
  function controlForPath(path) {
    let m = /^patient\.([a-z0-9_]+)$/.exec(path);
    if (m) return $("#patient-" + m[1]);
    m = /^lumps\.(\d+)\.(findings|later_tests)\.([a-z0-9_]+)$/.exec(path);
    if (m) {
      const index = Number(m[1]);
      if (!state.lumps[index]) return null;
      if (index !== state.selected) select(index);
      return m[2] === "findings" ? $("#lump-" + m[3]) : $("[data-later='" + m[3] + "']", lumpForm);
    }
    if (path === "setting") return $("#setting");
    return null;
  }

  function serverError(html) {
    const box = document.createElement("div");
    box.innerHTML = html;
    const alert = $("[data-error-field]", box);
    const path = alert ? alert.dataset.errorField : "";
    const control = path ? controlForPath(path) : null;
    const code = alert && $("code", alert);
    if (code) code.remove();  // the field path is for programs; the field itself is marked
    const words = alert ? alert.textContent.replace(/^\s*Cannot assess yet\.\s*:?\s*/, "")
      .replace(/\s+/g, " ").replace(/ or null\b/, ", or leave it empty if not known").trim() : "";
    if (control) {
      const message = labelOf(control) + ": " + words;
      showError(control, message);
      control.setAttribute("data-server-error", "1");
      return { control: control, message: message };
    }
    return { control: null, message: words || "The server could not use these findings." };
  }

  async function assessNow() {
    const tools = ["#copy-note", "#print", "#save", "#save-visit"].map((s) => $(s)).filter(Boolean);
    if (!state.lumps.length) {
      result.innerHTML = '<p class="muted">Place a lump to see the assessment.</p>';
      tools.forEach((b) => { b.disabled = true; });
      hideJump();
      serverProblem = null;
      markStale();
      return;
    }
    const mine = ++sequence;
    result.setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/clinician/result", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(documentForServer()),
      });
      const html = await response.text();
      if (mine !== sequence) return;  // a newer request is on its way
      $$("[data-server-error]").forEach((el) => { el.removeAttribute("data-server-error"); clearError(el); });
      if (!response.ok) {
        const found = serverError(html);
        if (!$(".assessment", result)) {
          result.innerHTML = '<p class="muted">No assessment yet: see the message above.</p>';
          tools.forEach((b) => { b.disabled = true; });
        }
        serverProblem = found.message;
        markStale();
        focusAfter = null;
        if (found.control) found.control.focus();
        announce("Not updated: " + found.message);
        showJump("Not updated: a value needs correcting");
        return;
      }
      const hadFocus = result.contains(document.activeElement);
      result.innerHTML = html;
      tools.forEach((b) => { b.disabled = false; });
      stampDate();
      labelResult();
      serverProblem = null;
      markStale();
      restoreFocus(hadFocus);
      const gist = summary();
      announce("Assessment updated. " + (gist || ""));
      if (gist) showJump(gist);
    } catch (err) {
      if (mine !== sequence) return;
      serverProblem = "The server could not be reached; try again.";
      markStale();
    } finally {
      if (mine === sequence) result.removeAttribute("aria-busy");
    }
  }

  // --- narrow screens: a bar with the gist of the result that jumps to it ----------------
  let resultInView = false;
  function showJump(text) {
    const banner = $(".assessment > .triage-banner", result);
    const level = banner ? Array.from(banner.classList).find((c) => c.startsWith("u-")) : null;
    jump.className = "jump-result" + (level ? " " + level : "");
    $(".jump-summary", jump).textContent = text;
    jump.hidden = false;
    jump.classList.toggle("away", resultInView);
  }
  function hideJump() { jump.hidden = true; }
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      resultInView = entries.some((e) => e.isIntersecting);
      jump.classList.toggle("away", resultInView);
    }).observe(resultPanel);
  }

  // --- printing: the folded sections a chart needs opened, the date stamped -------------
  function stampDate() {
    const when = new Date().toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    $$(".assessed-on", result).forEach((el) => { el.textContent = "assessed " + when + " · "; });
  }
  function openForPrint() {
    fillPrintHeads();
    $$("details.fold-print:not([open])", result).forEach((d) => { d.open = true; d.dataset.printOpened = "1"; });
  }
  function restoreAfterPrint() {
    $$("details[data-print-opened]", result).forEach((d) => { d.open = false; delete d.dataset.printOpened; });
  }
  window.addEventListener("beforeprint", openForPrint);
  window.addEventListener("afterprint", restoreAfterPrint);
  const printing = window.matchMedia("print");  // also print previews that fire no beforeprint
  printing.addEventListener("change", (ev) => (ev.matches ? openForPrint() : restoreAfterPrint()));

  $("#copy-note").addEventListener("click", async () => {
    const note = $("#note-text");
    if (!note) return;
    try {
      await navigator.clipboard.writeText(note.value);
    } catch (err) {
      note.select();
      document.execCommand("copy");
    }
    toolStatus.textContent = "Clinician note copied.";
  });
  $("#print").addEventListener("click", () => window.print());
  if ($("#save")) $("#save").addEventListener("click", async () => {
    const response = await fetch("/api/v1/assessments", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(documentForServer()),
    });
    const data = await response.json();
    if (!response.ok) {
      toolStatus.textContent = "Not saved: " + (data.error ? data.error.message : response.status);
      return;
    }
    const link = document.createElement("a");
    link.href = "/a/" + data.share_id;
    link.textContent = "Saved: open the shareable link";
    toolStatus.replaceChildren(link);
    forgetDraft();  // the entries are kept on the server now
  });

  // === One workflow (result half): start from a patient of the records, keep unsaved entries
  // in this browser, save the result as a visit of that patient. ===========================
  const startBox = $("#workspace-start");
  const start = startBox ? JSON.parse(startBox.textContent) : null;
  const DRAFT_KEY = "backmice.workspace." + (start ? "patient-" + start.patient_id : "anonymous");
  let unsaved = false;  // entries made since the last save or clear: leaving asks first
  let restoring = true;  // building the page from the record or a draft is not an entry

  function hasEntries() {
    return state.lumps.length > 0 || Object.keys(state.patient).length > 0;
  }

  // The entries as stored in the browser (the identification fields are never kept).
  function keepDraft() {
    if (restoring) return;
    try {
      if (!hasEntries() && !start) {
        localStorage.removeItem(DRAFT_KEY);
      } else {
        localStorage.setItem(DRAFT_KEY, JSON.stringify({
          version: 1, saved_at: new Date().toISOString(), setting: $("#setting").value,
          patient: state.patient, next: state.next,
          lumps: state.lumps.map((l) => ({ id: l.id, x: l.x, y: l.y, findings: l.findings, later: l.later,
            lesion_id: l.lesion_id || null, label: l.label || null })),
        }));
      }
    } catch (err) { /* storage full or blocked: the page still works, without the safety copy */ }
    unsaved = hasEntries() || !!start;
  }

  function forgetDraft() {
    try { localStorage.removeItem(DRAFT_KEY); } catch (err) { /* nothing was kept */ }
    unsaved = false;
  }

  function readDraft() {
    try {
      const draft = JSON.parse(localStorage.getItem(DRAFT_KEY) || "null");
      return draft && draft.version === 1 && Array.isArray(draft.lumps) ? draft : null;
    } catch (err) {
      return null;
    }
  }

  function regionCentre(findings) {
    const regions = $$("[role='button'][data-location]", map).filter((r) => r.dataset.location === findings.location);
    const region = regions.find((r) => r.dataset.side === findings.laterality) || regions[0];
    return region ? [Number(region.dataset.cx), Number(region.dataset.cy)] : [180, 190];
  }

  // Lumps from the record or a draft into the page's state, the fields written to match.
  function loadEntries(entries) {
    state.patient = Object.assign({}, entries.patient || {});
    state.lumps = entries.lumps.map((l, i) => {
      let x = l.x;
      let y = l.y;
      if (entries.fromRecord) {  // the record keeps positions from 0 to 1; none: the region's centre
        const placed = typeof l.x === "number" && typeof l.y === "number";
        const centre = regionCentre(l.findings || {});
        x = placed ? Math.round(l.x * 360) : centre[0] + (i % 5) * 3;
        y = placed ? Math.round(l.y * 380) : centre[1] + (i % 5) * 3;
      }
      return { id: l.id, x: x, y: y, findings: Object.assign({}, l.findings || {}),
        later: Object.assign({}, l.later || {}), lesion_id: l.lesion_id || null, label: l.label || null };
    });
    const numbers = state.lumps.map((l) => Number(String(l.id).split("-").pop())).filter(Number.isFinite);
    state.next = Math.max(entries.next || 1, numbers.length ? Math.max.apply(null, numbers) + 1 : 1);
    if (entries.setting && $("#setting option[value='" + entries.setting + "']")) $("#setting").value = entries.setting;
    $$("[data-scope='patient']").forEach((el) => writeControl(el, state.patient[el.dataset.finding]));
    select(state.lumps.length ? 0 : -1);
  }

  // A lump from the record is named by the lesion's label in the result.
  function labelResult() {
    state.lumps.forEach((l) => {
      if (!l.label) return;
      const name = $("#result-" + CSS.escape(l.id) + " .lump-name", result);
      if (name) name.textContent = l.label;
      $$(".flags-by-lump a[href='#result-" + CSS.escape(l.id) + "'] .lump-name", result)
        .forEach((el) => { el.textContent = l.label; });
    });
    fillPrintHeads();
  }

  function fillPrintHeads() {
    const today = new Date().toLocaleDateString(undefined, { dateStyle: "medium" });
    $$(".print-lump-head", result).forEach((head) => {
      $(".pid-name", head).textContent = $("#pid-name").value.trim();
      $(".pid-birth", head).textContent = $("#pid-birth").value;
      $(".pid-ident", head).textContent = $("#pid-ident").value.trim();
      $(".pid-date", head).textContent = today;
    });
  }
  ["#pid-name", "#pid-birth", "#pid-ident"].forEach((sel) => $(sel).addEventListener("input", fillPrintHeads));

  function visitBody() {
    return {
      occurred_on: $("#visit-date").value,
      setting: $("#setting").value,
      patient: state.patient,
      lumps: state.lumps.map((l) => ({
        lesion_id: l.lesion_id, findings: l.findings,
        later_tests: Object.keys(l.later).length ? l.later : null,
      })),
    };
  }

  function errorWords(data, status) {
    const e = (data && data.error) || {};
    const where = e.field ? e.field + ": " : "";
    return (where + (e.message || "the server answered " + status)) + (e.allowed ? " (allowed: " + e.allowed + ")" : "");
  }

  const saveVisit = $("#save-visit");
  if (saveVisit) saveVisit.addEventListener("click", async () => {
    const loose = state.lumps.filter((l) => !l.lesion_id);
    if (loose.length) {
      toolStatus.textContent = "Not saved: " + loose.map(describe).join("; ") + (loose.length === 1 ? " is" : " are") +
        " not a lesion of " + start.label + " in the records. Add it as a lesion on the patient's page, or remove it here.";
      return;
    }
    if (!state.lumps.length) {
      toolStatus.textContent = "Not saved: a visit assesses at least one lesion.";
      return;
    }
    if (invalid.size || serverProblem) {
      toolStatus.textContent = "Not saved: correct the marked field first.";
      return;
    }
    saveVisit.disabled = true;
    toolStatus.textContent = "Saving the visit…";
    try {
      const response = await fetch("/api/v1/patients/" + start.patient_id + "/encounters", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
          "X-CSRF-Token": saveVisit.dataset.csrf },
        body: JSON.stringify(visitBody()),
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        toolStatus.textContent = "Not saved: " + errorWords(data, response.status);
        return;
      }
      forgetDraft();
      $("#restored-notice").hidden = true;
      const link = document.createElement("a");
      link.href = "/encounters/" + data.id;
      link.id = "saved-visit-link";
      link.textContent = "Saved as the visit of " + data.occurred_on + ": open it";
      const back = document.createElement("a");
      back.href = start.record_url;
      back.textContent = "back to " + start.label;
      toolStatus.replaceChildren(link, document.createTextNode(" · "), back);
    } catch (err) {
      toolStatus.textContent = "Not saved: the server could not be reached; your entries are still kept in this browser.";
    } finally {
      saveVisit.disabled = false;
    }
  });

  $("#clear-workspace").addEventListener("click", () => {
    if (hasEntries() && !window.confirm("Clear every lump and finding entered here?")) return;
    forgetDraft();
    window.location.reload();
  });
  $("#discard-restored").addEventListener("click", () => {
    forgetDraft();
    window.location.reload();
  });

  window.addEventListener("beforeunload", (ev) => {
    if (!unsaved) return;
    ev.preventDefault();
    ev.returnValue = "";  // older browsers need a value to ask
  });

  // A case handed over in the URL's fragment (#case=, base64url JSON {patient, lumps}), as the
  // CDS Hooks cards link here from the EHR: it comes first, then the fragment is dropped so a
  // reload keeps the entries as a draft instead.
  function caseFromFragment() {
    const match = /^#case=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
    if (!match) return null;
    try {
      const text = atob(match[1].replace(/-/g, "+").replace(/_/g, "/"));
      const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
      const found = JSON.parse(new TextDecoder().decode(bytes));
      if (!found || !Array.isArray(found.lumps)) return null;
      return { fromRecord: true, patient: found.patient || {},
        lumps: found.lumps.map((l, i) => ({ id: "lump-" + (i + 1), findings: l.findings || {} })) };
    } catch (err) {
      return null;
    }
  }

  const handed = start ? null : caseFromFragment();
  const draft = handed ? null : readDraft();
  if (handed) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
    loadEntries(handed);
    restoring = false;
    keepDraft();
    status.textContent = "Filled in from the EHR's card: check each finding before you rely on it.";
  } else if (draft && (draft.lumps.length || Object.keys(draft.patient || {}).length)) {
    loadEntries(draft);
    unsaved = true;
    const notice = $("#restored-notice");
    const when = draft.saved_at ? new Date(draft.saved_at) : null;
    $(".restored-when", notice).textContent = when && !isNaN(when)
      ? "from " + when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
    notice.hidden = false;
    if ("scrollRestoration" in history) history.scrollRestoration = "manual";
    notice.scrollIntoView({ block: "nearest" });  // the first thing seen after a reload
  } else if (start) {
    loadEntries(Object.assign({ fromRecord: true }, start));
    if (start.lumps.length) status.textContent = "Filled in from the record: " + start.lumps.map(describe).join("; ") + ".";
  }
  restoring = false;
  if (state.lumps.length) assessNow();
})();
