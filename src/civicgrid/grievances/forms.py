"""Grievance forms: errors show next to their fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.grievances.models import Appeal, Grievance, Pause


class FileForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it about?"), choices=Grievance.Kind.choices)
    subject_ref = forms.CharField(label=_("Which one"), required=False, max_length=64,
                                  help_text=_("its number or code as shown on its page, or its name"))
    description = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    sensitive = forms.BooleanField(label=_("Sensitive: keep it from the grid's own staff"), required=False)
    household_code = forms.CharField(label=_("Household code"), max_length=40, required=False)

    def __init__(self, *args: Any, resident: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if resident:
            del self.fields["household_code"]


class ActForm(forms.Form):
    note = forms.CharField(label=_("Answer, decision or explanation"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    reason = forms.ChoiceField(label=_("Reason for pausing"), required=False,
                               choices=[("", "-"), *Pause.Reason.choices])
    mediation = forms.CharField(label=_("Mediation code (when the dispute went to mediation)"), required=False,
                                max_length=24)
    rating = forms.TypedChoiceField(label=_("Satisfaction"), required=False, coerce=int, empty_value=None,
                                    choices=[("", "-")] + [(str(i), str(i)) for i in range(5, 0, -1)])


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("Why you appeal"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[(Appeal.Outcome.UPHELD, Appeal.Outcome.UPHELD.label),
                                                             (Appeal.Outcome.DISMISSED, Appeal.Outcome.DISMISSED.label)])
    decision = forms.CharField(label=_("Reasons of the review"), widget=forms.Textarea(attrs={"rows": 3}),
                               max_length=2000)
