"""Council and consultation (议事协商) and residents' covenants (居民公约).

Who decides is recorded, not assumed: every meeting is convened by a :class:`Body` (an actor of the
registry with its sector, and a body kind saying whether it is one of the residents' own bodies), and
every :class:`Decision` keeps the sector and kind of the body that took it at the time it was taken.
State changes go through ``services``; the schema repeats the rules it can hold (one attendance per
invitation, one vote per invitee and poll, one signature per household and version, one version in
force per covenant, bounded text).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.registry.models import Actor, Household, Place

TITLE_CHARS = 200
TEXT_CHARS = 4000  # a decision's text, minutes, a clause: the hard ceiling of core.limits
COMMENT_CHARS = 500


BODY_KINDS = ["residents_committee", "owners_committee", "residents_council", "party_committee",
              "government_office", "enterprise_board", "property_management"]


class Body(models.Model):
    """A body that convenes meetings and takes decisions: a registry actor (whose sector says which sector
    decided) and its kind. Residents' own bodies are named explicitly (:data:`RESIDENT_KINDS`): a residents'
    committee, an owners' committee, a residents' council; the others speak for the state or for capital."""

    class Kind(models.TextChoices):
        RESIDENTS_COMMITTEE = "residents_committee", _("residents' committee")
        OWNERS_COMMITTEE = "owners_committee", _("owners' committee")
        RESIDENTS_COUNCIL = "residents_council", _("residents' council")
        PARTY_COMMITTEE = "party_committee", _("party committee")
        GOVERNMENT_OFFICE = "government_office", _("government office")
        ENTERPRISE_BOARD = "enterprise_board", _("enterprise group")
        PROPERTY_MANAGEMENT = "property_management", _("property management")

    actor = models.OneToOneField(Actor, on_delete=models.PROTECT, related_name="council_body",
                                 verbose_name=_("actor"))
    kind = models.CharField(_("body kind"), max_length=24, choices=Kind.choices)

    class Meta:
        ordering = ["actor__code"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=BODY_KINDS),
                                              name="council_body_kind_known")]

    def __str__(self) -> str:
        return self.actor.name

    @property
    def is_residents_body(self) -> bool:
        return self.kind in RESIDENT_KINDS


RESIDENT_KINDS = frozenset({Body.Kind.RESIDENTS_COMMITTEE, Body.Kind.OWNERS_COMMITTEE, Body.Kind.RESIDENTS_COUNCIL})


class Meeting(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        CLOSED = "closed", pgettext_lazy("meeting state", "closed")

    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="council_meetings",
                                  verbose_name=_("community"))
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("convened by"))
    title = models.CharField(_("title"), max_length=TITLE_CHARS)
    starts_at = models.DateTimeField(_("starts at"))
    location = models.CharField(_("location"), max_length=TITLE_CHARS, blank=True)
    quorum = models.PositiveIntegerField(_("quorum (households present)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PLANNED)
    minutes = models.TextField(_("minutes"), blank=True, max_length=TEXT_CHARS)
    checkin_nonce = models.CharField(max_length=32, editable=False)  # in the signed check-in code
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quorum__gte=1) & Q(quorum__lte=100_000), name="council_quorum_bounds"),
            models.CheckConstraint(condition=Q(state__in=["planned", "closed"]), name="council_meeting_state_known"),
        ]

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=TITLE_CHARS)
    note = models.CharField(_("note"), max_length=COMMENT_CHARS, blank=True)

    class Meta:
        ordering = ["meeting_id", "number"]
        constraints = [models.UniqueConstraint(fields=["meeting", "number"], name="council_agenda_number_unique")]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Invitation(models.Model):
    """A household invited to a meeting, and its attendance (one per household and meeting)."""

    class How(models.TextChoices):
        QR = "qr", _("QR check-in")
        STAFF = "staff", _("marked by staff")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="council_invitations",
                                  verbose_name=_("household"))
    invited_as = models.CharField(_("invited as"), max_length=80, blank=True)  # the grid, building or group
    attended_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    attended_how = models.CharField(_("how"), max_length=8, choices=How.choices, blank=True)
    attended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["meeting_id", "household__code"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "household"], name="council_invitation_unique"),
            models.CheckConstraint(condition=Q(attended_at__isnull=True, attended_how="")
                                   | Q(attended_at__isnull=False, attended_how__in=["qr", "staff"]),
                                   name="council_attendance_complete"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.household_id}"

    @property
    def invited_as_label(self) -> str:
        """The grid or building's name, or the group in words (groups are stored by their key)."""
        return str(INVITED_GROUPS.get(self.invited_as, self.invited_as))


INVITED_GROUPS = {"body_members": _("members of the convening body"), "vulnerable": _("vulnerable households"),
                  "all": _("every household of the community")}


class Poll(models.Model):
    """A yes / no / abstain vote among a meeting's invitees (one vote per invited household)."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("poll state", "open")
        CLOSED = "closed", pgettext_lazy("poll state", "closed")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="polls")
    question = models.CharField(_("question"), max_length=TITLE_CHARS)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting_id", "id"]
        constraints = [models.CheckConstraint(condition=Q(state="open", closed_at__isnull=True)
                                              | Q(state="closed", closed_at__isnull=False),
                                              name="council_poll_state_closed_at")]

    def __str__(self) -> str:
        return self.question


class Vote(models.Model):
    class Choice(models.TextChoices):
        YES = "yes", pgettext_lazy("vote", "yes")
        NO = "no", pgettext_lazy("vote", "no")
        ABSTAIN = "abstain", _("abstain")

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="votes")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("vote"), max_length=8, choices=Choice.choices)
    at = models.DateTimeField()
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "household"], name="council_one_vote_per_household"),
            models.CheckConstraint(condition=Q(choice__in=["yes", "no", "abstain"]), name="council_vote_choice_known"),
        ]

    def __str__(self) -> str:
        return f"{self.poll_id}:{self.household_id}"


class Decision(models.Model):
    """What a meeting decided, by which body (its sector and kind kept as they were when it decided)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="decisions")
    sector = models.CharField(_("sector"), max_length=10)  # the body's actor's sector when it decided
    body_kind = models.CharField(_("body kind"), max_length=24, choices=Body.Kind.choices)
    residents_body = models.BooleanField(_("taken by a residents' body"))
    title = models.CharField(_("title"), max_length=TITLE_CHARS)
    text = models.TextField(_("decision"), max_length=TEXT_CHARS)
    poll = models.OneToOneField(Poll, null=True, blank=True, on_delete=models.PROTECT, related_name="decision")
    present = models.PositiveIntegerField(_("households present"))
    taken_at = models.DateTimeField(_("decided at"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    case = models.OneToOneField("cases.Case", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="council_decision", verbose_name=_("case"))
    place_path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["-taken_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(sector__in=["state", "capital", "society"]),
                                              name="council_decision_sector_known")]

    def __str__(self) -> str:
        return self.title


class Covenant(models.Model):
    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="covenants",
                                  verbose_name=_("community"))
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    title = models.CharField(_("title"), max_length=TITLE_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["place_path", "id"]

    def __str__(self) -> str:
        return self.title


class CovenantVersion(models.Model):
    """One version of a covenant's text. A draft is open for comment and editing; adopting it by a
    decision puts it in force (the previous one is superseded) and freezes it for good."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft, open for comment")
        IN_FORCE = "in_force", _("in force")
        SUPERSEDED = "superseded", _("superseded")

    covenant = models.ForeignKey(Covenant, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    adopted_by = models.OneToOneField(Decision, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="covenant_version", verbose_name=_("adopted by"))
    adopted_at = models.DateTimeField(_("adopted at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["covenant_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["covenant", "number"], name="council_version_number_unique"),
            models.UniqueConstraint(fields=["covenant"], condition=Q(state="in_force"),
                                    name="council_one_version_in_force"),
            models.CheckConstraint(condition=Q(state="draft", adopted_by__isnull=True, adopted_at__isnull=True)
                                   | (~Q(state="draft") & Q(adopted_by__isnull=False, adopted_at__isnull=False)),
                                   name="council_version_adopted_by_decision"),
        ]

    def __str__(self) -> str:
        return f"{self.covenant} v{self.number}"


class Clause(models.Model):
    version = models.ForeignKey(CovenantVersion, on_delete=models.CASCADE, related_name="clauses")
    number = models.PositiveSmallIntegerField(_("clause"))
    text = models.TextField(_("text"), max_length=TEXT_CHARS)

    class Meta:
        ordering = ["version_id", "number"]
        constraints = [models.UniqueConstraint(fields=["version", "number"], name="council_clause_number_unique")]

    def __str__(self) -> str:
        return f"{self.version} §{self.number}"


class ClauseComment(models.Model):
    clause = models.ForeignKey(Clause, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    author_label = models.CharField(max_length=80, blank=True)  # who, when not a user (demo data)
    text = models.CharField(pgettext_lazy("clause", "comment"), max_length=COMMENT_CHARS)
    at = models.DateTimeField()

    class Meta:
        ordering = ["clause_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.clause}: {self.text[:40]}"


class Signature(models.Model):
    """A household's signature of a covenant version in force (one per household and version)."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("signed online")
        PAPER = "paper", _("paper form entered by staff")

    version = models.ForeignKey(CovenantVersion, on_delete=models.PROTECT, related_name="signatures")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="covenant_signatures")
    channel = models.CharField(_("how"), max_length=8, choices=Channel.choices)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "household"], name="council_one_signature_per_household"),
            models.CheckConstraint(condition=Q(channel__in=["online", "paper"]), name="council_signature_channel_known"),
        ]

    def __str__(self) -> str:
        return f"{self.version}: {self.household_id}"
