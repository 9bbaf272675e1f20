"""Pool classes with the reference's method names, as thin wrappers over the pure engine.

``run_fingerprint`` is the reference's settings dict (missing keys take the defaults); it must
also carry ``bout_length`` (timestamps in the window, i.e. simulated minutes + 1) for the methods
that produce minute weights. ``prices`` is the whole minute array [T, n] (burn-in included) and
``start_index`` the window's first row in it. ``additional_oracle_input`` is accepted for
signature compatibility and unused by these rules.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import jax.numpy as jnp
from jax import Array

from quantamm.core import parameters
from quantamm.core.runs import RunSpec
from quantamm.core.rules import ParamSpec
from sim_service.engine import rules, simulation, weights
from sim_service.engine.config import configure
from sim_service.engine.rules import min_variance

Params = Mapping[str, Array]


# Settings the engine does not implement yet: refused when not zero, never ignored.
NOT_IMPLEMENTED = ("turnover_penalty", "price_noise_sigma")


def run_spec(run_fingerprint: Mapping[str, Any] | RunSpec) -> RunSpec:
    """A RunSpec of a (possibly partial) reference fingerprint; a spec as it is."""
    if isinstance(run_fingerprint, RunSpec):
        return run_fingerprint
    return RunSpec.from_settings({k: v for k, v in run_fingerprint.items() if k != "bout_length"})


def sim_config(
    run_fingerprint: Mapping[str, Any] | RunSpec, n_assets: int, bout_length: int | None = None
) -> simulation.SimConfig:
    """SimConfig of a run spec or a (possibly partial) fingerprint; ``bout_length`` defaults to
    the fingerprint's key. NotImplementedError names a setting the engine does not implement."""
    spec = run_spec(run_fingerprint)
    if bout_length is None and isinstance(run_fingerprint, Mapping):
        bout_length = run_fingerprint.get("bout_length")
    if bout_length is None:
        raise ValueError("run_fingerprint needs 'bout_length' (window timestamps) here")
    for key in NOT_IMPLEMENTED:
        if getattr(spec, key) != 0:
            raise NotImplementedError(f"{key}: non-zero values are not supported yet")
    return simulation.SimConfig(
        rule=spec.rule,
        n_assets=n_assets,
        bout_length=int(bout_length),
        chunk_period=int(spec.chunk_period),
        weight_interpolation_period=int(spec.weight_interpolation_period),
        weight_interpolation_method=spec.weight_interpolation_method,
        maximum_change=float(spec.maximum_change),
        minimum_weight=spec.minimum_weight,
        max_memory_days=float(spec.max_memory_days),
        use_alt_lamb=bool(spec.use_alt_lamb),
        use_pre_exp_scaling=bool(spec.use_pre_exp_scaling),
        ste_max_change=bool(spec.ste_max_change),
        ste_min_max_weight=bool(spec.ste_min_max_weight),
        initial_pool_value=float(spec.initial_pool_value),
        arb_frequency=int(spec.arb_frequency),
        do_arb=bool(spec.do_arb),
        return_val=spec.return_val,
        use_fused_reserves=bool(spec.use_fused_reserves),
        weight_rule_causal=bool(spec.weight_rule_causal),
        fees=float(spec.fees),
        gas_cost=float(spec.gas_cost),
        arb_fees=float(spec.arb_fees),
        noise_trader_ratio=float(spec.noise_trader_ratio),
        protocol_fee_split=float(spec.protocol_fee_split),
        arb_quality=float(spec.arb_quality),
        numeraire_first=spec.numeraire is not None and spec.numeraire == spec.tokens[0],
    )


def _rule_settings(run_fingerprint: Mapping[str, Any] | RunSpec) -> rules.RuleSettings:
    spec = run_spec(run_fingerprint)
    return rules.RuleSettings(int(spec.chunk_period), float(spec.max_memory_days),
                              bool(spec.use_alt_lamb), bool(spec.use_pre_exp_scaling))


class Pool:
    """A pool of one rule; subclasses set ``RULE``."""

    RULE: ClassVar[str]
    PARAM_SCHEMA: ClassVar[dict[str, ParamSpec]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if hasattr(cls, "RULE"):
            cls.PARAM_SCHEMA = rules.get(cls.RULE).param_schema

    @classmethod
    def get_param_schema(cls) -> dict[str, ParamSpec]:
        """The pool's schema merged with the common entries."""
        return rules.get(cls.RULE).param_schema

    def __init__(self) -> None:
        configure()  # an in-process entry point: float64 before the first array

    def _own_rule(self, run_fingerprint: Mapping[str, Any]) -> dict[str, Any]:
        """``run_fingerprint`` with this pool's rule: a pool object computes its own rule,
        whatever (or whether) the fingerprint names one."""
        return {**run_fingerprint, "rule": self.RULE}

    def init_base_parameters(
        self,
        initial_values_dict: Mapping[str, Any],
        run_fingerprint: Mapping[str, Any],
        n_assets: int,
        n_parameter_sets: int = 1,
        noise: str = "gaussian",
    ) -> dict[str, Array]:
        """Initial parameter sets [n_parameter_sets, n] per key, sets 1.. perturbed."""
        spec = run_spec(run_fingerprint)
        params = parameters.init_base_parameters(
            rules.get(self.RULE), initial_values_dict, {"chunk_period": spec.chunk_period},
            n_assets, n_parameter_sets, noise
        )
        return {key: jnp.asarray(value) for key, value in params.items()}

    def init_parameters(
        self,
        initial_values_dict: Mapping[str, Any],
        run_fingerprint: Mapping[str, Any],
        n_assets: int,
        n_parameter_sets: int = 1,
        noise: str = "gaussian",
    ) -> dict[str, Any]:
        """The reference's pool entry point: ``init_base_parameters`` plus its (unused, never
        perturbed) ``subsidary_params: []`` entry. The other pool methods accept the result."""
        params: dict[str, Any] = self.init_base_parameters(
            initial_values_dict, run_fingerprint, n_assets, n_parameter_sets, noise)
        params["subsidary_params"] = []
        return params

    def calculate_weights(
        self,
        params: Params,
        run_fingerprint: Mapping[str, Any],
        prices: Array,
        start_index: int = 0,
        additional_oracle_input: Array | None = None,
    ) -> Array:
        """Minute weights [bout_length - 1, n] of the window starting at ``start_index``."""
        config = sim_config(self._own_rule(run_fingerprint), prices.shape[1])
        return simulation.window_weights(params, jnp.asarray(prices), start_index, config)


class TFMMPool(Pool):
    """A pool whose weights follow a rule of the price history."""

    def calculate_rule_outputs(
        self,
        params: Params,
        run_fingerprint: Mapping[str, Any],
        prices: Array,
        additional_oracle_input: Array | None = None,
    ) -> Array:
        """Raw outputs [K - 1, n] over the whole array (chunk k = minute k * chunk_period)."""
        chunk_period = _rule_settings(run_fingerprint).chunk_period
        chunk_prices = jnp.asarray(prices)[::chunk_period]
        return rules.rule_outputs(self.RULE, params, _rule_settings(run_fingerprint), chunk_prices)

    def calculate_fine_weights(
        self,
        rule_output: Array,
        initial_weights: Array,
        run_fingerprint: Mapping[str, Any],
        params: Params,
    ) -> Array:
        """Minute weights from the window's raw outputs [n_c, n] (untruncated blocks; weight
        rules ignore ``initial_weights`` and start from the guardrailed first output)."""
        config = sim_config(self._own_rule(run_fingerprint), rule_output.shape[1], bout_length=3)
        outputs = jnp.asarray(rule_output)
        if not config.outputs_weights:
            return weights.fine_weights(outputs, jnp.asarray(initial_weights), config.weight_settings)
        smoothing = min_variance.smoothing_lamb(params, config.rule_settings)
        start = weights.weight_rule_start(outputs[0], config.weight_settings, smoothing)
        return weights.fine_weights(outputs, start, config.weight_settings, smoothing, False)

    def get_initial_rule_state(
        self, initial_price: Array, params: Params, run_fingerprint: Mapping[str, Any]
    ) -> dict[str, Array]:
        """Carry before the first chunk step (momentum family: ewma at the price, running_a 0)."""
        kernel = rules.rule_kernel(self.RULE, params, _rule_settings(run_fingerprint))
        return kernel.init(jnp.asarray(initial_price))._asdict()

    def calculate_rule_output_step(
        self,
        carry: Mapping[str, Array],
        price: Array,
        params: Params,
        run_fingerprint: Mapping[str, Any],
    ) -> tuple[dict[str, Array], Array]:
        """One chunk: (carry, price [n]) -> (new carry, raw output [n])."""
        kernel = rules.rule_kernel(self.RULE, params, _rule_settings(run_fingerprint))
        state_type = type(kernel.init(jnp.asarray(price)))
        state, output = kernel.step(state_type(**carry), jnp.asarray(price))
        return state._asdict(), output


class GradientRulePool(TFMMPool):
    """Momentum-family pools: a price-gradient estimator with readouts."""

    def calculate_readouts(
        self,
        params: Params,
        run_fingerprint: Mapping[str, Any],
        prices: Array,
        start_index: int,
        additional_oracle_input: Array | None = None,
    ) -> dict[str, Array]:
        """{gradients, ewma, running_a}, each [n_c, n], sliced like the window's rule outputs."""
        config = sim_config(self._own_rule(run_fingerprint), prices.shape[1])
        return simulation.readouts(params, jnp.asarray(prices), start_index, config)


class MomentumPool(GradientRulePool):
    RULE = "momentum"


class AntiMomentumPool(GradientRulePool):
    RULE = "anti_momentum"


class PowerChannelPool(GradientRulePool):
    RULE = "power_channel"


class MeanReversionChannelPool(GradientRulePool):
    RULE = "mean_reversion_channel"


class DifferenceMomentumPool(TFMMPool):
    RULE = "difference_momentum"


class MinVariancePool(TFMMPool):
    RULE = "min_variance"


class BalancerPool(Pool):
    """Fixed-weight G3M pool (weights = softmax of initial_weights_logits)."""

    RULE = "balancer"


class HODLPool(Pool):
    """No trading: the initial reserves are held."""

    RULE = "hodl"


class CowPool(Pool):
    """CoW AMM (FM-AMM), two tokens; ``arb_quality`` blends its two arbitrage models."""

    RULE = "cow"


class GyroscopePool(Pool):
    """Gyroscope E-CLP, two tokens; params ``alpha`` < ``beta`` (price bounds of the first token
    in the second), ``phi`` (rotation), ``lam`` (stretch)."""

    RULE = "gyroscope"


POOLS: dict[str, type[Pool]] = {
    cls.RULE: cls
    for cls in (
        MomentumPool,
        AntiMomentumPool,
        PowerChannelPool,
        MeanReversionChannelPool,
        DifferenceMomentumPool,
        MinVariancePool,
        BalancerPool,
        HODLPool,
        CowPool,
        GyroscopePool,
    )
}


def create_pool(rule: str) -> Pool:
    """The pool object of a rule name (a registered rule without a named class gets one of
    its kind)."""
    if rule in POOLS:
        return POOLS[rule]()
    spec = rules.get(rule)  # ValueError naming the valid rules
    base = Pool if spec.pool != "tfmm" else GradientRulePool if spec.has_readouts else TFMMPool
    return type(f"{rule.title().replace('_', '')}Pool", (base,), {"RULE": rule})()
