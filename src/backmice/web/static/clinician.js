// Clinician workspace: lumps on the body map, findings per lump, live assessment.
// The page holds the state; every change posts the native patient document to
// /clinician/result (the HTML twin of POST /api/v1/assess) and shows the answer.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const state = { patient: {}, lumps: [], selected: -1, next: 1, clusterMode: false };
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  const map = $("#bodymap");
  const markers = $("#markers");
  const lumpList = $("#lump-list");
  const lumpForm = $("#lump-form");
  const result = $("#result");
  const status = $("#map-status");
  const toolStatus = $("#tool-status");

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
  function addLump(location, side, x, y) {
    const count = state.clusterMode ? Number($("#cluster-count").value) || 2 : null;
    const id = (count ? "cluster-" : "lump-") + state.next++;
    const findings = { location: location, laterality: side, palpable_lump: true };
    if (count) findings.nodule_count = count;
    state.lumps.push({ id: id, x: x, y: y, findings: findings, later: {} });
    setClusterMode(false);
    select(state.lumps.length - 1);
    status.textContent = "Placed " + describe(state.lumps[state.selected]) + ".";
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
    if (!lump) return;
    $("#lump-form-title").textContent = "Lump " + describe(lump);
    $$("[data-scope='lump']", lumpForm).forEach((el) => writeControl(el, lump.findings[el.dataset.finding]));
    $$("[data-later]", lumpForm).forEach((el) => writeControl(el, lump.later[el.dataset.later]));
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

  $$("[data-location]", map).forEach((region) => {
    region.addEventListener("click", (ev) => {
      const p = svgPoint(ev);
      addLump(region.dataset.location, region.dataset.side, Math.round(p.x), Math.round(p.y));
    });
    region.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        const jitter = (state.lumps.length % 5) * 3;
        addLump(region.dataset.location, region.dataset.side,
          Number(region.dataset.cx) + jitter, Number(region.dataset.cy) + jitter);
      }
    });
  });
  $("#cluster-mode").addEventListener("click", () => setClusterMode(!state.clusterMode));

  // --- findings ---------------------------------------------------------------------------
  $$("[data-scope='patient']").forEach((el) => el.addEventListener("change", () => {
    const v = readControl(el);
    if (v === null) delete state.patient[el.dataset.finding];
    else state.patient[el.dataset.finding] = v;
    assessSoon();
  }));
  $$("[data-scope='lump']", lumpForm).forEach((el) => el.addEventListener("change", () => {
    const lump = state.lumps[state.selected];
    if (!lump) return;
    const v = readControl(el);
    if (v === null) delete lump.findings[el.dataset.finding];
    else lump.findings[el.dataset.finding] = v;
    renderLumps();
    assessSoon();
  }));
  $$("[data-later]", lumpForm).forEach((el) => el.addEventListener("change", () => {
    const lump = state.lumps[state.selected];
    if (!lump) return;
    const raw = el.value.trim();
    const v = raw === "" ? null : (el.type === "number" ? Number(raw) : raw);
    if (v === null) delete lump.later[el.dataset.later];
    else lump.later[el.dataset.later] = v;
    assessSoon();
  }));
  $("#setting").addEventListener("change", assessSoon);

  // A next-question button answers the question for that lump (or the patient).
  result.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.answer");
    if (!btn) return;
    const index = state.lumps.findIndex((l) => l.id === btn.dataset.lump);
    if (index < 0) return;
    select(index);
    const finding = btn.dataset.finding;
    const control = $("#patient-" + finding) || $("#lump-" + finding);
    if (!control) return;
    if (btn.dataset.focus) {
      control.closest("details") && (control.closest("details").open = true);
      control.focus();
      return;
    }
    control.value = btn.dataset.value;
    control.dispatchEvent(new Event("change"));
  });

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
  }

  async function assessNow() {
    const tools = ["#copy-note", "#print", "#save"].map((s) => $(s));
    if (!state.lumps.length) {
      result.innerHTML = '<p class="muted">Place a lump to see the assessment.</p>';
      tools.forEach((b) => { b.disabled = true; });
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
      result.innerHTML = html;
      tools.forEach((b) => { b.disabled = !response.ok; });
    } catch (err) {
      result.innerHTML = '<p class="alert" role="alert">The server could not be reached.</p>';
    } finally {
      result.removeAttribute("aria-busy");
    }
  }

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
  $("#save").addEventListener("click", async () => {
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
  });
})();
