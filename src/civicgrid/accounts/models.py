"""A user's role and where it applies. Grid members' grids come from their grid-member posts, so the
registry's posts are the single record of who serves which grid."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.scoping import ROLES

ROLE_LABELS = {
    "district_official": _("District official"),
    "community_director": _("Community director"),
    "grid_member": _("Grid member"),
    "org_staff": _("Social-organisation staff"),
    "volunteer": _("Volunteer"),
    "resident": _("Resident"),
}


class Role(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role")
    role = models.CharField(_("role"), max_length=24, choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    place = models.ForeignKey("registry.Place", null=True, blank=True, on_delete=models.PROTECT,
                              help_text=_("district (officials) or community (directors)"))
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT,
                               help_text=_("grid members, volunteers and staff: their registry person"))
    actor = models.ForeignKey("registry.Actor", null=True, blank=True, on_delete=models.PROTECT,
                              help_text=_("social-organisation staff: their organisation"))
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  help_text=_("residents: their household"))
    identity_clearance = models.BooleanField(
        _("may see full ID numbers and phones"), default=False)

    def __str__(self) -> str:
        # kept in the audit log as the record's name, shown to readers of every language: the user, not the
        # role's code (the role is shown, worded, among the row's values)
        return str(self.user)


class LoginAttempt(models.Model):
    """One log-in attempt, kept so that lockout holds across worker processes
    (:mod:`civicgrid.accounts.lockout`); each is also written to the audit log."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    username = models.CharField(_("user name"), max_length=150)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", help_text=_("the account of that name, if there is one"))
    succeeded = models.BooleanField(_("succeeded"), default=False)
    refused = models.BooleanField(_("refused while locked"), default=False,
                                  help_text=_("refused without checking the password, because of a lockout"))

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["username", "at"]), models.Index(fields=["ip", "at"])]

    def __str__(self) -> str:
        # the audit log's name of the record (its event already says whether it succeeded): no English words
        return f"{self.username} {self.ip or ''}".strip()
