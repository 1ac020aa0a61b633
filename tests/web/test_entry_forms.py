"""The finding forms without a browser: every finding in exactly one examination group, the
toggles post the names and values the lists did, and the body map's regions, neighbour table
and overridable words (templates/_fields.html, _bodymap.html; web/exam_order.py)."""

from __future__ import annotations

import re

import pytest

from backmice.web.app import _templates
from backmice.web.exam_order import EXAM_SECTIONS, as_toggles, exam_sections
from backmice.web.kb_views import finding_catalogue
from backmice.web.routes.pages import GROUP_TITLES


@pytest.fixture(scope="module")
def env(kb):
    return _templates(kb).env


@pytest.fixture(scope="module")
def groups(kb):
    catalogue = finding_catalogue(kb)
    return [(gid, title, [f for f in catalogue if f["group"] == gid])
            for gid, title in GROUP_TITLES]


@pytest.mark.parametrize("scope", ["patient", "lump"])
def test_every_finding_is_in_exactly_one_group_in_examination_order(kb, groups, scope):
    sections = exam_sections(groups, scope)
    placed = [f["id"] for s in sections for f in s.fields]
    wanted = [f["id"] for f in finding_catalogue(kb) if f["scope"] == scope]
    assert sorted(placed) == sorted(wanted)  # none lost, none twice
    order = [sid for sid, _title, _ids in EXAM_SECTIONS]
    assert [s.id for s in sections] == [sid for sid in order if sid in {s.id for s in sections}]
    safety = next(s for s in sections if s.id == "safety")
    assert {f["id"] for f in safety.fields} == {
        f["id"] for f in finding_catalogue(kb) if f["scope"] == scope and f["group"] == "safety"}


def test_a_finding_the_table_does_not_name_goes_to_its_groups_section():
    extra = {"id": "new_sign", "scope": "lump", "group": "safety", "kind": "boolean",
             "values": [{"value": True, "label": "yes"}, {"value": False, "label": "no"}]}
    sections = exam_sections([("safety", "Safety", [extra])], "lump")
    assert [(s.id, [f["id"] for f in s.fields]) for s in sections] == [("safety", ["new_sign"])]


def test_toggles_for_yes_no_and_short_lists_only(kb):
    kinds = {f["id"]: as_toggles(f) for f in finding_catalogue(kb)}
    assert kinds["fever"] and kinds["sex"] and kinds["consistency"]
    assert not kinds["location"]  # eleven places: a list
    assert not kinds["histopathology_finding"] and not kinds["size_cm"]


def test_toggles_post_the_values_the_lists_posted(env, kb):
    fever = next(f for f in finding_catalogue(kb) if f["id"] == "fever")
    html = env.from_string('{% from "_fields.html" import field %}'
                           '{{ field(f, "patient", name="patient.fever", value="false") }}'
                           ).render(f=fever)
    radios = re.findall(
        r'<input type="radio" id="[^"]+" name="([^"]+)" value="([^"]*)"( checked)?>', html)
    assert radios == [("patient.fever", "true", ""), ("patient.fever", "false", " checked"),
                      ("patient.fever", "", "")]
    assert re.search(r'<choice-group id="patient-fever"[^>]*role="radiogroup"'
                     r'[^>]*aria-labelledby="patient-fever-label"', html)
    assert '<span class="field-label" id="patient-fever-label">Fever</span>' in html
    unknown = env.from_string('{% from "_fields.html" import field %}{{ field(f, "patient") }}'
                              ).render(f=fever)
    assert re.search(r'value="" checked><label for="[^"]+" class="unknown">unknown</label>',
                     unknown)


def _regions(html: str) -> dict[str, dict[str, str]]:
    out = {}
    for tag in re.findall(r'<(?:path|circle) class="region[^"]*"[^>]*>', html):
        attrs = dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))
        out[attrs["data-key"]] = attrs
    return out


def test_the_body_map_keeps_its_regions_and_has_a_complete_neighbour_table(env, groups):
    html = env.get_template("_bodymap.html").render()
    regions = _regions(html)
    locations = {f["id"]: f for _g, _t, fs in groups for f in fs}["location"]["values"]
    mapped = {v["value"] for v in locations} - {"other"}
    assert {k.split(":")[0] for k in regions} == mapped
    assert len(regions) == 18
    assert [k for k, r in regions.items() if r["tabindex"] == "0"] == [
        "posterior_superior_iliac_spine:left"]
    for key, r in regions.items():
        assert r["data-location"] + ":" + r["data-side"] == key
        assert 0 <= float(r["data-cx"]) <= 360 and 0 <= float(r["data-cy"]) <= 380
        for way in ("left", "right", "up", "down"):
            if f"data-{way}" in r:
                assert r[f"data-{way}"] in regions, (key, way)
    reached = {r[f"data-{w}"] for r in regions.values() for w in ("left", "right", "up", "down")
               if f"data-{w}" in r}
    assert reached == set(regions)  # the arrow keys reach every region
    # left and right go the way they point: the viewer's left is the patient's left
    assert regions["buttock:left"]["data-right"] == "sacroiliac:left"
    assert float(regions["flank:left"]["data-cx"]) < float(regions["flank:right"]["data-cx"])
    assert re.search(r"patient(&#39;|')s left", html) and 'src="/static/bodymap.js"' in html


def test_the_body_maps_words_can_be_the_patients(env):
    html = env.from_string('{% set bodymap_labels = {"posterior_superior_iliac_spine": '
                           '"dimple at the top of the buttock", "left": "your left", '
                           '"place": "My lump is here:", "mark_psis": "dimple"} %}'
                           '{% include "_bodymap.html" %}').render()
    psis = _regions(html)["posterior_superior_iliac_spine:left"]
    assert psis["aria-label"] == "My lump is here: your left dimple at the top of the buttock"
    assert "PSIS" not in html.split("<g id=\"markers\">")[0].replace("posterior_superior", "")
