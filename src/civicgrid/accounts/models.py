"""A user's role and where it applies. Grid members' grids come from their grid-member posts, so the
registry's posts are the single record of who serves which grid."""

from __future__ import annotations

from django.conf import settings
from django.db import models
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
        return f"{self.user} ({self.role})"
