"""The condition pages' "Was this page helpful?" form: what a "No" may add (a few reasons and a
short comment), checked, and written into the feedback's ``text`` as one readable entry.

The reasons are kept in the text (no column of their own): the first line names the reasons
ticked, in the words of the form ("What was wrong: hard to understand; it worried me"), and
the comment follows on the next line. Reviewers read it as it is; the API shows it as ``text``.
"""

from __future__ import annotations

from collections.abc import Sequence

from backmice.errors import InputError

# The reasons a reader may tick after "No", by the value the form sends, with their words.
NO_REASONS = {
    "hard_to_understand": "hard to understand",
    "not_my_problem": "not about my problem",
    "worried_me": "it worried me",
    "wrong_or_out_of_date": "something is wrong or out of date",
}
COMMENT_LIMIT = 1000
REASONS_PREFIX = "What was wrong: "


def no_followup_text(reasons: Sequence[str], comment: str | None) -> str | None:
    """The text stored with a "No": the reasons ticked (in the form's order) and the comment;
    None when neither was given. InputError (field ``reason`` or ``text``) for an unknown
    reason or a comment over ``COMMENT_LIMIT`` characters."""
    unknown = [r for r in reasons if r not in NO_REASONS]
    if unknown:
        raise InputError("reason", f"unknown choice {unknown[0][:40]!r}",
                         ", ".join(NO_REASONS))
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LIMIT:
        raise InputError("text", f"is {len(comment)} characters long; at most "
                         f"{COMMENT_LIMIT} are allowed", f"at most {COMMENT_LIMIT} characters")
    chosen = [words for value, words in NO_REASONS.items() if value in reasons]
    lines = [REASONS_PREFIX + "; ".join(chosen)] if chosen else []
    if comment:
        lines.append(comment)
    return "\n".join(lines) or None


def plain_message(error: InputError, comment: str | None) -> str:
    """The message shown next to the follow-up form's field, in a reader's words."""
    if error.field == "reason":
        return "Please tick only the reasons listed."
    return (f"Please shorten your comment to {COMMENT_LIMIT} characters or fewer (it has "
            f"{len((comment or '').strip())} now).")
