"""A StartJobRequest resolved into what a training run needs: settings with defaults, the
window layout, the rule's schema and the starting parameter sets (all validated up front, so a
bad request is refused by StartJob rather than failing later)."""

from __future__ import annotations

import dataclasses

import numpy as np

from quantamm.core.vocabulary import PERIOD_METRICS, RETURN_VALS, choice_problem, period_metric_of
from quantamm.wire import fingerprints
from quantamm_api.v1 import training_pb2, types_pb2
from train_service import parameters, search_space, windows
from train_service import settings as settings_module
from train_service.errors import invalid
from train_service.parameters import Params
from train_service.settings import Settings
from train_service.simclient import SimClient

@dataclasses.dataclass(frozen=True)
class Problem:
    """A validated job. ``base`` is the canonical starting set (one set, [n] per key, [1] for
    keys shared across assets); ``trainable`` the keys gradient descent updates."""

    dataset: str
    fingerprint: types_pb2.RunFingerprint
    settings: Settings
    layout: windows.Layout
    rule: types_pb2.RuleInfo
    chunk_period: int
    n_assets: int
    base: Params
    trainable: tuple[str, ...]
    shared: frozenset[str]
    given_sets: tuple[Params, ...]
    dimensions: tuple[search_space.Dimension, ...]

    @property
    def training_fingerprint(self) -> types_pb2.RunFingerprint:
        """The fingerprint without its test period: windows can never reach test minutes."""
        fp = types_pb2.RunFingerprint()
        fp.CopyFrom(self.fingerprint)
        fp.ClearField("end_test_time")
        return fp

    @property
    def start(self) -> Params:
        """The first given set, else ``base`` (the centre of ``expand_around``)."""
        return self.given_sets[0] if self.given_sets else self.base

    @property
    def return_val(self) -> str:
        return return_val_of(self.fingerprint)

    def starting_sets(self) -> Params:
        """[S, n] per key: the given sets, or ``base`` replicated, sets 1.. perturbed with
        ``noise_scale`` (a single given set is a warm start and is perturbed the same way)."""
        n_sets = self.settings.n_parameter_sets
        if len(self.given_sets) == n_sets:
            return {key: np.stack([s[key] for s in self.given_sets]) for key in self.base}
        return parameters.perturb(parameters.stack(self.start, n_sets, self.shared),
                                  list(self.trainable), self.settings.parameter_init_method,
                                  self.settings.noise_scale, self.settings.seed)


def return_val_of(fp: types_pb2.RunFingerprint) -> str:
    """The objective metric of a fingerprint (the default when unset)."""
    return fingerprints.setting(fp, "return_val")


def _given_set(message: types_pb2.ParameterSet, base: Params, field: str) -> Params:
    given = parameters.from_proto(message, field)
    for key, value in given.items():
        if key not in base:
            raise invalid(f"{field}.values[{key!r}]",
                          f"not a parameter of this rule; valid: {', '.join(sorted(base))}")
        if value.size not in (1, base[key].size) or not np.all(np.isfinite(value)):
            raise invalid(f"{field}.values[{key!r}]",
                          f"give 1 or {base[key].size} finite values, got {value.size}")
    return {key: np.broadcast_to(np.asarray(given[key]).reshape(-1)[0] if given[key].size == 1
                                 else np.asarray(given[key]).reshape(value.shape),
                                 value.shape).copy() if key in given else value.copy()
            for key, value in base.items()}


def _search_dimensions(fp: types_pb2.RunFingerprint, resolved: Settings,
                       rule: types_pb2.RuleInfo, start: Params,
                       chunk: int) -> tuple[search_space.Dimension, ...]:
    search = resolved.search
    max_days = float(fingerprints.setting(fp, "max_memory_days"))
    context = search_space.Context(rule, start, resolved.initial_values, chunk, max_days)
    dims = tuple(search_space.dimensions(context, search, fp.use_alt_lamb))
    if not dims:
        raise invalid("settings.optuna.parameter_config", f"{fp.rule} has nothing to search")
    return_val = return_val_of(fp)
    needs_validation = search.overfitting_penalty > 0 or search.early_stopping
    if needs_validation and period_metric_of(return_val) not in PERIOD_METRICS:
        raise invalid("fingerprint.return_val", f"{return_val} is not reported per period, so it "
                      "has no validation value for the overfitting penalty or early stopping")
    return dims


def prepare(request: training_pb2.StartJobRequest, sim: SimClient) -> Problem:
    """The validated problem of a request (INVALID_ARGUMENT naming the field otherwise)."""
    fp = request.fingerprint
    n_assets = len(fp.tokens)
    if n_assets < 2 or len(set(fp.tokens)) != n_assets:
        raise invalid("fingerprint.tokens", "name at least two distinct tokens")
    rule = sim.rule(fp.rule)
    if problem := choice_problem(return_val_of(fp), RETURN_VALS, "return_val"):
        raise invalid("fingerprint.return_val", problem)
    resolved = settings_module.resolve(request.settings, n_assets)
    layout = windows.layout(fp, resolved.bout_offset_minutes, resolved.val_fraction)
    chunk = int(fingerprints.setting(fp, "chunk_period"))
    full = sim.initial_parameters(fp.rule, n_assets, chunk, resolved.initial_values)
    shared = set(rule.scalar_keys) & set(full) if resolved.gradient.force_scalar else set()
    base = {key: value[:1] if key in shared else value for key, value in full.items()}
    trainable = tuple(spec.name for spec in rule.params if spec.trainable and spec.name in base)
    if resolved.method == settings_module.GRADIENT_DESCENT and not trainable:
        raise invalid("fingerprint.rule", f"{fp.rule} has no trainable parameters")
    given = tuple(_given_set(s, base, f"initial_parameters[{i}]")
                  for i, s in enumerate(request.initial_parameters))
    if len(given) not in (0, 1, resolved.n_parameter_sets):
        raise invalid("initial_parameters", f"give 1 or n_parameter_sets "
                      f"({resolved.n_parameter_sets}) sets, got {len(given)}")
    dims = () if resolved.method != settings_module.OPTUNA else \
        _search_dimensions(fp, resolved, rule, given[0] if given else base, chunk)
    return Problem(request.dataset or "default", fp, resolved, layout, rule, chunk, n_assets,
                   base, trainable, frozenset(shared), given, dims)
