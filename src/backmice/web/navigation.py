"""The site's main navigation by role: what a visitor sees in the header.

A visitor who is not signed in is taken for a patient or a member of the public and sees the
patient pages only (staff sign in from a discreet footer link). A signed-in user sees the tools
of each of their roles (the union, in one fixed order), never a link that would answer 403:
each link names the role its page requires (``None``: a public page).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NavLink:
    href: str
    label: str
    roles: frozenset[str]  # shown to a signed-in user holding any of these roles


PATIENT_LINKS = (
    NavLink("/interview", "Check a lump", frozenset()),
    NavLink("/conditions", "Conditions", frozenset()),
    NavLink("/about", "About", frozenset()),
)

ALL_STAFF = frozenset({"clinician", "reviewer", "admin"})
STAFF_LINKS = (
    NavLink("/clinician", "Workspace", frozenset({"clinician"})),
    NavLink("/patients", "Patients", frozenset({"clinician"})),
    NavLink("/clinic/outcomes", "Clinic outcomes", frozenset({"clinician"})),
    NavLink("/clinic/worklist", "Alerts and referrals", frozenset({"clinician"})),
    NavLink("/reviewer", "Feedback to review", frozenset({"reviewer"})),
    NavLink("/knowledge-base", "Knowledge base", ALL_STAFF),
    NavLink("/admin/users", "Users", frozenset({"admin"})),
    NavLink("/admin/audit", "Audit log", frozenset({"admin"})),
    NavLink("/account/password", "Password", ALL_STAFF),
)

def nav_links(roles: tuple[str, ...] | frozenset[str] | None) -> tuple[NavLink, ...]:
    """The header links of a visitor: ``None`` when nobody is signed in (the patient pages);
    otherwise every staff link one of ``roles`` may open, in the fixed order above."""
    if roles is None:
        return PATIENT_LINKS
    held = frozenset(roles)
    return tuple(link for link in STAFF_LINKS if link.roles & held)


def is_current(href: str, path: str) -> bool:
    """True when ``path`` is the page of ``href`` or one below it (/patients/3 → Patients)."""
    return path == href or path.startswith(href.rstrip("/") + "/")
