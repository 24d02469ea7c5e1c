"""The social app's forms: they parse and label; every rule is the services' (errors come back next to
their field through ``core.views.form_errors``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.core.widgets import ManyCheckboxes
from civicgrid.registry.models import SECTOR_LABELS
from civicgrid.social.conf import indicator_label, social_setting
from civicgrid.social.models import Organisation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _actor_choices(actors: Any, blank: str = "") -> list[tuple[Any, str]]:
    choices: list[tuple[Any, str]] = [("", blank)] if blank else []
    return choices + [(a.pk, f"{a.name} ({SECTOR_LABELS.get(a.sector, a.sector)})") for a in actors]


class RegisterForm(forms.Form):
    actor = forms.TypedChoiceField(label=_("Organisation"), coerce=int)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=40,
                                  help_text=_("18 characters; the last one is a check character (GB 32100-2015)"))
    hub = forms.TypedChoiceField(label=_("Incubated by"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, actors: Any, hubs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["actor"]).choices = _actor_choices(actors)
        cast(forms.ChoiceField, self.fields["hub"]).choices = _actor_choices(hubs, blank=str(_("none")))


class VerifyForm(forms.Form):
    state = forms.ChoiceField(label=_("New verification state"), choices=Organisation.Verification.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class StageForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("New incubation stage"), choices=Organisation.Stage.choices)
    on = forms.DateField(label=_("On"), widget=DATE, initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class AssessmentForm(forms.Form):
    assessed_on = forms.DateField(label=_("Assessed on"), widget=DATE, initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in social_setting("indicators"):
            self.fields[f"rating_{code}"] = forms.TypedChoiceField(
                label=indicator_label(code), coerce=int, choices=[(i, str(i)) for i in range(1, 6)],
                widget=forms.RadioSelect)

    def ratings(self) -> dict[str, int]:
        return {name.removeprefix("rating_"): value for name, value in self.cleaned_data.items()
                if name.startswith("rating_")}


class TrainingForm(forms.Form):
    title = forms.CharField(label=_("Training"), max_length=120)
    provider = forms.CharField(label=_("Given by"), max_length=120, required=False)
    held_on = forms.DateField(label=_("Held on"), widget=DATE, initial=timezone.localdate)
    attendees = forms.IntegerField(label=_("Attendees"), min_value=1, max_value=10_000)


class FundingForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=12,
                                decimal_places=2)
    received_on = forms.DateField(label=_("Received on"), widget=DATE, initial=timezone.localdate)
    source = forms.TypedChoiceField(label=_("Funder in the registry"), coerce=int, required=False, empty_value=None)
    source_name = forms.CharField(label=_("Or the funder's name"), max_length=120, required=False)
    source_sector = forms.ChoiceField(label=_("Sector of that funder"), required=False,
                                      choices=[("", "—"), *SECTOR_LABELS.items()])
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)

    def __init__(self, *args: Any, sources: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = _actor_choices(sources, blank="—")


class ComplaintForm(forms.Form):
    text = forms.CharField(label=_("Complaint"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    upheld = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                    choices=[("1", pgettext_lazy("complaint", "upheld")),
                                             ("0", pgettext_lazy("complaint", "dismissed"))])
    resolution = forms.CharField(label=_("Reason"), max_length=500)
    suspend = forms.BooleanField(label=_("Suspend the organisation"), required=False)


class ApplyForm(forms.Form):
    actor = forms.TypedChoiceField(label=_("Organisation"), coerce=int)
    grids = forms.TypedMultipleChoiceField(label=_("Grids"), coerce=int, widget=ManyCheckboxes)
    service_kinds = forms.MultipleChoiceField(label=_("Services"), choices=list(SERVICE_KINDS.items()),
                                              widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, actors: Any, grids: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["actor"]).choices = _actor_choices(actors)
        cast(forms.ChoiceField, self.fields["grids"]).choices = [(g.pk, g.name) for g in grids]


class DecideForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


def fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())

