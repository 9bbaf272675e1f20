"""HODL: hold the initial reserves; no trading."""

from quantamm.core.rules import RuleSpec, weights_initial

RULE = RuleSpec(
    name="hodl",
    description="Holds the initial reserves; no trading.",
    pool="hodl",
    schema={},
    initial=weights_initial,
)
