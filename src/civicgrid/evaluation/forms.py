"""The "what changed" form: an event (an emergency activation, or a community and a date), an outcome
and comparison communities. Read with GET: comparing changes nothing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.evaluation.panel import SOURCES


class CompareForm(forms.Form):
    emergency = forms.ChoiceField(label=_("Event"), required=False)
    community = forms.ChoiceField(label=_("or a community"), required=False)
    day = forms.DateField(label=_("and the date of the change"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    outcome = forms.ChoiceField(label=_("Outcome"))
    comparisons = forms.MultipleChoiceField(label=_("Comparison communities (without the event)"), required=False,
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, emergencies: list[tuple[str, str]], communities: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["emergency"].choices = [("", _("— a date instead —")), *emergencies]  # type: ignore[attr-defined]
        self.fields["community"].choices = [("", "—"), *communities]  # type: ignore[attr-defined]
        self.fields["comparisons"].choices = communities  # type: ignore[attr-defined]
        self.fields["outcome"].choices = [(k, s.label) for k, s in SOURCES.items()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("emergency") and not (data.get("community") and data.get("day")):
            raise forms.ValidationError(_("Pick an emergency, or a community and a date."))
        return data
