"""Forms of the procurement pages: they parse and bound the input; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.plugins import deliverables
from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.procurement.conf import conf
from civicgrid.procurement.models import RUBRIC

MILESTONE_ROWS = 3  # rows on the award form (the service takes up to conf("max_milestones"))


def to_fen(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def _yuan_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                              max_value=Decimal(conf("max_amount_fen")) / 100)


class AppropriationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    place = forms.TypedChoiceField(label=_("Area"), coerce=int)
    funder = forms.TypedChoiceField(label=_("Funder (source of the money)"), coerce=int)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    amount = _yuan_field(_("Amount (yuan)"))

    def __init__(self, *args: Any, places: list[tuple[int, str]], funders: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["place"]).choices = places
        cast(forms.ChoiceField, self.fields["funder"]).choices = funders
        self.fields["year"].initial = timezone.localdate().year


class CallForm(forms.Form):
    appropriation = forms.TypedChoiceField(label=_("Appropriation"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=120)
    service_kind = forms.ChoiceField(label=_("Service"), choices=list(SERVICE_KINDS.items()))
    place = forms.TypedChoiceField(label=_("Area"), coerce=int)
    budget = _yuan_field(_("Budget (yuan)"))
    deadline = forms.DateTimeField(label=_("Deadline for applications"),
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                   input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    description = forms.CharField(label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(
        attrs={"rows": 3}))

    def __init__(self, *args: Any, appropriations: list[tuple[int, str]], places: list[tuple[int, str]],
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["appropriation"]).choices = appropriations
        cast(forms.ChoiceField, self.fields["place"]).choices = places


class ReviewerForm(forms.Form):
    reviewer = forms.TypedChoiceField(label=_("Reviewer"), coerce=int)

    def __init__(self, *args: Any, candidates: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["reviewer"]).choices = candidates


class ApplyForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("Organisation"), coerce=int)
    amount = _yuan_field(_("Amount asked (yuan)"))
    proposal = forms.CharField(label=_("Proposal"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["organisation"]).choices = organisations


class ScoreForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for key, (label, maximum) in RUBRIC.items():
            field = forms.IntegerField(label=f"{label}（0–{maximum}）", min_value=0, max_value=maximum)
            self.fields[key] = field
        self.order_fields([*RUBRIC, "comment"])

    def marks(self) -> dict[str, int]:
        return {key: self.cleaned_data[key] for key in RUBRIC}


class AwardForm(forms.Form):
    application = forms.TypedChoiceField(label=_("Application to award"), coerce=int)
    arbiter = forms.TypedChoiceField(label=_("Arbiter (accepts the milestones)"), coerce=int)
    ends_on = forms.DateField(label=_("Contract ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason for the award"), max_length=500, required=False,
                             help_text=_("Needed when the award is not the best-scored application."))

    def __init__(self, *args: Any, applications: list[tuple[int, str]], arbiters: list[tuple[int, str]],
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["application"]).choices = applications
        cast(forms.ChoiceField, self.fields["arbiter"]).choices = arbiters
        kinds = [("", "—")] + [(k, str(d.label)) for k, d in sorted(deliverables().items())]
        for i in range(1, MILESTONE_ROWS + 1):
            required = i == 1
            self.fields[f"m{i}_title"] = forms.CharField(label=_("Milestone %(n)d: title") % {"n": i}, max_length=120,
                                                         required=required)
            self.fields[f"m{i}_share"] = forms.IntegerField(label=_("Milestone %(n)d: payout share (%%)") % {"n": i},
                                                            min_value=1, max_value=100, required=required)
            self.fields[f"m{i}_due"] = forms.DateField(label=_("Milestone %(n)d: deadline") % {"n": i},
                                                       required=required, widget=forms.DateInput(attrs={"type": "date"}))
            self.fields[f"m{i}_deliverable"] = forms.ChoiceField(label=_("Milestone %(n)d: deliverable") % {"n": i},
                                                                 choices=kinds, required=required)
            self.fields[f"m{i}_target"] = forms.IntegerField(label=_("Milestone %(n)d: how many") % {"n": i},
                                                             min_value=1, max_value=1_000_000, required=required)

    def milestone_rows(self) -> list[dict[str, Any]]:
        rows = []
        for i in range(1, MILESTONE_ROWS + 1):
            row = {k: self.cleaned_data.get(f"m{i}_{k}") for k in ("title", "share", "due", "deliverable", "target")}
            if any(v not in (None, "") for v in row.values()):
                missing = [k for k, v in row.items() if v in (None, "")]
                if missing:
                    self.add_error(f"m{i}_{missing[0]}", _("Fill in every field of this milestone, or none."))
                rows.append(row)
        return rows


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=pgettext_lazy("acceptance", "Decision"), choices=[("accept", _("Accept")), ("reject", _("Reject"))],
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class PayForm(forms.Form):
    reference = forms.CharField(label=_("Payment reference"), max_length=64, required=False)


