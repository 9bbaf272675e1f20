"""The optax chain of gradient descent (docs/training.md §3.4-§3.6), vectorised over sets.

Chain per set: [global-norm clip] -> adam / adamw / sgd at unit rate -> times the learning-rate
schedule -> [reduce-on-plateau (adam/adamw with ``use_plateau_decay``)]. ``sgd`` goes through the
same chain (a documented fix: the reference's sgd ignored clipping and schedules) and also
follows the reference's carried rate, decayed by ``decay_lr_ratio`` when the best-parameter
tracker has not improved for ``decay_lr_plateau`` iterations (floor ``min_lr``).

Parameters and gradients are dicts ``key -> [S, ...]``; the optimiser state carries the same
leading set axis, so one set's state can be reset alone.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.contrib

from train_service.settings import GradientSettings

jax.config.update("jax_enable_x64", True)  # gradient descent runs in float64

Tree = dict[str, np.ndarray]
PLATEAU_ABSOLUTE_TOLERANCE = 1e-4


def schedule(settings: GradientSettings) -> optax.Schedule:
    """Learning rate per step: constant, cosine, exponential or warmup_cosine down to
    ``base_lr / lr_decay_ratio`` at ``n_iterations``."""
    base, n = settings.base_lr, settings.n_iterations
    low = base / settings.lr_decay_ratio
    if settings.lr_schedule_type == "cosine":
        return optax.cosine_decay_schedule(base, n, alpha=low / base)
    if settings.lr_schedule_type == "exponential":
        return optax.exponential_decay(base, 1, (low / base) ** (1.0 / n))
    if settings.lr_schedule_type == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(low, base, settings.warmup_steps, n, low)
    return optax.constant_schedule(base)


def uses_plateau_transform(settings: GradientSettings) -> bool:
    return settings.use_plateau_decay and settings.optimiser != "sgd"


def chain(settings: GradientSettings) -> optax.GradientTransformationExtraArgs:
    """The optimiser of one set (descent on the negated objective)."""
    steps = []
    if settings.use_gradient_clipping:
        steps.append(optax.clip_by_global_norm(settings.clip_norm))
    if settings.optimiser == "adamw":
        steps.append(optax.adamw(1.0, weight_decay=settings.weight_decay))
    elif settings.optimiser == "adam":
        steps.append(optax.adam(1.0))
    else:
        steps.append(optax.sgd(1.0))
    steps.append(optax.scale_by_schedule(schedule(settings)))
    if uses_plateau_transform(settings):
        steps.append(optax.contrib.reduce_on_plateau(
            factor=settings.decay_lr_ratio, patience=settings.decay_lr_plateau, rtol=0.0,
            atol=PLATEAU_ABSOLUTE_TOLERANCE, cooldown=0))
    return optax.chain(*steps)


class Optimiser:
    """``chain(settings)`` applied to all sets at once (jit-compiled, vmapped over sets)."""

    def __init__(self, settings: GradientSettings) -> None:
        self.settings = settings
        self._transform = chain(settings)
        self._schedule = schedule(settings)

        def one_set(gradient, state, params, loss, rate_scale):
            updates, state = self._transform.update(gradient, state, params, value=loss)
            updates = jax.tree_util.tree_map(lambda u: u * rate_scale, updates)
            return optax.apply_updates(params, updates), state

        self._step = jax.jit(jax.vmap(one_set, in_axes=(0, 0, 0, 0, None)))
        self._init = jax.jit(jax.vmap(self._transform.init))

    def init(self, params: Tree):
        """Fresh state for every set of ``params`` [S, ...]."""
        return self._init(params)

    def step(self, params: Tree, objective_gradients: Tree, objectives: np.ndarray, state,
             rate_scale: float = 1.0) -> tuple[Tree, object]:
        """One ascent step: new params [S, ...] and state. ``objectives`` [S] are the values
        the gradients belong to (plateau detection watches their negation)."""
        descent = {key: -np.asarray(value) for key, value in objective_gradients.items()}
        losses = jnp.asarray(-np.asarray(objectives), dtype=jnp.float32)
        new, state = self._step(descent, state, params, losses, rate_scale)
        return {key: np.array(value) for key, value in new.items()}, state

    def reset(self, state, params: Tree, sets: np.ndarray):
        """``state`` with the sets flagged in ``sets`` [S] bool re-initialised at ``params``."""
        fresh = self.init(params)

        def pick(old, new):
            mask = np.reshape(sets, (-1,) + (1,) * (np.ndim(old) - 1))
            return jnp.where(mask, new, old)

        return jax.tree_util.tree_map(pick, state, fresh)

    def learning_rate(self, state, iteration: int, rate_scale: float = 1.0) -> float:
        """The rate in use at ``iteration``: schedule x plateau scale (mean over sets) x the
        carried sgd scale."""
        rate = float(self._schedule(iteration)) * rate_scale
        if uses_plateau_transform(self.settings):
            rate *= float(np.mean(state[-1].scale))
        return rate


def state_leaves(state) -> list[np.ndarray]:
    """The optimiser state as a flat list of arrays (for checkpoints)."""
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(state)]


def state_from_leaves(template, leaves: list[np.ndarray]):
    """A state with ``template``'s structure and the stored ``leaves``."""
    structure = jax.tree_util.tree_structure(template)
    return jax.tree_util.tree_unflatten(structure, [jnp.asarray(leaf) for leaf in leaves])

