from django import template

from civicgrid.procurement.conf import yuan as _yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Integer fen shown as yuan with two decimals (``123456`` -> ``1,234.56``)."""
    return "" if fen is None else _yuan(fen)
