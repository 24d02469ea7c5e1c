"""Field rules shared by the importer, the forms and the API, so each value is judged one way."""

from __future__ import annotations

import operator
import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHT_SUM = sum(_ID_WEIGHTS)
_ID_CHECK = "10X98765432"
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
TRUE = {"1", "true", "yes", "y", "是", "t"}
FALSE = {"0", "false", "no", "n", "否", "f", ""}


def validate_id_number(value: str) -> str:
    """A mainland resident ID number (GB 11643-1999): 17 digits and a check character."""
    value = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(_("An ID number has 18 characters: 17 digits and a digit or X."))
    # the weighted sum of the 17 digits, from their ASCII codes (48 is "0"): fast for a district's import
    check = _ID_CHECK[(sum(map(operator.mul, value[:17].encode(), _ID_WEIGHTS)) - 48 * _ID_WEIGHT_SUM) % 11]
    if value[17] != check:
        raise ValidationError(_("The ID number's check character is wrong; please re-enter it."))
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(_("The ID number holds an impossible birth date.")) from None
    return value


def id_number_birth_date(value: str) -> date:
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def validate_phone(value: str) -> str:
    value = value.strip().replace(" ", "")
    if value and not _PHONE.fullmatch(value):
        raise ValidationError(_("Enter an 11-digit mobile number or a landline such as 028-12345678."))
    return value


def validate_birth_date(value: date) -> date:
    if value > date.today():
        raise ValidationError(_("The birth date is in the future."))
    if value.year < 1900:
        raise ValidationError(_("The birth date is before 1900."))
    return value


def parse_date(value: str) -> date:
    try:
        return validate_birth_date(date.fromisoformat(value.strip()))
    except ValueError:
        raise ValidationError(_("Expected a date as YYYY-MM-DD.")) from None


def parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise ValidationError(_("Expected 1 or 0 (yes/no)."))


def validate_disability_grade(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 4:
        raise ValidationError(_("Disability grades run from 1 (most severe) to 4."))
    return value
