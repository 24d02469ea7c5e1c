"""The log-in form with lockout (civicgrid.accounts.lockout)."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts import lockout


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed log-ins for this account or from this address. Try again in %(minutes)d "
                    "minutes."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()
        ip = lockout.client_ip(self.request)
        wait = lockout.locked_for(username, ip)
        if wait > 0:
            lockout.attempt_record(username=username, ip=ip, succeeded=False, refused=True)
            raise ValidationError(self.error_messages["locked"], code="locked",
                                  params={"minutes": max(1, math.ceil(wait / 60))})
        try:
            cleaned = super().clean()
        except ValidationError:
            lockout.attempt_record(username=username, ip=ip, succeeded=False)
            raise
        lockout.attempt_record(username=username, ip=ip, succeeded=True, user=self.get_user())
        return cleaned
