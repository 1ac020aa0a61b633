"""The shape of the knowledge base: pydantic models for every YAML file under ``kb/data``.

These models check each file on its own (types, required provenance, value ranges); the
cross-file checks (citation ids exist, every likelihood row sums to one, every rule names known
findings) live in :mod:`backmice.kb.checks`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grade(StrEnum):
    """How a number or a recommendation was derived."""

    EVIDENCE = "evidence"  # taken or computed from a cited source
    EXPERT_OPINION = "expert_opinion"  # a qualitative statement of a source, made a number
    ESTIMATE = "estimate"  # chosen by the backmice team where no source gives a number
    FITTED = "fitted"  # an expert or literature value updated with counts from real cases


class Provenance(Strict):
    """Where a number or recommendation comes from: grade, citations and a one-line reason."""

    grade: Grade
    citations: list[str] = Field(default_factory=list)
    remark: str = Field(min_length=3)

    @model_validator(mode="after")
    def _evidence_needs_citation(self) -> Provenance:
        if self.grade in (Grade.EVIDENCE, Grade.EXPERT_OPINION) and not self.citations:
            raise ValueError(f"grade {self.grade.value} needs at least one citation id")
        return self


class Review(Strict):
    """Who last checked an entry and when. ``by_clinician`` is true only when ``reviewed_by``
    is a clinician who checked the clinical content; the pages say "medically reviewed" only
    then (an engineering check by the team is not a medical review)."""

    reviewed_by: str = Field(min_length=2)
    reviewed_on: dt.date
    last_modified: dt.date
    by_clinician: bool = False


Probability = Annotated[float, Field(gt=0.0, lt=1.0)]


# --- citations.yaml ---------------------------------------------------------------------------
CITATION_MARKER = re.compile(r"\[(R\d+)\]")  # an in-text citation in KB prose: [R40]
UNTITLED = "[title not captured]"  # opens ``title`` when the brief recorded no title


class Citation(Strict):
    """One source. A title the evidence brief did not record reads ``[title not captured] ...``
    followed by our own description of the work (never a guessed title)."""

    title: str = Field(min_length=3)
    authors: str | None = None
    year: int | None = Field(default=None, ge=1800, le=2100)
    journal: str | None = None
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    note: str | None = None  # what it supports, and how it was read (abstract, secondary summary)

    @field_validator("pmid")
    @classmethod
    def _pmid_digits(cls, v: str | None) -> str | None:
        if v is not None and not v.isdigit():
            raise ValueError("pmid must be digits only")
        return v

    @property
    def link(self) -> str | None:
        """Where to read it: the recorded address, else doi.org or PubMed."""
        return self.url or (f"https://doi.org/{self.doi}" if self.doi else None) or (
            f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else None)

    @property
    def title_recorded(self) -> bool:
        return not self.title.startswith(UNTITLED)

    @property
    def description(self) -> str | None:
        """What the work is, in our words, when its title was not recorded (else None)."""
        return None if self.title_recorded else self.title[len(UNTITLED):].strip() or None


# --- conditions/<id>.yaml ---------------------------------------------------------------------
class CodeStatus(StrEnum):
    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"


class Code(Strict):
    system: Literal["ICD-10-CM", "SNOMED CT", "ICD-11"]
    code: str
    title: str
    status: CodeStatus
    note: str | None = None


class ConditionRole(StrEnum):
    CONDITION = "condition"  # one of the seven in-scope conditions
    MIMIC = "mimic"  # modelled in the differential, scored as part of "other"
    CONSIDER = "consider"  # "consider also": text only, not modelled numerically
    OTHER = "other"  # the explicit "none of these" outcome


class Text(Strict):
    """One piece of content in two registers."""

    clinician: str = Field(min_length=10)
    patient: str = Field(min_length=10)


class Condition(Strict):
    id: str
    role: ConditionRole
    name: str
    patient_name: str
    synonyms: list[str] = Field(default_factory=list)
    back_mouse_family: bool = False
    codes: list[Code] = Field(default_factory=list)
    summary: Text
    what_it_is: Text
    causes: Text
    presentation: Text
    diagnosis: Text
    treatment: Text
    alternatives: Text
    when_to_see_a_doctor: Text
    distinguishing_features: list[str] = Field(min_length=1)
    related: list[str] = Field(default_factory=list)
    references: list[str] = Field(min_length=1)
    review: Review


# --- likelihoods/<condition>.yaml -------------------------------------------------------------
class ExpertValue(Strict):
    """The number a fitted likelihood started from: the expert or literature value (or the
    population default) with the grade it had before the fit."""

    p: Probability | None = None
    values: dict[str, Probability] | None = None
    grade: Grade

    @model_validator(mode="after")
    def _one_form(self) -> ExpertValue:
        if (self.p is None) == (self.values is None):
            raise ValueError("give exactly one of p (boolean findings) or values (the others)")
        if self.grade is Grade.FITTED:
            raise ValueError("an expert value cannot itself be fitted")
        return self


class FitRecord(Strict):
    """How a fitted number was computed: a Beta (``p``) or Dirichlet (``values``) prior centred
    on the expert value with ``pseudo_count`` pseudo-cases, plus ``counts`` from ``cases`` real
    published patients of this condition in whom the finding was stated."""

    cases: int = Field(ge=1)
    counts: dict[str, int]
    pseudo_count: float = Field(gt=0)

    @model_validator(mode="after")
    def _counts_add_up(self) -> FitRecord:
        if sum(self.counts.values()) != self.cases or min(self.counts.values()) < 0:
            raise ValueError("counts must be non-negative and add up to cases")
        return self


class Likelihood(Strict):
    """P(finding value | condition). ``p`` for booleans (P(true)), ``values`` for the rest.

    A fitted number (provenance grade ``fitted``) also carries the ``expert`` value it started
    from and the ``fit`` that updated it; ``backmice kb fit`` writes both."""

    p: Probability | None = None
    values: dict[str, Probability] | None = None
    provenance: Provenance
    expert: ExpertValue | None = None
    fit: FitRecord | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Likelihood:
        if (self.p is None) == (self.values is None):
            raise ValueError("give exactly one of p (boolean findings) or values (the others)")
        fitted = self.provenance.grade is Grade.FITTED
        if fitted != (self.expert is not None) or fitted != (self.fit is not None):
            raise ValueError("a fitted number (grade fitted) needs both expert and fit, and "
                             "only a fitted number has them")
        if self.expert is not None and (self.expert.p is None) != (self.p is None):
            raise ValueError("expert must have the same form (p or values) as the number")
        return self


class LatentLikelihood(Strict):
    p: Probability
    provenance: Provenance


class LikelihoodFile(Strict):
    condition: str
    findings: dict[str, Likelihood]
    latent: dict[str, LatentLikelihood] = Field(default_factory=dict)
    review: Review


# --- findings.yaml ----------------------------------------------------------------------------
class Bin(Strict):
    """A labelled interval [low, high) of a numeric finding; None means unbounded."""

    id: str
    label: str
    low: float | None = None
    high: float | None = None


class Question(Strict):
    clinician: str
    patient: str
    help: str | None = None  # how to examine or what the words mean


class FindingGroup(StrEnum):
    HISTORY = "history"
    EXAMINATION = "examination"
    SAFETY = "safety"
    LATER_TESTS = "later_tests"


class InjectionReading(Strict):
    """How pain scores before and after a diagnostic injection are read as relief or not.

    ``min_relief``: the fraction of the pain before that must go; ``within_minutes``: the latest
    time after the injection at which the "after" score is read as the test result.
    """

    min_relief: float = Field(gt=0.0, le=1.0)
    within_minutes: float = Field(gt=0.0)
    provenance: Provenance


class FindingEntry(Strict):
    id: str
    label: str
    group: FindingGroup
    question: Question
    value_labels: dict[str, str] = Field(default_factory=dict)
    # Plainer labels for a patient where value_labels use anatomical words (the interview shows
    # these; a value without one falls back to its value label).
    patient_value_labels: dict[str, str] = Field(default_factory=dict)
    bins: list[Bin] = Field(default_factory=list)
    # The distribution used for any outcome with no specific entry: "not discriminating".
    default: Likelihood
    # Only for anesthetic_injection_relief: how two pain scores become this finding.
    reading: InjectionReading | None = None

    def value_label(self, value: str) -> str:
        """A category value in words: its label, else the id with spaces ("deep to fascia")."""
        return self.value_labels.get(value) or value.replace("_", " ")


class LatentMember(Strict):
    """A finding explained by a latent cause: P(present | cause), P(present | no cause)."""

    finding: str
    if_present: Probability
    if_absent: Probability
    provenance: Provenance


class DependenceGroup(Strict):
    """Correlated findings modelled through one latent cause, so one process is counted once."""

    id: str
    label: str
    members: list[LatentMember] = Field(min_length=2)
    rationale: str


class FindingsFile(Strict):
    findings: list[FindingEntry]
    dependence_groups: list[DependenceGroup] = Field(default_factory=list)
    review: Review


# --- priors.yaml ------------------------------------------------------------------------------
class Prior(Strict):
    p: Probability
    provenance: Provenance


class Setting(Strict):
    id: str
    label: str
    description: str
    priors: dict[str, Prior]


class PriorsFile(Strict):
    default_setting: str
    settings: list[Setting]
    review: Review


# --- red_flags.yaml and workup.yaml -----------------------------------------------------------
class Urgency(StrEnum):
    """Triage levels, most urgent first."""

    EMERGENCY = "emergency"
    URGENT_SAME_DAY = "urgent_same_day"
    URGENT_2_WEEKS = "urgent_2_weeks"
    ROUTINE = "routine"
    SELF_CARE = "self_care"

    @property
    def rank(self) -> int:
        """0 for emergency up to 4 for self care; lower is more urgent."""
        return _URGENCY_RANK[self]


_URGENCY_RANK = {u: i for i, u in enumerate(Urgency)}

# A rule condition: a leaf such as "size_cm > 5" or "location in [sacral_midline, buttock]",
# or a mapping {all: [...]}, {any: [...]}, {not: ...}. Parsed by backmice.kb.rules.
RuleExpr = str | dict[str, Any]


class RedFlag(Strict):
    id: str
    title: str
    when: RuleExpr
    urgency: Urgency
    rationale: str
    action: str
    patient_message: str
    # What the warning sign can mean, in plain words and never as a certainty: the patient result
    # leads with it when the flag fires, and the interview's alert repeats it.
    patient_meaning: str = Field(min_length=20)
    # Condition pages that explain the serious cause behind the flag (ids of conditions/).
    related_conditions: list[str] = Field(default_factory=list)
    # A sarcoma feature: while it fires, nothing that cuts into or punctures the lump (incision,
    # drainage, excision, biopsy, injection, liposuction) is offered, unless an infection is
    # established (red_flags.yaml infection_established): imaging first, then a sarcoma service.
    defers_invasive: bool = False
    provenance: Provenance
    review: Review


class InfectionEstablished(Strict):
    """When an infection is established enough that drainage may go ahead despite a sarcoma
    feature (an abscess is drained; a sarcoma is never cut into first)."""

    when: RuleExpr
    provenance: Provenance


class RedFlagsFile(Strict):
    red_flags: list[RedFlag]
    infection_established: InfectionEstablished


class WorkupItem(Strict):
    id: str
    name: str
    when: RuleExpr
    purpose: str
    invasive: bool = False  # cuts into or punctures the lump (held back by sarcoma features)
    provenance: Provenance
    review: Review


class WorkupFile(Strict):
    workup: list[WorkupItem]


# --- treatments.yaml --------------------------------------------------------------------------
class EvidenceLevel(StrEnum):
    """Strength of the evidence for a treatment, in plain terms."""

    MODERATE = "moderate"  # at least one randomised trial, consistent
    LOW = "low"  # case series, small or non-randomised studies
    VERY_LOW = "very_low"  # case reports, expert opinion, evidence from other conditions only
    NOT_APPLICABLE = "not_applicable"  # watchful waiting and referrals


class Treatment(Strict):
    id: str
    name: str
    kind: Literal["none", "injection", "surgery", "liposuction", "complementary", "drainage",
                  "medication", "referral", "self_care"]
    conditions: list[str] = Field(min_length=1)
    when: RuleExpr | None = None  # extra condition for offering it (e.g. many nodules)
    summary: Text
    evidence_level: EvidenceLevel
    evidence_summary: str
    complications: list[str] = Field(default_factory=list)
    provenance: Provenance
    review: Review


class TreatmentsFile(Strict):
    treatments: list[Treatment]


# --- texts.yaml and kb.yaml -------------------------------------------------------------------
class TriageText(Strict):
    label: str
    clinician: str
    patient: str


class TextsFile(Strict):
    disclaimer: Text
    post_procedure_warning: Text
    # Said when sarcoma features hold back every invasive option (RedFlag.defers_invasive).
    invasive_deferred: Text
    triage: dict[Urgency, TriageText]
    # The patient-only step "soon" (between same day and two weeks): shown instead of a less
    # urgent level when a safety question that could call for same-day or emergency care was
    # answered "I don't know" or never asked (backmice.render.patient.patient_advice).
    not_ruled_out: TriageText
    review: Review


# --- fit.yaml ---------------------------------------------------------------------------------
class CorpusStamp(Strict):
    """The corpus of real published cases a fit used, pinned by its digest."""

    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    cases: int = Field(ge=1)
    sources: int = Field(ge=1)


class FitSettings(Strict):
    """How likelihoods are updated with real cases, and the one global calibration.

    ``pseudo_counts`` is the weight, in pseudo-cases, of an expert number of each grade in its
    Beta or Dirichlet prior; ``likelihood_weight`` multiplies every log-likelihood (a
    temperature: below 1 damps over-confident naive-Bayes products). ``aliases`` maps gold labels
    of the corpus (``other:<name>``) to the modelled outcome that stands for them."""

    likelihood_weight: float = Field(gt=0.0, le=2.0)
    pseudo_count_scale: float = Field(gt=0.0)
    pseudo_counts: dict[Grade, float]
    provenance: Provenance
    aliases: dict[str, str] = Field(default_factory=dict)
    # findings kept at their expert numbers, each with the reason (e.g. the corpus's searches
    # chose the body site, so its site mix is the searchers', not the disease's)
    not_fitted: dict[str, str] = Field(default_factory=dict)
    corpus: CorpusStamp | None = None
    selection: list[str] = Field(default_factory=list)
    fitted_on: dt.date | None = None
    review: Review

    @model_validator(mode="after")
    def _grades(self) -> FitSettings:
        wanted = {Grade.EVIDENCE, Grade.EXPERT_OPINION, Grade.ESTIMATE}
        if set(self.pseudo_counts) != wanted or min(self.pseudo_counts.values()) <= 0:
            raise ValueError("pseudo_counts needs a positive number for evidence, "
                             "expert_opinion and estimate")
        return self

    def pseudo_count(self, grade: Grade) -> float:
        return self.pseudo_count_scale * self.pseudo_counts[grade]


class Manifest(Strict):
    name: str
    version: str
    released: dt.date
    maintainers: str
    review: Review


# --- histopathology.yaml ----------------------------------------------------------------------
class HistologyResult(Strict):
    compatible: list[str] = Field(min_length=1)
    provenance: Provenance


class HistopathologyFile(Strict):
    results: dict[str, HistologyResult]
    review: Review
