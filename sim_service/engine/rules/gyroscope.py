"""Gyroscope E-CLP: two tokens, a price range and an ellipse (reserves in ``engine/gyroscope.py``).

The geometry (alpha < beta, phi, lam) has no initial values: every parameter set gives it.
"""

from quantamm.core.rules import RuleSpec, no_initial

RULE = RuleSpec(
    name="gyroscope",
    description="Gyroscope E-CLP, two tokens: params alpha < beta (price bounds), phi, lam.",
    pool="gyroscope",
    schema={},
    initial=no_initial,
    alternative_keys=frozenset({"alpha", "beta", "phi", "lam", "initial_weights_logits"}),
    required_keys=("alpha", "beta", "phi", "lam"),
    n_assets=2,
    common_params=False,
)
