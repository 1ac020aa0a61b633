// Patient-record pages: progressive enhancement only (every form works without this file).
// - a refused form: focus its message and mark the field it names;
// - the patient page: a click (or Enter) on the body map fills the add-lesion form;
// - the procedure form shows the fields of the chosen kind;
// - the record-a-visit page previews the assessment (POST /clinician/result, as the
//   clinician workspace does) and greys out lesions not examined;
// - the users page copies a new API token;
// - the patient page's top buttons ("Record a procedure", ...) open their form and focus its
//   first field (without this file the link reloads the page with the form open, autofocused);
// - the visit form's prefilled age follows a changed visit date (unless changed by hand).
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MAP_W = 360;
  const MAP_H = 380;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // --- a refused form ---------------------------------------------------------------------
  const problem = $("#form-error");
  if (problem) {
    const field = problem.dataset.errorField;
    if (field) {
      $$("[name]").filter((el) => el.name === field).forEach((el) => {
        el.setAttribute("aria-invalid", "true");
        el.setAttribute("aria-describedby", "form-error");
      });
    }
    problem.focus();
  }

  // --- the top buttons open their form -------------------------------------------------------
  const openBox = (box) => {
    box.open = true;
    const first = $("input:not([type=hidden]):not([disabled]), select, textarea", box);
    if (first) first.focus();
  };
  $$("a[data-opens]").forEach((link) => {
    link.addEventListener("click", (ev) => {
      const box = document.getElementById(link.dataset.opens);
      if (!box) return;
      ev.preventDefault();
      history.replaceState(null, "", "#" + box.id);
      openBox(box);
      box.scrollIntoView({ block: "start" });
    });
  });
  const targeted = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  if (targeted && targeted.tagName === "DETAILS" && !targeted.open) openBox(targeted);

  // --- the visit form: the prefilled age follows the visit date -----------------------------
  const who = $("#visit-patient");
  const visitDate = $("#occurred_on");
  const age = $("#patient-age_years");
  if (who && who.dataset.birthDate && visitDate && age) {
    let prefilled = age.value;
    visitDate.addEventListener("change", () => {
      if (age.value !== prefilled) return;  // changed by the clinician: theirs stands
      const born = new Date(who.dataset.birthDate + "T00:00:00Z");
      const on = new Date(visitDate.value + "T00:00:00Z");
      if (Number.isNaN(on.getTime())) return;
      let years = on.getUTCFullYear() - born.getUTCFullYear();
      if (on.getUTCMonth() < born.getUTCMonth() ||
          (on.getUTCMonth() === born.getUTCMonth() && on.getUTCDate() < born.getUTCDate())) {
        years -= 1;
      }
      if (years < 0) return;
      age.value = String(years);
      prefilled = age.value;
      age.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  // --- the body map places a new lesion -----------------------------------------------------
  const map = $("#bodymap");
  const lesionForm = $("#form-lesion");
  if (map && lesionForm) {
    const status = $("#map-status");
    const markers = $("#markers");
    let pending = null;

    const place = (region, px, py) => {
      const x = Math.min(Math.max(px / MAP_W, 0), 1);
      const y = Math.min(Math.max(py / MAP_H, 0), 1);
      $("#lesion-x").value = x.toFixed(3);
      $("#lesion-y").value = y.toFixed(3);
      $("#lesion-region").value = region.dataset.location;
      $("#lesion-side").value = region.dataset.side;
      if (pending) pending.remove();
      pending = document.createElementNS(SVG_NS, "circle");
      pending.setAttribute("class", "pending-marker");
      pending.setAttribute("cx", String(px));
      pending.setAttribute("cy", String(py));
      pending.setAttribute("r", "8");
      markers.append(pending);
      const box = $("#add-lesion");
      if (box) box.open = true;
      const side = region.dataset.side === "midline" ? "" : region.dataset.side + " ";
      const where = side + region.dataset.location.replace(/_/g, " ");
      status.textContent = "New lesion at the " + where +
        ": give it a label and press “Add lesion”.";
      const label = $("#lesion-label");
      if (!label.value) label.value = where;
      label.focus();
      label.select();
    };

    const svgPoint = (ev) => {
      const pt = map.createSVGPoint();
      pt.x = ev.clientX;
      pt.y = ev.clientY;
      return pt.matrixTransform(map.getScreenCTM().inverse());
    };

    $$("[data-location]", map).forEach((region) => {
      region.addEventListener("click", (ev) => {
        const p = svgPoint(ev);
        place(region, Math.round(p.x), Math.round(p.y));
      });
      region.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          place(region, Number(region.dataset.cx), Number(region.dataset.cy));
        }
      });
    });
  }

  // --- the procedure form shows what the chosen kind needs ------------------------------
  const kind = $("#proc-kind");
  if (kind) {
    const form = kind.form;
    const show = () => {
      $$("[data-kinds]", form).forEach((part) => {
        const on = part.dataset.kinds.split(" ").includes(kind.value);
        part.hidden = !on;
        $$("input, select, textarea", part).forEach((el) => { el.disabled = !on; });
      });
    };
    kind.addEventListener("change", show);
    show();
  }

  // --- record a visit: the live preview ---------------------------------------------------
  const visit = $("#visit-form");
  if (visit) {
    const preview = $("#preview");
    const panel = $("#preview-panel");
    const lesions = $$("fieldset.visit-lesion", visit);

    const read = (el) => {
      const raw = el.value.trim();
      if (raw === "") return null;
      const kindOf = el.dataset.kind;
      if (kindOf === "boolean") return raw === "true";
      if (kindOf === "number") return Number(raw.replace(",", "."));
      if (kindOf === "count") {
        if (raw.toLowerCase() === "many") return "many";
        return /^\d+$/.test(raw) ? Number(raw) : raw;
      }
      return raw;
    };

    // A value read from the pasted note counts only once confirmed (its box) or changed.
    const markOf = (el) => {
      const field = el.closest(".field.note-suggested");
      return field ? $(".note-mark", field) : null;
    };
    const unconfirmed = (el) => {
      const mark = markOf(el);
      const box = mark && $(".note-confirm input", mark);
      return !!box && !box.checked && el.value === mark.dataset.noteValue;
    };
    const showConfirmed = (el) => {
      const mark = markOf(el);
      if (!mark) return;
      const on = !unconfirmed(el);
      mark.closest(".field").classList.toggle("confirmed", on);
      $(".note-state", mark).textContent = el.value !== mark.dataset.noteValue ? "Changed by you"
        : (on ? "Confirmed, read from the note" : "Read from the note: not used until confirmed");
    };
    $$("[data-finding]", visit).forEach((el) => {
      if (!markOf(el)) return;
      const box = $(".note-confirm input", markOf(el));
      const changed = () => {
        if (el.value !== markOf(el).dataset.noteValue) return;  // changed: counts as entered
        box.checked = true;  // changed back to the note's value: that is a choice too
        showConfirmed(el);
      };
      el.addEventListener("input", () => showConfirmed(el));
      el.addEventListener("change", () => { changed(); showConfirmed(el); });
      box.addEventListener("change", () => showConfirmed(el));
    });
    const confirmAll = $("#confirm-all");
    if (confirmAll) {
      confirmAll.addEventListener("change", () => {
        $$(".note-confirm input", visit).forEach((box) => { box.checked = confirmAll.checked; });
        $$("[data-finding]", visit).forEach(showConfirmed);
      });
    }

    const findingsOf = (root, scope) => {
      const out = {};
      $$("[data-finding][data-scope='" + scope + "']", root).forEach((el) => {
        if (unconfirmed(el)) return;
        const v = read(el);
        if (v !== null) out[el.dataset.finding] = v;
      });
      return out;
    };

    const withoutNulls = (obj) => Object.fromEntries(
      Object.entries(obj || {}).filter(([, v]) => v !== null && v !== undefined));

    const documentForServer = () => ({
      setting: $("#setting").value,
      patient: findingsOf(visit, "patient"),
      lumps: lesions.filter((fs) => $("input[name='lesions']", fs).checked).map((fs) => {
        const id = fs.dataset.lesion;
        const later = withoutNulls(JSON.parse(fs.dataset.later || "{}"));
        return {
          id: "lesion-" + id,
          findings: Object.assign(withoutNulls(JSON.parse(fs.dataset.known || "{}")),
            findingsOf(fs, "l" + id)),
          later_tests: Object.keys(later).length ? later : null,
        };
      }),
    });

    let timer = null;
    let sequence = 0;
    const refresh = () => {
      lesions.forEach((fs) => {
        fs.classList.toggle("not-examined", !$("input[name='lesions']", fs).checked);
      });
      clearTimeout(timer);
      timer = setTimeout(assess, 200);
    };

    const assess = async () => {
      const doc = documentForServer();
      panel.hidden = false;
      if (!doc.lumps.length) {
        preview.innerHTML = '<p class="muted">Tick a lesion to see its assessment.</p>';
        return;
      }
      const mine = ++sequence;
      preview.setAttribute("aria-busy", "true");
      try {
        const response = await fetch("/clinician/result", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify(doc),
        });
        const html = await response.text();
        if (mine !== sequence) return;
        preview.innerHTML = html;
        // Name each lump by its lesion, as the legend of its fieldset does.
        lesions.forEach((fs) => {
          const heading = $("#result-lesion-" + fs.dataset.lesion + " h3", preview);
          const label = $("legend label", fs);
          if (heading && label && heading.firstChild) {
            heading.firstChild.textContent = label.textContent.replace(/^Examined: /, "") + " ";
          }
        });
      } catch (err) {
        preview.innerHTML = '<p class="alert" role="alert">The preview is not available; ' +
          "saving still works.</p>";
      } finally {
        preview.removeAttribute("aria-busy");
      }
    };

    // A suggested question's answer button fills the matching field of the form.
    preview.addEventListener("click", (ev) => {
      const btn = ev.target.closest("button.answer");
      if (!btn) return;
      const lesion = (btn.dataset.lump || "").replace("lesion-", "");
      const control = $("#patient-" + btn.dataset.finding) ||
        $("#l" + lesion + "-" + btn.dataset.finding);
      if (!control) return;
      const group = control.closest("details");
      if (group) group.open = true;
      if (btn.dataset.focus) {
        control.focus();
        return;
      }
      control.value = btn.dataset.value;
      control.dispatchEvent(new Event("change", { bubbles: true }));
    });

    visit.addEventListener("change", refresh);
    refresh();
  }

  // --- the users page: copy a new API token -------------------------------------------------
  const copy = $("#copy-token");
  if (copy) {
    copy.addEventListener("click", async () => {
      const field = $("#new-token");
      try {
        await navigator.clipboard.writeText(field.value);
      } catch (err) {
        field.select();
        document.execCommand("copy");
      }
      $("#copy-status").textContent = "Copied.";
    });
  }
})();
