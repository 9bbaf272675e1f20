"""Reserves of a two-asset Gyroscope E-CLP pool (docs/simulation.md §6.14).

The E-CLP's trading curve is an ellipse: the unit circle stretched by ``lam`` and rotated by
``phi``, cut to the prices ``[alpha, beta]`` of token 0 in token 1 (the numeraire must be the
second token). ``A`` maps reserves onto the circle's frame; ``tau(P)`` is the point of the
circle with slope ``P``; ``chi`` the curve's offset; ``r(t)`` the invariant of reserves ``t``.
Under fee-free arbitrage the pool sits at ``r (chi - A^-1 tau(P_t))`` every minute.

Shapes: prices [L, 2] (quote currency per token), reserves [2] (token units) -> [L, 2].
``P = p0 / p1``. The invariant divides by ``|A chi|^2 - 1``, often tiny: every formula keeps the
reference's operation order (matrix-vector products, then dot products, then the square root).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array, lax

from sim_service.engine import fee_reserves
from sim_service.engine.fee_reserves import Costs, DynamicInputs

FIT_GRID_POINTS = 10
FIT_STEPS = 10_000
FIT_STEP_SIZE = 1e-3
FIT_WEIGHT_PENALTY = 1e6
SOFTPLUS_LINEAR_ABOVE = 30.0


class EclpParams(NamedTuple):
    """E-CLP geometry (scalars): price bounds alpha < beta of token 0 in token 1, rotation phi
    (radians), stretch lam > 1."""

    alpha: Array | float
    beta: Array | float
    phi: Array | float
    lam: Array | float


class GyroSettings(NamedTuple):
    """Scalar fee settings of an E-CLP run (hashable). fees: swap fee (gamma = 1 - fees);
    gas_cost: quote currency per arbitrage; arb_fees: the arbitrageur's external cost rate."""

    fees: float = 0.0
    gas_cost: float = 0.0
    arb_fees: float = 0.0

    @property
    def uses_fee_path(self) -> bool:
        """Whether the with-fees path runs (docs/simulation.md §6.2): any setting > 0."""
        return self.fees > 0 or self.gas_cost > 0 or self.arb_fees > 0


class Geometry(NamedTuple):
    """Derived E-CLP quantities of one parameter set."""

    a: Array  # [2, 2] A = [[c/lam, -s/lam], [s, c]]
    a_inv: Array  # [2, 2] A^-1 = [[c lam, s], [-s lam, c]]
    chi: Array  # [2] ((A^-1 tau(beta))_0, (A^-1 tau(alpha))_1)


def tau(price: Array | float, a: Array) -> Array:
    """Point [2] of the unit circle with slope ``price``: ``z = A (-1, P)``, ``zeta = z1 / -z0``,
    ``(zeta, 1) / sqrt(1 + zeta^2)``."""
    z = a @ jnp.stack([-1.0, jnp.asarray(price, dtype=a.dtype)])
    zeta = z[1] / -z[0]
    return (1.0 / jnp.sqrt(1.0 + zeta**2)) * jnp.stack([zeta, 1.0])


def geometry(params: EclpParams) -> Geometry:
    """A, A^-1 and chi of ``params``."""
    c, s, lam = jnp.cos(params.phi), jnp.sin(params.phi), jnp.asarray(params.lam)
    a = jnp.stack([jnp.stack([c / lam, -s / lam]), jnp.stack([s, c])])
    a_inv = jnp.stack([jnp.stack([c * lam, s]), jnp.stack([-s * lam, c])])
    chi = jnp.stack([(a_inv @ tau(params.beta, a))[0], (a_inv @ tau(params.alpha, a))[1]])
    return Geometry(a, a_inv, chi)


def invariant(reserves: Array, geom: Geometry) -> Array:
    """r(t) (scalar) with ``u = A chi``, ``y = A t``:
    ``(y.u + sqrt((y.u)^2 - (|u|^2 - 1)|y|^2)) / (|u|^2 - 1)``."""
    u = geom.a @ geom.chi
    y = geom.a @ reserves
    uu, yy, yu = jnp.dot(u, u), jnp.dot(y, y), jnp.dot(y, u)
    # ``** 2.0`` (a pow, not a multiply) rounds as the reference does.
    return (yu + jnp.sqrt(yu**2.0 - (uu - 1.0) * yy)) / (uu - 1.0)


def unit_reserves(price: Array, geom: Geometry) -> Array:
    """Reserves [2] per unit invariant at ``price`` (token 0 in token 1): ``chi - A^-1 tau(P)``."""
    return geom.chi - geom.a_inv @ tau(price, geom.a)


def eclp_initial_reserves(params: EclpParams, first_prices: Array, pool_value: float) -> Array:
    """R_0 [2]: the unit-invariant reserves at the first price ``p0 / p1`` (prices [2]), scaled
    to value ``pool_value``."""
    unit = unit_reserves(first_prices[0] / first_prices[1], geometry(params))
    return unit * (pool_value / jnp.dot(unit, first_prices))


def rejected_if_negative(before: Array, after: Array) -> Array:
    """``after`` [2], or ``before`` when a component of ``after`` is negative."""
    return jnp.where((after[0] < 0) | (after[1] < 0), before, after)


def zero_fee_step(reserves: Array, prices: Array, geom: Geometry) -> Array:
    """Fee-free arbitrage to ``prices`` [2]: ``r(R)(chi - A^-1 tau(P))`` (kept if negative)."""
    trade = invariant(reserves, geom) * unit_reserves(prices[0] / prices[1], geom) - reserves
    return rejected_if_negative(reserves, reserves + trade)


def fee_step(reserves: Array, prices: Array, costs: Costs, geom: Geometry) -> Array:
    """Arbitrage with fee gamma, gas and arb fees at ``prices`` [2] -> reserves [2].

    **Quirk** (reference): the pool's "current price" is the reserve ratio ``R1 / R0``, not the
    E-CLP marginal price. Below ``P gamma`` the pool is moved to ``P gamma`` and the inbound
    token 1 grossed up by 1/gamma; above ``P / gamma`` to ``P / gamma`` with token 0 grossed up;
    in between nothing trades. Gated by ``profit - gas >= arb_fees/2 sum |trade| p``; a negative
    result is rejected.
    """
    gamma = costs.gamma
    ratio = reserves[1] / reserves[0]
    market = prices[0] / prices[1]
    low, high = market * gamma, market / gamma
    below, above = ratio <= low, high <= ratio
    effective = jnp.where(above, high, jnp.where(below, low, ratio))
    move = invariant(reserves, geom) * unit_reserves(effective, geom) - reserves
    trade = jnp.where(
        above,
        move * jnp.stack([1.0 / gamma, 1.0]),
        jnp.where(below, move * jnp.stack([1.0, 1.0 / gamma]), 0.0),
    )
    profit = -jnp.sum(trade * prices) - costs.gas_cost
    cost = 0.5 * costs.arb_fees * jnp.sum(jnp.abs(trade) * prices)
    after = jnp.where(profit >= cost, reserves + trade, reserves)
    return rejected_if_negative(reserves, after)


def trade_change(reserves: Array, trade: Array, gamma: Array | float, geom: Geometry) -> Array:
    """Reserve change [2] of a provided trade (token in, token out, amount in) [3].

    As in the reference (not an invariant-preserving swap): with shifted reserves
    ``t' = R - r(R) chi`` the amount out is ``t'_in + gamma a - t'_out``; amount 0 -> no change.
    """
    token_in, token_out = trade[0].astype(jnp.int32), trade[1].astype(jnp.int32)
    amount = trade[2]
    shifted = reserves - invariant(reserves, geom) * geom.chi
    amount_out = (shifted[token_in] + amount * gamma) - shifted[token_out]
    tokens = jnp.arange(2)
    change = jnp.where(tokens == token_out, -amount_out, jnp.where(tokens == token_in, amount, 0.0))
    return jnp.where(amount != 0, change, 0.0)


def gyroscope_reserves(
    prices: Array,
    params: EclpParams,
    initial_reserves: Array,
    settings: GyroSettings,
    dynamic: DynamicInputs | None = None,
) -> Array:
    """Reserves [L, 2] of an E-CLP at prices [L, 2] (numeraire second) from R_0 [2].

    Path (docs/simulation.md §6.2): ``dynamic`` given -> per minute the fee step at gamma_t
    (gamma_t = 1 is the
    gated fee-free move), then the minute's trade (rejected if a reserve turns negative);
    else fees, gas or arb fees > 0 -> ``fee_step``; else ``zero_fee_step``. Every minute,
    including the first, is arbitraged.
    """
    geom = geometry(params)
    if dynamic is not None:
        return _gyroscope_dynamic(prices, geom, initial_reserves, settings, dynamic)
    if settings.uses_fee_path:
        gamma = 1.0 - settings.fees
        costs = Costs(gamma, settings.gas_cost, settings.arb_fees, gamma)
        step = functools.partial(fee_step, costs=costs, geom=geom)
    else:
        step = functools.partial(zero_fee_step, geom=geom)

    def minute(reserves, p):
        reserves = step(reserves, p)
        return reserves, reserves

    return lax.scan(minute, initial_reserves, prices)[1]


def _gyroscope_dynamic(
    prices: Array,
    geom: Geometry,
    initial_reserves: Array,
    settings: GyroSettings,
    dynamic: DynamicInputs,
) -> Array:
    """docs/simulation.md §6.7 for the E-CLP; ``do_arb`` [L] (an extension: the reference has no
    such switch
    here) gates each minute's arbitrage, not its trade."""
    if dynamic.lp_supply is not None:
        raise ValueError("Gyroscope pools take no LP supply series")
    length = prices.shape[0]
    plain = fee_reserves.FeeSettings(settings.fees, settings.gas_cost, settings.arb_fees)
    costs = fee_reserves.dynamic_costs(dynamic, plain, length)

    def minute(reserves, row):
        p, cost, trade = row
        after = jnp.where(cost.do_arb, fee_step(reserves, p, cost, geom), reserves)
        if trade is not None:
            after = rejected_if_negative(
                after, after + trade_change(after, trade, cost.gamma, geom)
            )
        return after, after

    rows = (prices, costs, dynamic.trades)
    return lax.scan(minute, initial_reserves, rows)[1]


def gyroscope_pool_reserves(
    prices: Array,
    params: EclpParams,
    pool_value: float,
    settings: GyroSettings,
    numeraire_first: bool = False,
    dynamic: DynamicInputs | None = None,
    target_weights: Array | None = None,
) -> Array:
    """Reserves [L, 2] in sorted token order of an E-CLP worth ``pool_value`` at prices[0].

    ``numeraire_first``: the numeraire (docs/simulation.md §1.1) is the first sorted token, so
    prices (and trade
    indices) are swapped for the computation and the reserves swapped back. **Quirk**
    (reference): the static with-fees path computes on the *unswapped* prices and only flips the
    result. ``target_weights`` [2] (softmax of ``initial_weights_logits``): (lam, phi) are fitted
    to the numeraire-ordered first-token weight at the first computed price.
    """
    swap = numeraire_first and (dynamic is not None or not settings.uses_fee_path)
    work = prices[:, ::-1] if swap else prices
    if target_weights is not None:
        target = target_weights[1] if numeraire_first else target_weights[0]
        lam, tan_phi = fit_eclp_to_weight(target, work[0], pool_value, params.alpha, params.beta)
        params = params._replace(lam=lam, phi=jnp.arctan(tan_phi))
    if swap and dynamic is not None and dynamic.trades is not None:
        trades = dynamic.trades.at[:, :2].set(1 - dynamic.trades[:, :2])
        dynamic = dynamic._replace(trades=trades)
    start = eclp_initial_reserves(params, work[0], pool_value)
    reserves = gyroscope_reserves(work, params, start, settings, dynamic)
    return reserves[:, ::-1] if numeraire_first else reserves


def value_shares(reserves: Array, prices: Array) -> Array:
    """Empirical weights [L, 2]: ``R p / sum R p`` per minute (the pool's "weights" output is
    this for the zero-fee reserves, ``gyroscope_pool_reserves(..., GyroSettings())``)."""
    value = reserves * prices
    return value / jnp.sum(value, axis=-1, keepdims=True)


# --------------------------------------------------------------------------- weight fitting


def _softplus(x: Array) -> Array:
    """softplus, the identity above 30."""
    return jnp.where(x > SOFTPLUS_LINEAR_ABOVE, x, jax.nn.softplus(x))


def _inverse_softplus(y: Array) -> Array:
    """log(e^y - 1), the identity above 30."""
    return jnp.where(y > SOFTPLUS_LINEAR_ABOVE, y, jnp.log(jnp.exp(y) - 1.0))


def first_token_weight(
    lam: Array,
    tan_phi: Array,
    first_prices: Array,
    pool_value: float,
    alpha: Array | float,
    beta: Array | float,
) -> Array:
    """Value share of token 0 (scalar) in a fresh pool with (lam, tan phi) at prices [2]."""
    params = EclpParams(alpha, beta, jnp.arctan(tan_phi), lam)
    value = eclp_initial_reserves(params, first_prices, pool_value) * first_prices
    return value[0] / jnp.sum(value)


def fit_eclp_to_weight(
    target_weight: Array | float,
    first_prices: Array,
    pool_value: float,
    alpha: Array | float,
    beta: Array | float,
    n_steps: int = FIT_STEPS,
    step_size: float = FIT_STEP_SIZE,
) -> tuple[Array, Array]:
    """(lam, tan phi) whose fresh pool holds ``target_weight`` of its value in token 0.

    Grid of 10 x 10 geomspace points lam in [1.1, beta^2], tan phi in [alpha/2, 1.5 beta]; the
    closest point seeds ``n_steps`` gradient steps on ``1e6 (weight - target)^2 +
    sqrt(lam^2 + tan^2 phi)`` in softplus coordinates (lam = 1 + sp(x0), tan phi = sp(x1)); the
    grid point is kept unless descent ends strictly closer to the target weight.
    """
    weight = functools.partial(
        first_token_weight, first_prices=first_prices, pool_value=pool_value, alpha=alpha, beta=beta
    )
    lams = jnp.geomspace(1.1, beta**2.0, FIT_GRID_POINTS)
    tans = jnp.geomspace(alpha * 0.5, beta * 1.5, FIT_GRID_POINTS)
    grid = jax.vmap(jax.vmap(weight, in_axes=(None, 0)), in_axes=(0, None))(lams, tans)
    i, j = jnp.unravel_index(jnp.argmin(jnp.abs(grid - target_weight)), grid.shape)
    seed = jnp.stack([lams[i], tans[j]])

    def constrained(x: Array) -> Array:
        return jnp.stack([1.0 + _softplus(x[0]), _softplus(x[1])])

    def loss(x: Array) -> Array:
        lam, tan_phi = constrained(x)
        error = (weight(lam, tan_phi) - target_weight) ** 2
        return FIT_WEIGHT_PENALTY * error + jnp.sqrt(lam**2 + tan_phi**2)

    def descend(_: int, x: Array) -> Array:
        return x - step_size * jax.grad(loss)(x)

    start = jnp.stack([_inverse_softplus(seed[0] - 1.0), _inverse_softplus(seed[1])])
    fitted = constrained(lax.fori_loop(0, n_steps, descend, start))
    improved = jnp.abs(weight(*fitted) - target_weight) < jnp.abs(grid[i, j] - target_weight)
    best = jnp.where(improved, fitted, seed)
    return best[0], best[1]
