"""Forms for publishing alerts and adding rumour clarifications; errors show next to their fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.alerts.models import Alert, Clarification
from civicgrid.core.scoping import Scope, scoped
from civicgrid.registry.models import Place

AREA_LEVELS = ("district", "subdistrict", "community", "grid")


class AlertForm(forms.ModelForm):  # type: ignore[type-arg]
    expires_in_hours = forms.IntegerField(label=_("expires after (hours)"), min_value=1, max_value=24 * 30,
                                          initial=24, required=False)
    channels = forms.MultipleChoiceField(
        label=_("also send by"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[("sms", _("SMS")), ("email", _("E-mail"))], initial=["sms", "email"])

    class Meta:
        model = Alert
        fields = ["area", "group", "status", "category", "event_zh", "event_en", "urgency", "severity",
                  "certainty", "headline_zh", "headline_en", "description_zh", "description_en",
                  "instruction_zh", "instruction_en"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in (
            "description_zh", "description_en", "instruction_zh", "instruction_en")}

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        area.queryset = scoped(Place.objects.filter(level__in=AREA_LEVELS), scope)  # type: ignore[attr-defined]
        area.label_from_instance = lambda p: f"{p.name} ({p.get_level_display()} {p.code})"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("headline_zh", "").strip() or data.get("headline_en", "").strip()):
            self.add_error("headline_zh", _("Write a headline in at least one language."))
        return data


class ClarificationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Clarification
        fields = ["question_zh", "question_en", "answer_zh", "answer_en"]
        widgets = {"answer_zh": forms.Textarea(attrs={"rows": 2}), "answer_en": forms.Textarea(attrs={"rows": 2})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("question_zh", "").strip() or data.get("question_en", "").strip()):
            self.add_error("question_zh", _("Write the rumour or question."))
        if not (data.get("answer_zh", "").strip() or data.get("answer_en", "").strip()):
            self.add_error("answer_zh", _("Write the authoritative answer."))
        return data
