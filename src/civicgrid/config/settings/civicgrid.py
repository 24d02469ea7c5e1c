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

# A household counts as "vulnerable" in group reports (relief coverage, governance stress tests, the
# CREI equity gaps) when its vulnerability score reaches this value: by the default rule, one resident
# aged 80+, living alone, severely disabled, pregnant, under 3 or with limited mobility (0.3 or more),
# but not a chronic illness alone (0.1).
CIVICGRID_VULNERABLE_SCORE = 0.3
