from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.simulation import scenarios
from civicgrid.simulation.models import MAX_DAYS, MAX_RUNS
from civicgrid.simulation.words import POLICY_NAMES


class RunForm(forms.Form):
    community = forms.TypedChoiceField(label=_("Community"), coerce=int)
    scenario = forms.ChoiceField(label=_("Scenario"))
    policies = forms.MultipleChoiceField(label=_("Policies to compare"), widget=forms.CheckboxSelectMultiple,
                                         initial=["equity", "fcfs"])
    runs = forms.IntegerField(label=_("Runs (Monte Carlo replications)"), min_value=1, max_value=MAX_RUNS,
                              initial=10)
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=MAX_DAYS, required=False,
                              help_text=_("Empty: the scenario's own length."))

    def __init__(self, *args: Any, communities: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = communities  # type: ignore[attr-defined]
        self.fields["scenario"].choices = scenarios.choices()  # type: ignore[attr-defined]
        self.fields["policies"].choices = [(k, v) for k, v in POLICY_NAMES.items()]  # type: ignore[attr-defined]
