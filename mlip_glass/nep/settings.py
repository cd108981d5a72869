"""Typed NEP training settings → ``nep.in`` with every keyword explicit, and back.

The paper (arXiv:2501.00589, SPEC §6) trains NEP4 with GPUMD's defaults except ``zbl 1.8``,
``cutoff 6.5 4``, ``basis_size 8 8``, ``neuron 30`` and ``generation 100000``. GPUMD's documentation and
its source disagree on some defaults over versions (``n_max`` 4 4 in the documentation vs 6 6 in recent
``parameters.cu``; ``basis_size`` 8 8 vs 6 6; ``lambda_1``/``lambda_2`` 0.05 in old documentation vs
the automatic ``sqrt(N_par * 1e-6 / N_types)`` of the source). We therefore write **every** keyword
explicitly; the automatic regularisation weights are computed with GPUMD's formula and written as numbers.
The text of the nep.in actually used is stored with each model.

All paper numbers live in the ``PAPER_*`` / ``GPUMD_*`` constants below (one place each) and are the
defaults of :class:`NEPSettings`, overridable per field.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, cast

from mlip_glass.errors import MLIPGlassError

# --- paper numbers (SPEC §6) -------------------------------------------------------------------
#: NEP version (NEP4)
PAPER_VERSION = 4
#: ZBL outer cutoff (Å); the inner cutoff is half of it in GPUMD
PAPER_ZBL_CUTOFF = 1.8
#: radial and angular descriptor cutoffs (Å)
PAPER_CUTOFF = (6.5, 4.0)
#: radial and angular basis sizes
PAPER_BASIS_SIZE = (8, 8)
#: neurons of the hidden layer
PAPER_NEURON = 30
#: SNES generations (≈14 h on two V100 in the paper)
PAPER_GENERATION = 100_000

# --- GPUMD defaults the paper keeps (written explicitly) ------------------------------------------
#: radial / angular descriptor orders (GPUMD documentation default)
GPUMD_N_MAX = (4, 4)
#: angular expansion: l_max of 3-body, 4-body, 5-body terms (GPUMD default ``4 2 0``)
GPUMD_L_MAX = (4, 2, 0)
#: loss weights of energy, force, virial and of the shear virial components
GPUMD_LAMBDA_E = 1.0
GPUMD_LAMBDA_F = 1.0
GPUMD_LAMBDA_V = 0.1
GPUMD_LAMBDA_SHEAR = 1.0
#: structures per SNES batch
GPUMD_BATCH = 1000
#: SNES population size
GPUMD_POPULATION = 50

#: keyword order of the written nep.in (GPUMD keywords only)
GPUMD_KEYWORDS = (
    "version",
    "type",
    "type_weight",
    "model_type",
    "prediction",
    "zbl",
    "cutoff",
    "n_max",
    "basis_size",
    "l_max",
    "neuron",
    "lambda_1",
    "lambda_2",
    "lambda_e",
    "lambda_f",
    "lambda_v",
    "lambda_shear",
    "batch",
    "population",
    "generation",
)
#: neppo-only keywords (appended for the CPU trainer; GPUMD rejects them)
NEPPO_KEYWORDS = ("optimizer", "learning_rate", "weight_decay", "loss_form", "seed", "output_interval")

#: chemical elements GPUMD knows (H..Pu)
_ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb "
    "Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu"
).split()


class NEPInputError(MLIPGlassError, ValueError):
    """A NEP setting (or nep.in line) outside its accepted range; the message names the field."""


def _check(condition: bool, name: str, value: Any, accepted: str) -> None:
    if not condition:
        raise NEPInputError(f"NEP setting {name}={value!r} is invalid; accepted: {accepted}")


def auto_regularization(n_types: int, n_max=GPUMD_N_MAX, basis_size=PAPER_BASIS_SIZE, l_max=GPUMD_L_MAX,
                        neuron: int = PAPER_NEURON) -> float:
    """GPUMD's automatic ``lambda_1 = lambda_2 = sqrt(N_par * 1e-6 / N_types)`` (parameters.cu).

    ``N_par`` counts the network weights ``((dim + 2) * neuron) * N_types + 1`` and the descriptor
    coefficients ``N_types^2 * ((n_max_r + 1)(basis_r + 1) + (n_max_a + 1)(basis_a + 1))``, with
    ``dim = (n_max_r + 1) + (n_max_a + 1) * (l_max_3b + [4-body] + [5-body])``.
    """
    dim_radial = n_max[0] + 1
    n_l = l_max[0] + (1 if len(l_max) > 1 and l_max[1] else 0) + (1 if len(l_max) > 2 and l_max[2] else 0)
    dim = dim_radial + (n_max[1] + 1) * n_l
    n_ann = (dim + 2) * neuron * n_types + 1
    n_desc = n_types * n_types * (dim_radial * (basis_size[0] + 1) + (n_max[1] + 1) * (basis_size[1] + 1))
    return math.sqrt((n_ann + n_desc) * 1e-6 / n_types)


@dataclass
class CPUTrainerSettings:
    """Settings of the gradient-based CPU trainer (``neppo``); they replace SNES's ``batch`` and
    ``population`` (ignored by neppo) and add neppo's own keywords.

    Parameters
    ----------
    batch
        Structures per AdamW step (mini-batch). GPUMD's ``batch 1000`` means full batch for SNES.
    learning_rate
        AdamW learning rate at the start and at the end of the cosine schedule. The schedule runs on the
        training progress ``max(step / steps, elapsed / wall_time)``, so it anneals by the wall-time
        budget even when the step count is not reached.
    weight_decay
        Decoupled AdamW weight decay.
    loss_form
        ``mse`` (neppo default) or ``rmse`` (GPUMD's form).
    seed
        Seed of the initial parameters and the batch order.
    output_interval
        Steps between reports (loss.out row, nep.txt, checkpoint).
    threads
        torch CPU threads (the maximum when ``adapt_threads``). Default 1: on shared cores one thread trained
        fastest (1869 steps in 10 min vs 1164 with 2 threads, same load; see docs/nep.md).
    adapt_threads
        With ``threads > 1``: time steps with 1 and ``threads`` threads during the fit and keep the faster
        (:mod:`mlip_glass.nep.threads`); on idle cores 2 threads are ~1.5x faster, on shared cores 1 is.
    """

    batch: int = 8
    learning_rate: tuple[float, float] = (1e-2, 1e-4)
    weight_decay: float = 0.0
    loss_form: str = "mse"
    seed: int = 42
    output_interval: int = 50
    threads: int = 1
    adapt_threads: bool = True

    def __post_init__(self) -> None:
        # floats of any length here; the length is checked next (a wrong one is named, not unpacked)
        self.learning_rate = cast(tuple[float, float], tuple(float(x) for x in self.learning_rate))
        _check(isinstance(self.batch, int) and self.batch >= 1, "batch", self.batch, "integer >= 1")
        _check(len(self.learning_rate) == 2 and all(0 < x < 10 for x in self.learning_rate),
               "learning_rate", self.learning_rate, "two values in (0, 10)")
        _check(0 <= self.weight_decay < math.inf, "weight_decay", self.weight_decay, ">= 0, finite")
        _check(self.loss_form in ("mse", "rmse"), "loss_form", self.loss_form, "'mse' or 'rmse'")
        _check(isinstance(self.seed, int) and self.seed >= 0, "seed", self.seed, "integer >= 0")
        _check(isinstance(self.output_interval, int) and self.output_interval >= 1, "output_interval",
               self.output_interval, "integer >= 1")
        _check(isinstance(self.threads, int) and self.threads >= 1, "threads", self.threads, "integer >= 1")
        _check(isinstance(self.adapt_threads, bool), "adapt_threads", self.adapt_threads, "True or False")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NEPSettings:
    """The keywords of GPUMD's nep.in (NEP4 potential), with the paper's values as defaults.

    Parameters
    ----------
    species
        Element symbols in type order (``type``); normally taken from the dataset.
    version
        NEP version; only 4 is supported.
    type_weight
        Per-species force-loss weights; ``None`` = 1 for each species.
    zbl
        ZBL outer cutoff (Å, 1-2.5); ``None`` disables ZBL. Paper: 1.8.
    cutoff
        Radial and angular cutoffs (Å), radial >= angular, both in [2.5, 10]. Paper: 6.5 4.
    n_max
        Radial and angular descriptor orders (0-19 / 0-19).
    basis_size
        Radial and angular basis sizes (0-19). Paper: 8 8.
    l_max
        l_max of the 3-body (4), 4-body (0 or 2) and 5-body (0 or 1) terms.
    neuron
        Hidden-layer neurons (1-200). Paper: 30.
    lambda_1, lambda_2
        L1 / L2 regularisation weights (>= 0); ``None`` = GPUMD's automatic value, computed and written.
    lambda_e, lambda_f, lambda_v, lambda_shear
        Loss weights of energy, force, virial and shear virial (>= 0).
    batch
        SNES batch (structures per generation, >= 1).
    population
        SNES population (>= 5).
    generation
        Generations (GPUMD) / optimiser steps (CPU trainer), >= 1. Paper: 1e5.
    """

    species: list[str] = field(default_factory=list)
    version: int = PAPER_VERSION
    type_weight: list[float] | None = None
    zbl: float | None = PAPER_ZBL_CUTOFF
    cutoff: tuple[float, float] = PAPER_CUTOFF
    n_max: tuple[int, int] = GPUMD_N_MAX
    basis_size: tuple[int, int] = PAPER_BASIS_SIZE
    l_max: tuple[int, int, int] = GPUMD_L_MAX
    neuron: int = PAPER_NEURON
    lambda_1: float | None = None
    lambda_2: float | None = None
    lambda_e: float = GPUMD_LAMBDA_E
    lambda_f: float = GPUMD_LAMBDA_F
    lambda_v: float = GPUMD_LAMBDA_V
    lambda_shear: float = GPUMD_LAMBDA_SHEAR
    batch: int = GPUMD_BATCH
    population: int = GPUMD_POPULATION
    generation: int = PAPER_GENERATION

    def __post_init__(self) -> None:
        self.species = list(self.species)
        # numbers of any length here; validate() names a wrong length
        self.cutoff = cast(tuple[float, float], tuple(float(x) for x in self.cutoff))
        self.n_max = cast(tuple[int, int], tuple(int(x) for x in self.n_max))
        self.basis_size = cast(tuple[int, int], tuple(int(x) for x in self.basis_size))
        self.l_max = cast(tuple[int, int, int], tuple(int(x) for x in self.l_max))
        if self.type_weight is not None:
            self.type_weight = [float(x) for x in self.type_weight]
        self.validate()

    # ------------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`NEPInputError` naming the first field outside its accepted range."""
        for s in self.species:
            _check(s in _ELEMENTS, "species", s, "element symbols H..Pu")
        _check(len(set(self.species)) == len(self.species), "species", self.species, "no duplicates")
        _check(self.version == 4, "version", self.version, "4 (NEP4)")
        if self.type_weight is not None:
            _check(len(self.type_weight) == len(self.species) and all(w >= 0 for w in self.type_weight),
                   "type_weight", self.type_weight, "one value >= 0 per species")
        if self.zbl is not None:
            _check(1.0 <= self.zbl <= 2.5, "zbl", self.zbl, "outer cutoff in [1, 2.5] Å or None")
        _check(len(self.cutoff) == 2 and all(2.5 <= c <= 10 for c in self.cutoff)
               and self.cutoff[0] >= self.cutoff[1], "cutoff", self.cutoff,
               "(radial, angular) in [2.5, 10] Å with radial >= angular")
        _check(len(self.n_max) == 2 and all(0 <= n <= 19 for n in self.n_max), "n_max", self.n_max,
               "two integers in [0, 19]")
        _check(len(self.basis_size) == 2 and all(0 <= n <= 19 for n in self.basis_size), "basis_size",
               self.basis_size, "two integers in [0, 19]")
        _check(len(self.l_max) == 3 and self.l_max[0] == 4 and self.l_max[1] in (0, 2)
               and self.l_max[2] in (0, 1) and not (self.l_max[2] and not self.l_max[1]), "l_max",
               self.l_max, "(4, 0|2, 0|1), 5-body only with 4-body")
        _check(1 <= self.neuron <= 200, "neuron", self.neuron, "integer in [1, 200]")
        for name in ("lambda_1", "lambda_2"):
            value = getattr(self, name)
            _check(value is None or 0 <= value < math.inf, name, value, ">= 0, finite, or None (auto)")
        for name in ("lambda_e", "lambda_f", "lambda_v", "lambda_shear"):
            value = getattr(self, name)
            _check(0 <= value < math.inf, name, value, ">= 0, finite")
        _check(isinstance(self.batch, int) and self.batch >= 1, "batch", self.batch, "integer >= 1")
        _check(isinstance(self.population, int) and self.population >= 5, "population", self.population,
               "integer >= 5")
        _check(isinstance(self.generation, int) and self.generation >= 1, "generation", self.generation,
               "integer >= 1")

    def with_species(self, species: list[str]) -> NEPSettings:
        """A copy with ``species`` (``type``) set, e.g. from the dataset."""
        values = self.as_dict()
        values["species"] = list(species)
        return NEPSettings(**values)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("cutoff", "n_max", "basis_size", "l_max"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NEPSettings:
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise NEPInputError(f"unknown NEP setting(s) {sorted(unknown)}; accepted: {[f.name for f in fields(cls)]}")
        return cls(**values)

    def resolved_lambdas(self) -> tuple[float, float]:
        auto = auto_regularization(len(self.species), self.n_max, self.basis_size, self.l_max, self.neuron)
        return (auto if self.lambda_1 is None else self.lambda_1,
                auto if self.lambda_2 is None else self.lambda_2)

    # ------------------------------------------------------------------------------------------
    def keyword_values(self) -> dict[str, list[str]]:
        """The GPUMD keywords and their values as strings, in :data:`GPUMD_KEYWORDS` order."""
        _check(len(self.species) >= 1, "species", self.species, "at least one element (type)")
        lam1, lam2 = self.resolved_lambdas()
        weights = self.type_weight or [1.0] * len(self.species)
        values = {
            "version": [str(self.version)],
            "type": [str(len(self.species)), *self.species],
            "type_weight": [_fmt(w) for w in weights],
            "model_type": ["0"],
            "prediction": ["0"],
            "zbl": [_fmt(self.zbl)] if self.zbl is not None else None,
            "cutoff": [_fmt(c) for c in self.cutoff],
            "n_max": [str(n) for n in self.n_max],
            "basis_size": [str(n) for n in self.basis_size],
            "l_max": [str(n) for n in self.l_max],
            "neuron": [str(self.neuron)],
            "lambda_1": [_fmt(lam1)],
            "lambda_2": [_fmt(lam2)],
            "lambda_e": [_fmt(self.lambda_e)],
            "lambda_f": [_fmt(self.lambda_f)],
            "lambda_v": [_fmt(self.lambda_v)],
            "lambda_shear": [_fmt(self.lambda_shear)],
            "batch": [str(self.batch)],
            "population": [str(self.population)],
            "generation": [str(self.generation)],
        }
        return {k: v for k, v in values.items() if v is not None}


def _fmt(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else f"{float(x):g}"


def write_nep_in(settings: NEPSettings, cpu: CPUTrainerSettings | None = None,
                 generation: int | None = None) -> str:
    """nep.in text with every keyword explicit.

    With ``cpu`` (the neppo backend), ``batch`` becomes the mini-batch, ``population`` is dropped
    (SNES-only) and neppo's keywords (``optimizer``, ``learning_rate``, ...) are appended. ``generation``
    overrides the number of generations/steps written.
    """
    values = settings.keyword_values()
    if generation is not None:
        _check(int(generation) >= 1, "generation", generation, "integer >= 1")
        values["generation"] = [str(int(generation))]
    lines = ["# written by mlip_glass.nep.settings (every keyword explicit)"]
    if cpu is not None:
        values["batch"] = [str(cpu.batch)]
        values.pop("population")
        values.update(
            optimizer=["adamw"],
            learning_rate=[repr(x) for x in cpu.learning_rate],
            weight_decay=[_fmt(cpu.weight_decay)],
            loss_form=[cpu.loss_form],
            seed=[str(cpu.seed)],
            output_interval=[str(cpu.output_interval)],
        )
    for key, vals in values.items():
        lines.append(f"{key:<15s} {' '.join(vals)}")
    return "\n".join(lines) + "\n"


def parse_nep_in(text: str) -> tuple[NEPSettings, CPUTrainerSettings | None]:
    """Parse nep.in text into settings (inverse of :func:`write_nep_in`).

    Unknown keywords, repeated keywords, wrong value counts and out-of-range values raise
    :class:`NEPInputError`. Returns ``(settings, cpu)``, ``cpu`` is None when no neppo keyword is present
    (then ``batch`` is the SNES batch).
    """
    raw = _nep_in_keywords(text)
    _check("type" in raw, "type", None, "a 'type N El1 ... ElN' line")
    try:
        kw = _nep_settings_keywords(raw)
        cpu = None
        if any(k in raw for k in NEPPO_KEYWORDS):
            cpu = CPUTrainerSettings(**_cpu_trainer_keywords(raw, kw.pop("batch", CPUTrainerSettings.batch)))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, NEPInputError):
            raise
        raise NEPInputError(f"nep.in: cannot parse values ({exc})") from exc
    if "zbl" not in raw:
        kw["zbl"] = None
    return NEPSettings(**kw), cpu


def _nep_in_keywords(text: str) -> dict[str, list[str]]:
    """nep.in lines → ``{keyword: [value tokens]}`` (comments dropped); unknown, repeated or empty keywords raise
    :class:`NEPInputError` naming the line."""
    raw: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        key, vals = tokens[0], tokens[1:]
        if key not in GPUMD_KEYWORDS and key not in NEPPO_KEYWORDS:
            raise NEPInputError(
                f"nep.in line {number}: unknown keyword {key!r}; accepted: {GPUMD_KEYWORDS + NEPPO_KEYWORDS}"
            )
        if key in raw:
            raise NEPInputError(f"nep.in line {number}: keyword {key!r} given twice")
        if not vals:
            raise NEPInputError(f"nep.in line {number}: keyword {key!r} has no value")
        raw[key] = vals
    return raw


def _nep_settings_keywords(raw: dict[str, list[str]]) -> dict[str, Any]:
    """The :class:`NEPSettings` keywords of parsed nep.in lines (``batch`` included, whoever takes it)."""
    n_types, *species = raw["type"]
    _check(int(n_types) == len(species), "type", raw["type"], "count followed by that many elements")
    kw: dict[str, Any] = {"species": species}
    one = {"version": int, "neuron": int, "batch": int, "population": int, "generation": int,
           "zbl": float, "lambda_1": float, "lambda_2": float, "lambda_e": float, "lambda_f": float,
           "lambda_v": float, "lambda_shear": float}
    for key, conv in one.items():
        if key in raw:
            _check(len(raw[key]) == 1, key, raw[key], "exactly one value")
            kw[key] = conv(raw[key][0])
    for key, n, conv in (("cutoff", 2, float), ("n_max", 2, int), ("basis_size", 2, int), ("l_max", 3, int)):
        if key in raw:
            numbers: list[float] = [conv(v) for v in raw[key]]
            if key == "l_max":
                numbers += [2, 0][len(numbers) - 1:] if len(numbers) < 3 else []
            _check(len(numbers) == n, key, raw[key], f"{n} values")
            kw[key] = tuple(numbers)
    if "type_weight" in raw:
        kw["type_weight"] = [float(v) for v in raw["type_weight"]]
    for key, expected in (("model_type", "0"), ("prediction", "0")):
        if key in raw:
            _check(raw[key] == [expected], key, raw[key], f"{expected} (potential training)")
    return kw


def _cpu_trainer_keywords(raw: dict[str, list[str]], batch: int) -> dict[str, Any]:
    """The :class:`CPUTrainerSettings` keywords of parsed nep.in lines (neppo's keywords, ``batch``)."""
    if "optimizer" in raw:
        _check(raw["optimizer"] == ["adamw"], "optimizer", raw["optimizer"], "adamw")
    ckw: dict[str, Any] = {"batch": batch}
    if "learning_rate" in raw:
        ckw["learning_rate"] = tuple(float(v) for v in raw["learning_rate"])
    if "weight_decay" in raw:
        ckw["weight_decay"] = float(raw["weight_decay"][0])
    if "loss_form" in raw:
        ckw["loss_form"] = raw["loss_form"][0]
    if "seed" in raw:
        ckw["seed"] = int(raw["seed"][0])
    if "output_interval" in raw:
        ckw["output_interval"] = int(raw["output_interval"][0])
    return ckw
