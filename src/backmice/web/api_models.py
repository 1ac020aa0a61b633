"""Request and response models of the JSON API (their schemas appear in the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backmice.storage.records import Feedback
from backmice.web.records_models import HAS_TEXT


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # 0 is not false, "5" not 5


class AssessOptions(BaseModel):
    """The query string of POST /api/v1/assess (read by backmice.web.query)."""

    format: Literal["json", "markdown"] = Field(
        default="json", description="json (default) or a markdown clinician note")
    setting: str | None = Field(default=None, max_length=50)


class InterviewStepIn(Strict):
    answers: dict[str, Any] = Field(
        default_factory=dict, max_length=200,
        description="finding id → answer, in the order given (see GET /api/v1/kb/findings)")
    dont_know: list[str] = Field(default_factory=list, max_length=200,
                                 description="finding ids answered \"don't know\"")
    setting: str | None = Field(default=None, max_length=50)
    audience: Literal["patient", "clinician"] = "patient"
    finish: bool = Field(
        default=False, description="stop now and return the result so far (done: true); safety "
        "questions not asked yet are then named as not ruled out")


class ExtractIn(Strict):
    text: str = Field(description="a clinical note (free text); longer than "
                      "MAX_NOTE_CHARS characters is answered 413")


class MentionOut(BaseModel):
    text: str
    start: int = Field(description="offset of the first character in the text")
    end: int = Field(description="offset just past the last character")
    finding: str
    value: bool | float | int | str | None
    negated: bool
    possible: bool
    historical: bool
    hypothetical: bool
    other_person: bool
    basis: str | None = Field(description="where a number read from words came from")
    counted: bool = Field(description="whether this mention sets the finding")


class ExtractOut(BaseModel):
    findings: dict[str, Any] = Field(description="finding id → value (the case format)")
    mentions: list[MentionOut]


class QuestionOut(BaseModel):
    finding: str
    text: str
    help: str | None
    kind: str
    red_flag: bool
    reason: str
    expected_information_gain: float
    options: list[dict[str, Any]]
    minimum: float | None = None
    maximum: float | None = None
    accepts_many: bool | None = None


class InterviewStepOut(BaseModel):
    done: bool
    asked: int
    progress: float = Field(ge=0, le=1)
    question: QuestionOut | None
    triage: dict[str, Any] = Field(
        description="the engine's rule result, for clinicians: level, label and reason come from "
        "the red-flag rules alone and are never raised by \"don't know\" answers. Not the "
        "patient's urgency: show patient_advice to a patient. Its advice_patient is set to "
        "patient_advice.text so that it never advises less urgency.")
    possibilities: list[dict[str, Any]] = Field(
        description="for a patient: what the lump might be, never a certainty")
    patient_advice: dict[str, Any] = Field(
        description="THE patient urgency: how soon to be seen, computed once and shown by the "
        "alert, the result page and this field alike; apps must show it to a patient. level is "
        "the triage level, or \"soon\" when safety questions answered \"don't know\" (or not "
        "asked, after finish) leave a same-day or emergency sign open; raised_from then names "
        "the triage level and reason says why, never less urgent than triage.level")
    alert: dict[str, Any] | None = Field(
        default=None, description="set as soon as the answers so far fire a red flag: heading "
        "and advice at the urgency of patient_advice (level is patient_advice.level), why "
        "(signs: message and plain meaning), the signs left open (open_signs) and whether it is "
        "same-day or sooner (urgent); shown at the top of the interview page, which offers the "
        "result at once")
    not_ruled_out: list[dict[str, Any]] = Field(
        default_factory=list, description="warning signs that \"don't know\" answers (or, after "
        "finish, questions not asked) leave open, with the questions behind each")
    assessment: dict[str, Any] = Field(description="the document of POST /api/v1/assess")


class FeedbackIn(Strict):
    """'Was this helpful?' needs ``helpful``; 'Report an inaccuracy' needs ``text``."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"allOf": [
        {"if": {"properties": {"kind": {"const": "helpful"}}},
         "then": {"required": ["helpful"], "properties": {"helpful": {"type": "boolean"}}}},
        {"if": {"properties": {"kind": {"const": "inaccuracy"}}},
         "then": {"required": ["text"], "properties": {"text": {
             "type": "string", "pattern": HAS_TEXT}}}},
    ]})

    page: str = Field(min_length=1, max_length=200,
                      description="the condition id or page path the feedback is about")
    kind: Literal["helpful", "inaccuracy"]
    helpful: bool | None = None
    text: str | None = Field(default=None, max_length=5000)
    contact: str | None = Field(default=None, max_length=320)


class FeedbackStatusIn(Strict):
    status: Literal["open", "resolved"]


class FeedbackList(BaseModel):
    total: int
    items: list[Feedback]


class SavedAssessmentOut(BaseModel):
    share_id: str
    url: str
    created_at: str
    kb_version: str
    engine_version: str
    title: str | None
    input: dict[str, Any]
    assessment: dict[str, Any]


class ErrorDetail(BaseModel):
    status: int
    code: str
    field: str | None
    message: str
    allowed: str | None


class ErrorOut(BaseModel):
    error: ErrorDetail
