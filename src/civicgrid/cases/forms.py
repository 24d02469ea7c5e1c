"""Case forms: errors show next to their fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import selectors
from civicgrid.cases.models import Case, CaseCategory
from civicgrid.cases.selectors import handler_candidates
from civicgrid.core.scoping import Scope
from civicgrid.registry.models import Actor, Place


class CaseReportForm(forms.Form):
    category = forms.ModelChoiceField(label=_("category"), queryset=CaseCategory.objects.none())
    place: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("place"), queryset=Place.objects.none(), required=False, help_text=_("the grid or building where it is"))
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=4000)
    photo = forms.FileField(label=_("photo (optional)"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}))

    def __init__(self, *args: Any, scope: Scope, resident: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        category.queryset = selectors.categories()  # type: ignore[attr-defined]
        category.label_from_instance = lambda c: f"{c.name} ({c.time_limit_hours} h)"  # type: ignore[attr-defined]
        if resident:  # a resident reports at home: their building
            del self.fields["place"]
        else:
            place = self.fields["place"]
            place.queryset = selectors.report_places(scope=scope)  # type: ignore[attr-defined]
            place.required = True
            place.label_from_instance = lambda p: f"{p.name} ({p.get_level_display()} {p.code})"  # type: ignore[attr-defined]


class CaseActionForm(forms.Form):
    note = forms.CharField(label=_("reason or note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           max_length=2000)
    handler: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("handling actor"), queryset=Actor.objects.none(), required=False)
    rating = forms.TypedChoiceField(label=_("satisfaction"), required=False, coerce=int, empty_value=None,
                                    choices=[("", "-")] + [(str(i), str(i)) for i in range(5, 0, -1)])

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        handler = self.fields["handler"]
        handler.queryset = handler_candidates(case)  # type: ignore[attr-defined]
        handler.label_from_instance = lambda a: f"{a.name} ({a.get_sector_display()})"  # type: ignore[attr-defined]
