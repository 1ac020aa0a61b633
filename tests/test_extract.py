"""backmice.nlp.extract: findings and mentions from clinical notes, ConText modifiers, numbers
read from words with their basis, bad input, linear work, and the rule checks."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backmice.findings import parse_findings
from backmice.nlp import Extraction, Mention, extract
from backmice.nlp.extract import extract_counted
from backmice.nlp.rules import check_rules, load_rules, pattern_problem

DATA = Path(__file__).resolve().parent.parent / "src" / "backmice" / "nlp" / "data"


def found(text: str) -> dict:
    return dict(extract(text).findings.values)


def mention(text: str, finding: str) -> Mention:
    return next(m for m in extract(text).mentions if m.finding == finding)


# --- what a note says ---------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "age", "sex"), [
    ("A 47-year-old woman with a lump.", 47, "female"),
    ("47F, lump over the sacrum.", 47, "female"),
    ("47 yo M with back pain.", 47, "male"),
    ("62 year old male, tender nodule.", 62, "male"),
    ("An elderly man with a huge swelling.", 75, "male"),
    ("Aged 33. She reports a lump.", 33, "female"),
])
def test_ages_and_sexes(text, age, sex):
    f = found(text)
    assert (f["age_years"], f["sex"]) == (age, sex)


def test_age_from_a_word_shows_its_basis():
    assert "75" in (mention("An elderly man.", "age_years").basis or "")


@pytest.mark.parametrize(("text", "cm"), [
    ("3 x 2 cm lump", 3.0), ("30 mm nodule", 3.0), ("1.5cm nodule", 1.5),
    ("a 2 inch lump", 5.08), ("4x3x2.5 cm mass", 4.0), ("lump 12 x 8 mm", 1.2),
])
def test_sizes_take_the_largest_dimension_in_cm(text, cm):
    assert found(text)["size_cm"] == cm


@pytest.mark.parametrize(("text", "cm", "word"), [
    ("a pea-sized nodule", 1, "pea"), ("a lump the size of a golf ball", 4, "golf ball"),
    ("an orange-sized swelling", 8, "orange"), ("a huge swelling on the buttock", 10, "huge"),
    ("a grapefruit sized mass", 12, "grapefruit"), ("a giant lipoma", 10, "huge"),
])
def test_size_words_map_to_a_bin_with_the_basis(text, cm, word):
    assert found(text)["size_cm"] == cm
    assert word in (mention(text, "size_cm").basis or "")


def test_a_measured_size_wins_over_a_size_word():
    assert found("a huge 6 cm lump")["size_cm"] == 6


def test_measurements_of_something_else_are_not_sizes():
    assert "size_cm" not in found("tender point 3 cm lateral to the midline, no lump")
    assert found("lump 2 cm, surrounded by erythema of 6 cm")["size_cm"] == 2


@pytest.mark.parametrize(("text", "weeks"), [
    ("lump for 7 months", 30.3), ("2/52 history of a painful lump", 2),
    ("back pain for 3 years", 156), ("nodule present since childhood", 520),
    ("noticed a lump 6 weeks ago", 6), ("3/12 hx of LBP", 13),
])
def test_durations(text, weeks):
    assert found(text)["duration_weeks"] == pytest.approx(weeks, abs=0.1)


def test_durations_of_other_things_are_not_read():
    assert "duration_weeks" not in found("Diabetic for 10 years. Lipoma excised 2 years ago.")


@pytest.mark.parametrize(("text", "count"), [
    ("several nodules over the sacrum", 3), ("multiple lumps", 3),
    ("dozens of nodules", "many"), ("hundreds of small lumps", "many"),
    ("two lumps on the left", 2), ("a solitary nodule", 1), ("a 3 cm lump", 1),
])
def test_counts(text, count):
    assert found(text)["nodule_count"] == count


@pytest.mark.parametrize(("text", "location", "side"), [
    ("tender nodule over the L PSIS", "posterior_superior_iliac_spine", "left"),
    ("lump at the right SIJ", "sacroiliac", "right"),
    ("R gluteal swelling", "buttock", "right"),
    ("lump in the left loin", "flank", "left"),
    ("nodule on the illiac crest on the right", "iliac_crest", "right"),
    ("swelling in the natal cleft", "sacrococcygeal", None),
    ("bilateral PSIS nodules", "posterior_superior_iliac_spine", "bilateral"),
    ("lump over the greater trochanter", "lateral_hip", None),
    ("low back pain with a nodule over the left sacroiliac joint", "sacroiliac", "left"),
])
def test_sites_and_sides(text, location, side):
    f = found(text)
    assert f["location"] == location
    assert f.get("laterality") == side


def test_a_site_pain_spreads_to_is_not_the_lumps_site():
    assert found("lump over the left PSIS, pain radiating to the buttock")["location"] == \
        "posterior_superior_iliac_spine"


@pytest.mark.parametrize(("text", "growth"), [
    ("getting bigger over the past week", "rapid"), ("rapidly growing mass", "rapid"),
    ("slowly enlarging over months", "slow"), ("unchanged for years", "stable"),
    ("not getting bigger", "stable"),
])
def test_growth(text, growth):
    assert found(text)["growth"] == growth


@pytest.mark.parametrize(("text", "expected"), [
    ("fixed, hard mass", {"mobile": False, "consistency": "hard"}),
    ("soft, mobile, subcutaneous lump", {"mobile": True, "consistency": "soft",
                                         "depth": "subcutaneous"}),
    ("fluctuant, warm, erythematous swelling with a punctum and purulent discharge",
     {"consistency": "fluctuant", "warmth": True, "erythema": True, "punctum": True,
      "discharge": True}),
    ("mass deep to the fascia", {"depth": "deep_to_fascia"}),
    ("non-tender lump", {"tender": False}),
    ("chills and rigors, confused and lethargic, tachycardic",
     {"fever": True, "systemically_unwell": True}),
    ("new urinary retention and saddle anaesthesia",
     {"bladder_or_bowel_dysfunction": True, "saddle_anaesthesia": True}),
    ("T2DM on insulin", {"immunocompromised_or_diabetic": True}),
    ("pain radiating down the left leg", {"radiating_leg_pain": True}),
    ("fell onto her back last month", {"trauma_history": True}),
    ("lipoma excised from this site in 2019, now recurred",
     {"prior_surgery_here": True, "recurrent_after_excision": True}),
    ("history of breast cancer", {"history_of_cancer": True}),
    ("spreading redness", {"spreading_redness": True, "erythema": True}),
    ("temperature 38.6", {"fever": True}),
    ("temp 36.8", {"fever": False}),
])
def test_findings(text, expected):
    f = found(text)
    assert {k: f.get(k) for k in expected} == expected


# --- ConText modifiers --------------------------------------------------------------------------
def test_no_x_or_y_negates_both():
    f = found("No fever or chills.")
    assert f["fever"] is False
    assert all(m.negated for m in extract("No fever or chills.").mentions)


def test_a_negated_list_is_negated_to_its_end():
    f = found("Denies fever, rigors, bladder or bowel change, saddle anaesthesia or leg weakness.")
    assert f == {"fever": False, "systemically_unwell": False,
                 "bladder_or_bowel_dysfunction": False, "saddle_anaesthesia": False,
                 "neurological_deficit": False}


def test_negation_stops_at_a_long_part_of_the_sentence():
    f = found("No erythema, firm 3 cm mobile lump at the left iliac crest.")
    assert f["erythema"] is False
    assert f["mobile"] is True and f["palpable_lump"] is True


def test_negation_stops_at_but():
    f = found("No fever but tender and warm.")
    assert (f["fever"], f["tender"], f["warmth"]) == (False, True, True)


def test_no_neurological_deficit_is_negated():
    assert found("No neurological deficit.")["neurological_deficit"] is False
    assert found("Neuro exam normal.")["neurological_deficit"] is False
    assert found("Bladder and bowels normal.")["bladder_or_bowel_dysfunction"] is False


@pytest.mark.parametrize(("text", "finding", "flag"), [
    ("?abscess, possible fever", "fever", "possible"),
    ("cannot exclude sarcoma", "history_of_cancer", "possible"),
    ("previous fever last year", "fever", "historical"),
    ("return if fever develops", "fever", "hypothetical"),
    ("safety-netted re spreading redness", "spreading_redness", "hypothetical"),
    ("mother had a lipoma", "palpable_lump", "other_person"),
    ("family history of sarcoma", "history_of_cancer", "other_person"),
])
def test_modifiers_mark_the_mention_and_keep_it_out_of_the_findings(text, finding, flag):
    m = mention(text, finding)
    assert getattr(m, flag) is True
    assert m.counted is False
    assert finding not in found(text)


def test_historical_counts_for_a_past_diagnosis():
    m = mention("PMH: T2DM, previous breast cancer.", "history_of_cancer")
    assert m.historical and m.counted
    assert found("PMH: T2DM")["immunocompromised_or_diabetic"] is True


def test_abbreviations_and_typos():
    f = found("52M, tendre nodual over R SIJ, ttp, afebrile, diabtes.")
    assert f["tender"] is True and f["palpable_lump"] is True
    assert f["location"] == "sacroiliac" and f["laterality"] == "right"
    assert f["fever"] is False and f["immunocompromised_or_diabetic"] is True


# --- the result ---------------------------------------------------------------------------------
def test_findings_parse_and_mentions_point_into_the_text():
    text = ("A 47-year-old woman, 3 x 2 cm tender mobile nodule over the left PSIS for 7 months,"
            " worse sitting. No fever or chills. Neuro intact.")
    e = extract(text)
    assert parse_findings(dict(e.findings.values)) == e.findings
    for m in e.mentions:
        assert text[m.start:m.end] == m.text
    assert [m.text for m in e.evidence("size_cm")] == ["3 x 2 cm"]
    data = e.to_dict()
    assert set(data) == {"findings", "mentions"}
    assert {"text", "start", "end", "finding", "value", "negated", "possible", "historical",
            "hypothetical", "other_person", "basis", "counted"} <= set(data["mentions"][0])


def test_extraction_is_frozen_and_picklable():
    e = extract("tender lump, no fever")
    assert pickle.loads(pickle.dumps(e)) == e
    with pytest.raises(AttributeError):
        e.findings = None  # type: ignore[misc]
    assert isinstance(e, Extraction)


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "", "   \n\t ", "\x00\x01\x02\x7f" * 100, "Опухоль на пояснице, без температуры.",
    "腰部有一个肿块", "مريض يعاني من كتلة", "\ud800\udfff lump", "�" * 1000,
    "".join(chr(i) for i in range(0, 0x3000, 7)),
])
def test_bad_input_gives_a_clean_answer(text):
    e = extract(text)
    assert isinstance(e, Extraction)
    for m in e.mentions:
        assert m.start < m.end <= len(text)


def test_control_characters_keep_the_offsets():
    text = "no\x00fever.\x1b tender\x07lump"
    e = extract(text)
    assert e.findings["tender"] is True
    for m in e.mentions:
        assert len(m.text) == m.end - m.start
        assert text[m.start:m.end].replace("\x07", " ") == m.text


def test_not_text_is_an_input_error():
    from backmice.errors import InputError

    with pytest.raises(InputError, match="text"):
        extract(b"bytes")  # type: ignore[arg-type]


PATHOLOGICAL = [
    ("1" * 10, 500_000),  # ~1 MB of one number: (\d+)+cm would never finish on it
    ("a" * 10, 500_000),  # one long word
    ("no fever ", 100_000),  # a negation list without end, and no full stop
    ("3 x ", 100_000),  # an unfinished size, over and over
    ("left lump ", 100_000),  # sides and anchors everywhere
    ("?", 100_000),  # a trigger at every character
]


@pytest.mark.parametrize(("unit", "size"), PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_work_grows_linearly_with_the_text(unit, size):
    """The work (characters scanned, pairs examined) on twice the text is about twice the work:
    a count, not a timing. The patterns themselves are linear by construction: the rule check
    refuses unbounded and nested repeats (see the next test)."""
    half = unit * (size // len(unit))
    _, small = extract_counted(half)
    _, large = extract_counted(half + half)
    assert large <= 2.2 * small


def test_the_rule_check_refuses_catastrophic_patterns():
    for bad in ("(a+)+b", "(\\d+)+cm", "a.*b", "(?:ab{0,3}){0,4}", "x{1,}"):
        assert pattern_problem(bad) is not None, bad
    for good in ("fevers?", "worse[^.;\\n]{0,30}bending", "(?:a|b) ?c"):
        assert pattern_problem(good) is None, good


def test_packaged_rules_are_clean():
    assert check_rules() == []
    assert len(load_rules().compiled_targets) > 40


def test_rule_problems_name_file_and_path(tmp_path):
    for f in DATA.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    targets = tmp_path / "targets.yaml"
    text = targets.read_text().replace('"fevers?", ', '"(fe+)+ver", ', 1)
    targets.write_text(text.replace("value: stable\n", "value: steady\n", 1))
    (tmp_path / "sites.yaml").write_text("locations: 3\n")
    problems = check_rules(tmp_path)
    assert any(p.startswith("nlp/data/targets.yaml: targets.") and "unbounded" in p
               for p in problems)
    assert any("nlp/data/targets.yaml: targets." in p and "'steady' is not a value of growth"
               in p for p in problems)
    assert any(p.startswith("nlp/data/sites.yaml: ") for p in problems)


def test_kb_check_reports_rule_problems(tmp_path):
    from typer.testing import CliRunner

    from backmice.cli import app

    for f in DATA.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    ctx = tmp_path / "context.yaml"
    ctx.write_text(ctx.read_text().replace('"denies",', '"den(ies)+",', 1))
    result = CliRunner().invoke(app, ["kb", "check", "--nlp-path", str(tmp_path)])
    assert result.exit_code == 1
    assert "nlp/data/context.yaml: modifiers.negated.forward." in result.stdout
    ok = CliRunner().invoke(app, ["kb", "check"])
    assert ok.exit_code == 0 and "note-reading rules: OK" in ok.stdout


def test_package_docstring_example_runs():
    import doctest

    import backmice.nlp

    assert doctest.testmod(backmice.nlp).failed == 0


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400) | st.text(alphabet="no fever, chills lump L PSIS 3x2cm ?-/.\n",
                                       max_size=400))
def test_any_text_gives_a_clean_extraction(text):
    e = extract(text)
    assert parse_findings(dict(e.findings.values)) == e.findings
    for m in e.mentions:
        assert 0 <= m.start < m.end <= len(text) and len(m.text) == m.end - m.start
