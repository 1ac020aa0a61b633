"""The assembled knowledge base: one frozen object that the engine and the renderers read."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from backmice.kb import rules as rule_lang
from backmice.kb.schema import (
    Citation,
    Condition,
    ConditionRole,
    DependenceGroup,
    FindingEntry,
    FitSettings,
    HistopathologyFile,
    InfectionEstablished,
    LikelihoodFile,
    Manifest,
    PriorsFile,
    RedFlag,
    Setting,
    TextsFile,
    Treatment,
    WorkupItem,
)


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """The validated, immutable knowledge base. Build it with :func:`load_kb`.

    Compared and hashed by identity, so compiled tables can be cached per knowledge base.
    """

    manifest: Manifest
    conditions: Mapping[str, Condition]
    findings: Mapping[str, FindingEntry]
    dependence_groups: tuple[DependenceGroup, ...]
    likelihoods: Mapping[str, LikelihoodFile]
    priors: PriorsFile
    red_flags: tuple[RedFlag, ...]
    infection_established: InfectionEstablished
    workup: tuple[WorkupItem, ...]
    treatments: tuple[Treatment, ...]
    histopathology: HistopathologyFile
    texts: TextsFile
    citations: Mapping[str, Citation]
    fit: FitSettings
    rules: Mapping[str, rule_lang.Rule] = field(default_factory=dict)  # "red_flags:<id>" -> rule

    @property
    def version(self) -> str:
        return self.manifest.version

    @functools.cached_property
    def outcomes(self) -> tuple[str, ...]:
        """The modelled outcomes, in the order of the default setting's priors."""
        return tuple(self.setting(self.priors.default_setting).priors)

    def setting(self, setting_id: str) -> Setting:
        for s in self.priors.settings:
            if s.id == setting_id:
                return s
        raise KeyError(setting_id)

    @property
    def setting_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.priors.settings)

    @functools.cached_property
    def red_flags_by_id(self) -> Mapping[str, RedFlag]:
        return {f.id: f for f in self.red_flags}

    @functools.cache  # noqa: B019 - the knowledge base lives as long as the process
    def family(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.conditions.values() if c.back_mouse_family)

    def in_scope(self) -> tuple[str, ...]:
        """The seven conditions (role 'condition'), in outcome order."""
        return tuple(o for o in self.outcomes if self.conditions[o].role is ConditionRole.CONDITION)


# Values the engine derives from an assessment and offers to work-up and treatment rules, besides
# the findings and one ``p_<outcome id>`` per modelled outcome.
DERIVED_NAMES: frozenset[str] = frozenset(
    {"top", "p_family", "p_malignant", "p_infection", "red_flags", "urgency_rank"}
)
MALIGNANT: tuple[str, ...] = ("liposarcoma", "other_soft_tissue_sarcoma", "cutaneous_metastasis")
INFECTION: tuple[str, ...] = ("subcutaneous_abscess", "pilonidal_abscess",
                               "deep_soft_tissue_infection")
# Serious possibilities a clinician must not miss (named in Assessment.dont_miss): the malignant
# and infective outcomes, and the spinal emergencies that red flags point to.
DONT_MISS: tuple[str, ...] = (*MALIGNANT, *INFECTION, "spinal_epidural_abscess",
                              "cauda_equina_syndrome")
OTHER = "other"
# Treatments of these kinds cut into, puncture or work on the lump itself (needling,
# acupuncture, manipulation): held back while sarcoma features are present.
INVASIVE_KINDS: frozenset[str] = frozenset({"injection", "surgery", "liposuction", "drainage",
                                           "complementary"})
# The rule name (in KnowledgeBase.rules) of red_flags.yaml's infection_established.
INFECTION_ESTABLISHED = "red_flags:infection_established"
# The later test read from pain scores (findings.yaml gives it a ``reading``).
INJECTION_FINDING = "anesthetic_injection_relief"
