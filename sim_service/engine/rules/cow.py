"""CoW AMM (FM-AMM): two tokens, batch-auction arbitrage (reserves in ``engine/cow.py``)."""

from quantamm.core.rules import RuleSpec, weights_initial

RULE = RuleSpec(
    name="cow",
    description="CoW AMM (FM-AMM), two tokens, batch-auction arbitrage (arb_quality blends models).",
    pool="cow",
    schema={},
    initial=weights_initial,
    n_assets=2,
)
