"""civicgrid's own settings.

CIVICGRID_VULNERABILITY_RULE is the household vulnerability rule (see README and
civicgrid.engine.vulnerability): change a weight, change the version too.
"""

from civicgrid.engine.vulnerability import DEFAULT_RULE

CIVICGRID_VULNERABILITY_RULE = {
    "version": DEFAULT_RULE.version,
    "weights": dict(DEFAULT_RULE.weights),
    "income_weights": dict(DEFAULT_RULE.income_weights),
}
