"""Mediation forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from civicgrid.core.scoping import Scope
from civicgrid.mediation import selectors
from civicgrid.mediation.models import FOLLOW_UP_DAYS_MAX, MediationCase, Party
from civicgrid.registry.models import Place


class OpenForm(forms.Form):
    category = forms.ChoiceField(label=_("kind of dispute"), choices=MediationCase.Category.choices)
    place: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("place"), queryset=Place.objects.none(), help_text=_("the grid or building where it is"))
    summary = forms.CharField(label=_("the dispute"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    mediator: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("mediator"), queryset=get_user_model().objects.none(), required=False)
    follow_up_days = forms.IntegerField(label=_("follow-up visit after (days)"), initial=30, min_value=1,
                                        max_value=FOLLOW_UP_DAYS_MAX)

    def __init__(self, *args: Any, scope: Scope, community_path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        place = self.fields["place"]
        place.queryset = selectors.open_places(scope=scope)  # type: ignore[attr-defined]
        place.label_from_instance = lambda p: f"{p.name} ({p.get_level_display()})"  # type: ignore[attr-defined]
        self.fields["mediator"].queryset = selectors.mediator_candidates(  # type: ignore[attr-defined]
            community_path=community_path)


class PartyForm(forms.Form):
    side = forms.ChoiceField(label=_("side"), choices=Party.Side.choices)
    name = forms.CharField(label=_("name"), max_length=60)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class AgreementForm(forms.Form):
    text = forms.CharField(label=_("agreement"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
