"""Covenants (居民公约): versioned text, drafts open for comment per clause, adoption by a decision taken
by vote, one signature per household and version.

A version is immutable once adopted: only a draft's clauses change, and only a draft takes comments. A
new version is a new draft, copied from the version in force. Adoption needs a decision recorded from a
poll that passed (:func:`civicgrid.council.services.meetings.decision_record` refuses the rest), and the
draft must be based on the version still in force: of two staff adopting at once (the same draft, or two
drafts of one covenant), one succeeds and the other is refused with nothing written.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid
from civicgrid.core.limits import bounded_text
from civicgrid.core.locking import locked, serialised
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.council.events import CouncilEvent as E
from civicgrid.council.models import (
    COMMENT_CHARS,
    TEXT_CHARS,
    TITLE_CHARS,
    Clause,
    ClauseComment,
    Covenant,
    CovenantVersion,
    Decision,
    Signature,
)
from civicgrid.registry.models import Household, Place

MANAGE = "council_manage"
MAX_CLAUSES = 60


def _clause_text(value: Any) -> str:
    text = bounded_text(value, "text", max_chars=TEXT_CHARS)
    if not text:
        raise Invalid({"text": _("This field is required.")})
    return text


def _draft(version: CovenantVersion) -> None:
    if version.state != CovenantVersion.State.DRAFT:
        raise Conflict(_("This version is published and can no longer change; start a new draft."))


@transaction.atomic
def covenant_create(*, user: Any, scope: Scope, community: Place, title: str, clauses: list[str]) -> Covenant:
    """Start a community's covenant with its first draft."""
    require(scope, MANAGE)
    check_in_scope(scope, community)
    if community.level != "community":
        raise Invalid({"community": _("Choose a community.")})
    title = bounded_text(title, "title", max_chars=TITLE_CHARS)
    if not title:
        raise Invalid({"title": _("This field is required.")})
    texts = [_clause_text(c) for c in clauses if str(c).strip()]
    if not texts or len(texts) > MAX_CLAUSES:
        raise Invalid({"clauses": _("Write between 1 and %(n)d clauses.") % {"n": MAX_CLAUSES}})
    covenant = Covenant.objects.create(community=community, place_path=community.path, title=title)
    version = CovenantVersion.objects.create(covenant=covenant, number=1)
    Clause.objects.bulk_create([Clause(version=version, number=i, text=t) for i, t in enumerate(texts, start=1)])
    audit.record(user=user, event=E.COVENANT_CREATED, instance=covenant,
                 new={**audit.snapshot(covenant), "clauses": len(texts)})
    return covenant


@serialised
def version_draft(*, user: Any, scope: Scope, covenant: Covenant) -> CovenantVersion:
    """A new draft, copied from the version in force (one draft open at a time)."""
    require(scope, MANAGE)
    check_in_scope(scope, covenant)
    covenant = locked(Covenant.objects.filter(pk=covenant.pk)).get()
    if covenant.versions.filter(state=CovenantVersion.State.DRAFT).exists():
        raise Conflict(_("A draft is already open for comment; adopt or edit it."))
    current = covenant.versions.filter(state=CovenantVersion.State.IN_FORCE).first()
    number = (covenant.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    draft = CovenantVersion.objects.create(covenant=covenant, number=number, based_on=current)
    if current is not None:
        Clause.objects.bulk_create([Clause(version=draft, number=c.number, text=c.text)
                                    for c in current.clauses.all()])
    audit.record(user=user, event=E.VERSION_DRAFTED, instance=draft, new=audit.snapshot(draft),
                 place_path=covenant.place_path)
    return draft


@serialised
def clause_save(*, user: Any, scope: Scope, version: CovenantVersion, text: str, number: int | None = None) -> Clause:
    """Change clause ``number`` of a draft, or add a clause at the end (``number`` None)."""
    require(scope, MANAGE)
    check_in_scope(scope, version)
    version = locked(CovenantVersion.objects.filter(pk=version.pk)).get()
    _draft(version)
    text = _clause_text(text)
    place_path = version.covenant.place_path
    if number is None:
        if version.clauses.count() >= MAX_CLAUSES:
            raise Invalid({"text": _("Write between 1 and %(n)d clauses.") % {"n": MAX_CLAUSES}})
        last = version.clauses.order_by("-number").values_list("number", flat=True).first() or 0
        clause = Clause.objects.create(version=version, number=last + 1, text=text)
        audit.record(user=user, event=E.CLAUSE_SAVED, instance=clause, new=audit.snapshot(clause), place_path=place_path)
        return clause
    existing = version.clauses.filter(number=number).first()
    if existing is None:
        raise Invalid({"number": _("No such clause in this draft.")})
    audit.update_fields(user=user, event=E.CLAUSE_SAVED, instance=existing, changes={"text": text},
                        place_path=place_path)
    return existing


@transaction.atomic
def clause_comment(*, user: Any, scope: Scope, clause: Clause, text: str) -> ClauseComment:
    """A comment on one clause of a draft, by a resident or staff of the community."""
    require(scope, "council")
    check_in_scope(scope, clause)
    _draft(clause.version)
    text = bounded_text(text, "text", max_chars=COMMENT_CHARS)
    if not text:
        raise Invalid({"text": _("This field is required.")})
    comment = ClauseComment.objects.create(clause=clause, author=user, text=text, at=timezone.now())
    audit.record(user=user, event=E.CLAUSE_COMMENTED, instance=comment, new=audit.snapshot(comment),
                 place_path=clause.version.covenant.place_path)
    return comment


@serialised
def version_adopt(*, user: Any, scope: Scope, version: CovenantVersion, decision: Decision) -> CovenantVersion:
    """Put a draft in force by a decision taken by vote in the covenant's community; the version in force
    before it is superseded. Refused when the draft is no longer a draft, when another version was adopted
    since the draft was started, or when the decision was not taken by a vote."""
    require(scope, MANAGE)
    check_in_scope(scope, version)
    check_in_scope(scope, decision)
    covenant = locked(Covenant.objects.filter(pk=version.covenant_id)).get()  # one adoption at a time
    version = locked(CovenantVersion.objects.filter(pk=version.pk)).get()
    _draft(version)
    current = covenant.versions.filter(state=CovenantVersion.State.IN_FORCE).first()
    if (current.pk if current else None) != version.based_on_id:
        raise Conflict(_("Another version was adopted since this draft was started; start a new draft."))
    if decision.place_path != covenant.place_path:
        raise Invalid({"decision": _("The decision must be taken in the covenant's community.")})
    if decision.poll_id is None:
        raise Invalid({"decision": _("Adoption needs a decision taken by vote.")})
    if CovenantVersion.objects.filter(adopted_by=decision).exists():
        raise Conflict(_("This decision has already adopted a version."), field="decision")
    if not version.clauses.exists():
        raise Invalid({"version": _("Write between 1 and %(n)d clauses.") % {"n": MAX_CLAUSES}})
    now = timezone.now()
    if current is not None:
        audit.update_fields(user=user, event=E.VERSION_ADOPTED, instance=current,
                            changes={"state": CovenantVersion.State.SUPERSEDED}, place_path=covenant.place_path)
    audit.update_fields(user=user, event=E.VERSION_ADOPTED, instance=version, changes={
        "state": CovenantVersion.State.IN_FORCE, "adopted_by": decision, "adopted_at": now},
        place_path=covenant.place_path)
    return version


@serialised
def covenant_sign(*, user: Any, scope: Scope, version: CovenantVersion, household_id: int | None = None) -> Signature:
    """A household signs the version in force: a resident for their own household online, staff enter a
    household's paper form. One signature per household and version."""
    check_in_scope(scope, version)
    if scope.role == "resident":
        own = next(iter(scope.household_ids), None)
        if household_id not in (None, own):
            raise Forbidden(_("Residents sign for their own household."))
        household_id, channel = own, Signature.Channel.ONLINE
    else:
        require(scope, MANAGE)
        channel = Signature.Channel.PAPER
        if household_id is None:
            raise Invalid({"household": _("Choose a household.")})
    household = Household.objects.filter(pk=household_id or 0).first()
    if household is None:
        raise Invalid({"household": _("Choose a household.")})
    check_in_scope(scope, household)
    version = locked(CovenantVersion.objects.filter(pk=version.pk)).get()
    if version.state != CovenantVersion.State.IN_FORCE:
        raise Conflict(_("Only the version in force is signed."))
    if not household.place_path.startswith(version.covenant.place_path):
        raise Invalid({"household": _("The household does not live in the covenant's community.")})
    if Signature.objects.filter(version=version, household=household).exists():
        raise Conflict(_("This household has already signed this version."))
    try:
        with transaction.atomic():
            signature = Signature.objects.create(version=version, household=household, channel=channel,
                                                 signed_by=user if getattr(user, "is_authenticated", False) else None,
                                                 at=timezone.now())
    except IntegrityError:  # a racing signature of the same household (PostgreSQL)
        raise Conflict(_("This household has already signed this version.")) from None
    audit.record(user=user, event=E.SIGNED, instance=version, new={"household": household.pk, "channel": channel},
                 place_path=household.place_path)
    return signature
