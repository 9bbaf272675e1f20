"""Balancer: fixed weights (the softmax of the initial weight logits)."""

from quantamm.core.rules import RuleSpec, weights_initial

RULE = RuleSpec(
    name="balancer",
    description="Fixed weights (softmax of initial_weights_logits).",
    pool="balancer",
    schema={},
    initial=weights_initial,
)
