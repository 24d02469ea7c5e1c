"""Log-in (with lockout) and password change, for every role."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from civicgrid.accounts.forms import LoginForm
from civicgrid.accounts.services import password_change_record


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "core/login.html"

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if any(e.code == "locked" for e in form.non_field_errors().as_data()):
            response.status_code = 429  # Too Many Requests
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            password_change_record(user=form.user)
        messages.success(self.request, _("Your password has been changed."))
        return response
