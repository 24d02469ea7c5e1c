from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


def form_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError next to the matching field (or above the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def first_error(exc: ValidationError) -> Any:
    return "; ".join(exc.messages)
