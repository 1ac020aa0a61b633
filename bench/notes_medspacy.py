"""The medspaCy 1.3 side of bench/notes.py: a TargetMatcher + ConText pipeline built from the
same rule files as backmice.nlp (nlp/data/*.yaml), run on the same notes.

Runs where medspaCy is installed: in the bench's own process when it can import medspaCy, else
as `python bench/notes_medspacy.py < notes.json` in an environment that has it (medspaCy 1.3 needs
spaCy < 3.8 on Python 3.11, hence numpy < 2, which backmice does not use; see bench/notes.py).
It reads the YAML files directly and imports nothing from backmice, and prints one JSON object:
the entities of each note (character offsets, rule label, ConText flags) and the timing.

What it shares with backmice.nlp: every phrase pattern (targets, sites, sides, sexes, size, age
and duration words), every number pattern (ages, sizes, durations, counts, temperatures), and
every ConText trigger, pseudo-trigger and terminator, with scopes of about the same reach
(30 tokens forward, 8 back). What is medspaCy's own: tokenisation, PyRuSH sentence splitting,
regex matches snapped to tokens, and ConText's scoping. The numbers' values, and how mentions
become findings, are computed afterwards by bench/notes.py with backmice's own code.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "src" / "backmice" / "nlp" / "data"
CONTEXT = {"negated": "NEGATED_EXISTENCE", "possible": "POSSIBLE_EXISTENCE",
           "historical": "HISTORICAL", "hypothetical": "HYPOTHETICAL", "other_person": "FAMILY"}
FORWARD_SCOPE, BACKWARD_SCOPE = 30, 8


def phrase(pattern: str) -> str:
    """The same whole-phrase wrapping as backmice.nlp.lexicon.phrase."""
    head = r"(?<!\w)" if re.match(r"[\w(\[]", pattern) else ""
    tail = "" if re.search(r"\\[^\w]$|[^\w)\]?*}]$", pattern) else r"(?!\w)"
    return f"{head}(?:{pattern}){tail}"


def _load(name: str):
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def target_rules():
    """(label, regex) pairs: the labels bench/notes.py turns back into findings."""
    targets, sites, measures = _load("targets.yaml"), _load("sites.yaml"), _load("measures.yaml")
    rules = []
    for i, t in enumerate(targets["targets"]):
        rules += [(f"T{i}", phrase(p)) for p in t["patterns"]]
        rules += [(f"T{i}", "(?-i:" + phrase(p) + ")")
                  for p in t.get("case_sensitive_patterns", [])]
    for loc in sites["locations"]:
        rules += [(f"LOC:{loc['value']}:{loc['specificity']}", phrase(p)) for p in loc["patterns"]]
    for side, patterns in sites["sides"].items():
        rules += [(f"SIDE:{side}", phrase(p)) for p in patterns]
    pronouns = set(measures["sex"]["pronouns"])
    for sex in ("female", "male"):
        rules += [(f"SEX:{sex}", phrase(p)) for p in measures["sex"][sex] if p not in pronouns]
    rules += [(f"PRON:{'female' if p in ('she', 'her') else 'male'}", phrase(p))
              for p in pronouns]
    for j, p in enumerate(measures["age"]["patterns"]):
        rules.append((f"AGE{j}", phrase(p)))
    rules += [("SIZE", measures["size"]["pattern"]),
              ("DUR", phrase(measures["duration"]["pattern"])),
              ("FRAC", phrase(measures["duration"]["fraction"])),
              ("COUNT", phrase(measures["count"]["pattern"])),
              ("COUNTX", phrase(measures["count"]["after"])),
              ("TEMP", phrase(measures["temperature"]["pattern"]))]
    for kind in ("age", "size", "duration"):
        rules += [(f"W{kind}:{i}", phrase(w["pattern"]))
                  for i, w in enumerate(measures[kind]["words"])]
    return rules


def build():
    import medspacy
    from loguru import logger
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule

    logger.remove()  # PyRuSH logs every sentence at DEBUG level; a pipeline in use would not
    logger.add(sys.stderr, level="WARNING")
    nlp = medspacy.load(medspacy_enable=["medspacy_pyrush"], load_rules=False)
    # overlapping matches kept ("3 x 2 cm" inside "3 x 2 cm lump"), in a span group
    matcher = nlp.add_pipe("medspacy_target_matcher",
                           config={"result_type": "group", "prune": False})
    matcher.add([TargetRule(literal=label, category=label, pattern=regex)
                 for label, regex in target_rules()])
    ctx = _load("context.yaml")
    rules = []
    for name, trig in ctx["modifiers"].items():
        category = CONTEXT[name]
        rules += [ConTextRule(p, category, pattern=phrase(p), direction="FORWARD",
                              max_scope=FORWARD_SCOPE) for p in trig.get("forward", [])]
        rules += [ConTextRule(p, category, pattern=phrase(p), direction="BACKWARD",
                              max_scope=BACKWARD_SCOPE) for p in trig.get("backward", [])]
    rules += [ConTextRule(p, "TERMINATE", pattern=phrase(p), direction="TERMINATE")
              for p in ctx["terminators"]]
    rules += [ConTextRule(p, "PSEUDO", pattern=phrase(p), direction="PSEUDO")
              for p in ctx["pseudo"]]
    # a trigger inside a target ("no change in size") is part of it, as in backmice.nlp
    context = nlp.add_pipe("medspacy_context", config={
        "rules": None, "input_span_type": "group", "prune_on_target_overlap": True})
    context.add(rules)
    return nlp


def entities(doc) -> list[list]:
    return [[e.start_char, e.end_char, e.label_, e._.is_negated, e._.is_uncertain,
             e._.is_historical, e._.is_hypothetical, e._.is_family]
            for e in doc.spans["medspacy_spans"]]


def run(texts: list[str], repeats: int = 3) -> dict:
    import medspacy

    nlp = build()
    for text in texts[:5]:  # warm up
        nlp(text)
    docs = [entities(nlp(text)) for text in texts]
    start = time.perf_counter()
    for _ in range(repeats):
        for text in texts:
            nlp(text)
    seconds = time.perf_counter() - start
    return {"medspacy": medspacy.__version__, "notes": len(texts) * repeats, "seconds": seconds,
            "docs": docs}


if __name__ == "__main__":
    payload = json.load(sys.stdin)
    json.dump(run(payload["texts"], payload.get("repeats", 3)), sys.stdout)
