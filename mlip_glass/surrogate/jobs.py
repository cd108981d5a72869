"""Makers of the surrogate stage: swap-MC and MD cooling, inherent structures, the time-scale map, and
a flow over a grid of cooling lengths x samples (Fig. 2a)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, Maker
from pymatgen.core import Structure

from mlip_glass.campaign import job_checkpoint_dir
from mlip_glass.provenance import structure_hash
from mlip_glass.stage import stage_job
from mlip_glass.surrogate import constants as C
from mlip_glass.surrogate.lammps_md import inherent_structure, md_cooling
from mlip_glass.surrogate.model import LJModel, SurrogateInputError
from mlip_glass.surrogate.onset import diffusion_relaxation_times, onset_is_energy
from mlip_glass.surrogate.schemas import SurrogateStateDocument, TimescaleMapDocument, TimescalePoint
from mlip_glass.surrogate.state import check_composition, random_liquid
from mlip_glass.surrogate.swap_mc import swap_mc
from mlip_glass.surrogate.timescale import build_map, onset_temperature, plot_timescale_map

logger = logging.getLogger(__name__)

#: every surrogate job; traces, figures and the time-scale map's states (structures) to the data store
surrogate_job = stage_job("surrogate", data=["energy_trace", "figure_png", "states"])

#: offset between the seed of a run and the seed of its random initial liquid (independent streams)
LIQUID_SEED_OFFSET = 1_000_003


def _model(params: Mapping[str, Any] | None) -> LJModel:
    return LJModel.from_dict_params(dict(params)) if params else LJModel.paper()


def _as_doc(state) -> SurrogateStateDocument:
    if isinstance(state, SurrogateStateDocument):
        return state
    if isinstance(state, dict):
        d = {k: v for k, v in state.items() if not k.startswith("@")}
        return SurrogateStateDocument.model_validate(d)
    raise SurrogateInputError(f"expected a SurrogateStateDocument, got {type(state).__name__}")


@dataclass
class _CoolingBase(Maker):
    """Shared parameters of the cooling Makers (initial state, model, IS, checkpoints).

    Parameters
    ----------
    t_start, t_end
        Start / end temperature of the linear ramp (reduced, eps_ZrZr / k_B; paper 10.01 -> 0.01).
    seed
        Seed of the run (MC moves / MD velocities); ``make(seed=...)`` overrides it per sample.
    n_atoms, density, composition
        Random initial liquid when ``make`` gets no structure: atoms, reduced number density rho*
        (paper 1.75), atom fractions (None = Cu0.46 Zr0.46 Al0.08).
    equilibration_sweeps
        Swap-MC sweeps at ``t_start`` equilibrating that liquid before cooling (0 = none).
    model
        ``LJModel.as_dict_params()`` of another model (None = the paper's).
    compute_inherent_structure
        Also minimise the final configuration (e_IS) in the same job.
    checkpoint_dir
        Directory of checkpoints (None = ``$MLIP_GLASS_CHECKPOINT_DIR/<campaign>/<job uuid>``, which a re-run
        of the same job finds; without the variable the job's working directory).
    """

    name: str = "surrogate cooling"
    #: start temperature (reduced, eps_ZrZr / k_B)
    t_start: float = C.T_HIGH
    #: end temperature (reduced)
    t_end: float = C.T_LOW
    #: seed of the run; the random initial liquid uses seed + LIQUID_SEED_OFFSET, its equilibration
    #: seed + 2 LIQUID_SEED_OFFSET
    seed: int = 0
    #: atoms of the random initial liquid (when no structure is given)
    n_atoms: int = C.PAPER_N_ATOMS
    #: reduced number density of the random initial liquid
    density: float = C.PAPER_DENSITY
    #: atom fractions of the random initial liquid (None = paper's Cu0.46 Zr0.46 Al0.08)
    composition: dict | None = None
    #: swap-MC sweeps at ``t_start`` that equilibrate a generated random liquid before cooling
    equilibration_sweeps: int = 2000
    #: LJModel parameters (``LJModel.as_dict_params()``); None = the paper's model
    model: dict | None = None
    #: also minimise the final configuration (inherent structure) in the same job
    compute_inherent_structure: bool = True
    #: directory of checkpoints (None = $MLIP_GLASS_CHECKPOINT_DIR/<campaign>/<job uuid>, else the job's
    #: working directory)
    checkpoint_dir: str | None = None

    def _initial(self, structure, seed):
        model = _model(self.model)
        if structure is None:
            structure = random_liquid(self.n_atoms, self.density, self.composition,
                                      seed=seed + LIQUID_SEED_OFFSET, model=model)
            if self.equilibration_sweeps > 0:
                structure = swap_mc(structure, model, self.t_start, self.t_start, self.equilibration_sweeps,
                                    seed=seed + 2 * LIQUID_SEED_OFFSET).structure
        else:
            check_composition(structure, model, self.composition)
        return model, structure

    def _ckpt(self, kind: str, structure, seed) -> Path:
        """Checkpoint file named by input structure, Maker parameters and seed, so that a relaunched job
        (e.g. a FireWorks rerun in a new directory, with ``checkpoint_dir`` or ``$MLIP_GLASS_CHECKPOINT_DIR``
        on shared storage) finds its own checkpoint and never another run's."""
        if self.checkpoint_dir:
            d = Path(self.checkpoint_dir)
            d.mkdir(parents=True, exist_ok=True)
        else:
            d = job_checkpoint_dir()
        params = {k: v for k, v in asdict(self).items() if k not in ("name", "checkpoint_dir")}
        key = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:10]
        return d / f"{kind}_{structure_hash(structure)[:12]}_{key}_{seed}.ckpt"

    def _finish(self, doc: SurrogateStateDocument, model: LJModel) -> SurrogateStateDocument:
        if self.compute_inherent_structure:
            doc = doc.with_inherent_structure(inherent_structure(doc.structure, model))
        return doc


@dataclass
class SwapMCCoolingMaker(_CoolingBase):
    """Swap Monte Carlo cooling, T* linear in sweeps from ``t_start`` to ``t_end`` (arXiv:2501.00589).

    Parameters
    ----------
    n_sweeps
        Cooling length in sweeps (one sweep = N attempted moves); paper: 1e4 ... 1e9.
    delta_r_max
        Side of the cube of trial displacements (reduced length; paper 0.15).
    swap_fraction
        Fraction of swap attempts (paper 0.2).
    swap_species
        Species exchanging with all others (paper Al; Cu <-> Zr never attempted).
    n_trace
        Energy-trace points (to the data store).
    checkpoint_every
        Sweeps between checkpoints (None = 1 % of the run).
    """

    name: str = "swap-MC cooling"
    n_sweeps: int = 10_000
    delta_r_max: float = C.DELTA_R_MAX
    swap_fraction: float = C.SWAP_FRACTION
    swap_species: str | None = C.SWAP_SPECIES
    n_trace: int = 1000
    checkpoint_every: int | None = None

    @surrogate_job
    def make(self, structure: Structure | None = None, sample: int = 0, seed: int | None = None):
        """Cool ``structure`` (default: a random liquid) and return a :class:`SurrogateStateDocument`."""
        seed = self.seed if seed is None else int(seed)
        model, initial = self._initial(structure, seed)
        ckpt = self._ckpt("swapmc", initial, seed)
        res = swap_mc(initial, model, self.t_start, self.t_end, self.n_sweeps, seed,
                      delta_r_max=self.delta_r_max, swap_fraction=self.swap_fraction,
                      swap_species=self.swap_species, n_trace=self.n_trace, checkpoint_path=ckpt,
                      checkpoint_every=self.checkpoint_every)
        method = "swap_mc" if self.t_start != self.t_end else "swap_mc_liquid"  # constant T*: a liquid sample
        doc = SurrogateStateDocument.from_result(res, method, model, sample=sample, initial=initial)
        doc = self._finish(doc, model)
        ckpt.unlink(missing_ok=True)
        return doc


@dataclass
class MDCoolingMaker(_CoolingBase):
    """NVT MD cooling of the same LJ model in LAMMPS (``units lj``), T* linear in time.

    Parameters
    ----------
    duration
        Cooling time t* (reduced); paper: 1e2 ... 4e4.
    timestep
        MD time step (reduced; <= 0.002).
    tdamp
        Nose-Hoover damping time (reduced).
    n_trace
        Trace points (to the data store).
    checkpoint_every
        MD steps between checkpoints (None = 10 % of the run; rounded to whole trace intervals). Keep it well
        below a queue job's wall time: a job that never reaches a checkpoint makes no progress across reruns.
    """

    name: str = "MD cooling"
    duration: float = 100.0
    timestep: float = C.MD_TIMESTEP
    tdamp: float = C.MD_TDAMP
    n_trace: int = 200
    #: short minimisation before MD (for inputs with overlaps; generated liquids are equilibrated already)
    preminimize: bool = False
    #: MD steps between checkpoints (None = 10 % of the run)
    checkpoint_every: int | None = None

    @surrogate_job
    def make(self, structure: Structure | None = None, sample: int = 0, seed: int | None = None):
        """Cool ``structure`` (default: a random liquid) by MD; returns a :class:`SurrogateStateDocument`."""
        seed = self.seed if seed is None else int(seed)
        model, initial = self._initial(structure, seed)
        ckpt = self._ckpt("md", initial, seed)
        res = md_cooling(initial, model, self.t_start, self.t_end, self.duration, seed, timestep=self.timestep,
                         tdamp=self.tdamp, n_trace=self.n_trace, preminimize=self.preminimize,
                         checkpoint_path=ckpt, checkpoint_every=self.checkpoint_every)
        doc = SurrogateStateDocument.from_result(res, "md", model, sample=sample, initial=initial)
        doc = self._finish(doc, model)
        ckpt.unlink(missing_ok=True)
        Path(str(ckpt) + ".json").unlink(missing_ok=True)
        return doc


@dataclass
class InherentStructureMaker(Maker):
    """Minimise a configuration of the LJ surrogate (LAMMPS CG then FIRE) -> e_IS per atom.

    Parameters
    ----------
    ftol
        Force tolerance (2-norm of the global force vector, reduced).
    max_iter
        Maximum iterations per minimiser.
    model
        LJModel parameters (None = paper).
    """

    name: str = "inherent structure"
    ftol: float = C.IS_FORCE_TOL
    max_iter: int = C.IS_MAX_ITER
    model: dict | None = None

    @surrogate_job
    def make(self, state):
        """``state``: a :class:`SurrogateStateDocument` (returned with IS fields) or a Structure (-> dict)."""
        model = _model(self.model)
        if isinstance(state, Structure):
            inh = inherent_structure(state, model, self.ftol, self.max_iter)
            return {"structure_hash": structure_hash(state), "is_structure": inh.structure,
                    "is_structure_hash": structure_hash(inh.structure), "e_is_per_atom": inh.energy_per_atom,
                    "e_is_per_atom_reduced": inh.energy_per_atom_reduced}
        doc = _as_doc(state)
        return doc.with_inherent_structure(inherent_structure(doc.structure, model, self.ftol, self.max_iter))


@dataclass
class TimescaleMapMaker(Maker):
    """Fit e_IS = e_IS,on + A log10(tau/tau_on) on MD states, give swap-MC states tau_eff, draw Fig. 2a.

    Parameters
    ----------
    t_on
        Onset temperature (reduced; paper 2.09); replaced by the Arrhenius analysis if
        ``compute_t_on``.
    e_is_on
        IS energy per atom at the onset (reduced); None = computed by swap-MC equilibrium at T_on
        (``compute_e_is_on``) or, failing that, put at the fastest MD cooling.
    compute_e_is_on
        Run the equilibrium swap-MC at T_on to get e_IS,on.
    compute_t_on
        Locate T_on from the departure from Arrhenius of equilibrium MD diffusion (costs minutes).
    arrhenius_temperatures
        Temperatures (reduced) of the Arrhenius analysis.
    onset_seed
        Seed of the onset runs.
    figure_name
        File name of the PNG written in the job directory.
    strict
        Fail on a non-negative fitted slope (else record a warning in the document).
    """

    name: str = "time-scale map"
    t_on: float = C.PAPER_T_ONSET
    e_is_on: float | None = None
    compute_e_is_on: bool = True
    compute_t_on: bool = False
    arrhenius_temperatures: tuple = (10.0, 8.0, 6.5, 5.5, 4.5, 4.0, 3.5, 3.0, 2.5, 2.2, 2.0)
    onset_seed: int = 12345
    figure_name: str = "fig2a_timescale_map.png"
    strict: bool = False
    model: dict | None = None

    @surrogate_job
    def make(self, states: Sequence):
        """Map ``states`` (list of :class:`SurrogateStateDocument`, with IS energies)."""
        model = _model(self.model)
        docs = [_as_doc(s) for s in states]
        missing = [d.structure_hash[:12] for d in docs
                   if d.e_is_per_atom_reduced is None and d.method != "swap_mc_liquid"]
        if missing:
            raise SurrogateInputError(f"states without inherent-structure energy: {missing}")
        md = [d for d in docs if d.method == "md"]
        if len({d.cooling_length for d in md}) < 2:
            raise SurrogateInputError("the map needs MD states of at least two cooling times")
        n_atoms = md[0].n_atoms
        onset_data: dict[str, Any] = {}
        t_on, t_on_source = self.t_on, "paper"
        if self.compute_t_on:
            dyn = diffusion_relaxation_times(model, self.arrhenius_temperatures, n_atoms=n_atoms,
                                             seed=self.onset_seed)
            t_on, t_on_source = onset_temperature(dyn["temperatures"], dyn["tau"]), "arrhenius"
            onset_data["arrhenius"] = dyn
        if self.e_is_on is not None:
            e_on, src = float(self.e_is_on), "given"
        elif self.compute_e_is_on:
            eq = onset_is_energy(model, t_on, n_atoms=n_atoms, seed=self.onset_seed)
            e_on, src = eq["e_is_on"], "swap-MC equilibrium at T_on"
            onset_data["equilibrium_is"] = eq
        else:
            e_on, src = None, "fallback: fastest MD cooling"
        e_md = [d.e_is_per_atom_reduced for d in md]  # none is None: checked above
        tmap = build_map([d.cooling_length for d in md], e_md, e_on, t_on,  # type: ignore[arg-type]
                         strict=self.strict)
        warnings = []
        if not tmap.slope < 0:
            warnings.append(f"fitted slope A = {tmap.slope:.4g} >= 0: MD points too noisy/short; tau_eff is "
                            "not meaningful (use more samples or longer MD cooling times)")
            logger.warning(warnings[-1])
        out_states, points = [], []
        for d in docs:
            if d.method == "swap_mc_liquid":  # equilibrium liquid samples have no cooling time
                out_states.append(d)
                continue
            tau = d.cooling_length if d.method == "md" else float(tmap.tau_eff(d.e_is_per_atom_reduced))
            d = d.model_copy(update={"tau_eff": tau})
            out_states.append(d)
            points.append(TimescalePoint(method=d.method, cooling_length=d.cooling_length, tau=tau,
                                         e_is_per_atom_reduced=d.e_is_per_atom_reduced,
                                         e_is_per_atom=d.e_is_per_atom, structure_hash=d.structure_hash,
                                         seed=d.seed))
        fig = Path(os.getcwd()) / self.figure_name
        plot_timescale_map(fig, [d.cooling_length for d in md], [d.e_is_per_atom_reduced for d in md],
                           [p.tau for p in points if p.method == "swap_mc"],
                           [p.e_is_per_atom_reduced for p in points if p.method == "swap_mc"], tmap,
                           mc_labels=[f"{p.cooling_length:.0e}".replace("e+0", "e").replace("e+", "e")
                                      for p in points if p.method == "swap_mc"])
        return TimescaleMapDocument(
            slope_a=tmap.slope, slope_a_stderr=None if np.isnan(tmap.slope_stderr) else tmap.slope_stderr,
            intercept=tmap.intercept, e_is_on=tmap.e_is_on,
            e_is_on_ev=float(model.from_reduced_energy(tmap.e_is_on)), e_is_on_source=src,
            tau_on=tmap.tau_on, t_on=tmap.t_on, t_on_source=t_on_source, points=points, states=out_states,
            figure_path=str(fig), figure_png=base64.b64encode(fig.read_bytes()).decode(),
            onset_data=onset_data or None, warnings=warnings,
        )


@dataclass
class SurrogateCoolingFlowMaker(Maker):
    """Grid of cooling lengths x samples with swap-MC and MD, then the time-scale map (Fig. 2a).

    The flow's output is ``{"states": [SurrogateStateDocument, ...] (with tau_eff), "mapping":
    TimescaleMapDocument}``. Sample ``k`` of every cooling length starts from its own random liquid
    (seed ``seed + k``), so different lengths of the same sample share the initial state.

    Parameters
    ----------
    swap_sweeps
        Swap-MC cooling lengths (sweeps).
    md_times
        MD cooling times t* (reduced).
    n_samples
        Independent samples per cooling length.
    liquid_temperatures
        Reduced temperatures T* of equilibrium swap-MC liquid samples (constant T*, ``liquid_sweeps`` sweeps, one
        per sample and temperature): hot, disordered surrogate states for the training database (not on the
        time-scale map). Empty: none (the paper's grid).
    liquid_sweeps
        Sweeps of each liquid sample.
    seed
        Base seed.
    swap_maker, md_maker, map_maker
        The Makers used for each grid point / the map (their seeds are overridden per sample).
    """

    name: str = "surrogate cooling grid"
    swap_sweeps: tuple = (1e2, 1e3, 1e4)
    md_times: tuple = (10.0, 30.0, 100.0)
    n_samples: int = 2
    liquid_temperatures: tuple = ()
    liquid_sweeps: int = 1000
    seed: int = 0
    swap_maker: SwapMCCoolingMaker = field(default_factory=SwapMCCoolingMaker)
    md_maker: MDCoolingMaker = field(default_factory=MDCoolingMaker)
    map_maker: TimescaleMapMaker = field(default_factory=TimescaleMapMaker)

    def __post_init__(self):
        for name, vals in (("swap_sweeps", self.swap_sweeps), ("md_times", self.md_times)):
            if any(not v > 0 for v in vals):
                raise SurrogateInputError(f"{name} must all be > 0, got {vals}")
        if len(set(self.md_times)) < 2:
            raise SurrogateInputError(f"md_times needs >= 2 distinct cooling times, got {self.md_times}")
        if int(self.n_samples) < 1:
            raise SurrogateInputError(f"n_samples must be >= 1, got {self.n_samples}")

    @classmethod
    def demo(cls, **kwargs) -> SurrogateCoolingFlowMaker:
        """About a minute on one core for N = 150: sweeps 1e2..1e4, t* 10..100, 2 samples."""
        return cls(**kwargs)

    @classmethod
    def paper(cls, **kwargs) -> SurrogateCoolingFlowMaker:
        """The paper's grid: sweeps 1e4..1e9, t* 1e2..4e4, PAPER_GRID_SAMPLES samples (1e9 sweeps of N = 150
        take about a day on one core)."""
        kw: dict[str, Any] = {
            "swap_sweeps": C.PAPER_SWAP_SWEEPS, "md_times": C.PAPER_MD_TIMES, "n_samples": C.PAPER_GRID_SAMPLES
        }
        kw.update(kwargs)
        return cls(**kw)

    def make(self, structure: Structure | None = None) -> Flow:
        """The grid flow; job metadata carry method, cooling_length, sample (and the input's structure_hash)."""
        jobs, outputs = [], []
        meta = {"structure_hash": structure_hash(structure)} if structure is not None else {}
        for k in range(self.n_samples):
            seed = self.seed + k
            for sweeps in self.swap_sweeps:
                maker = self.swap_maker.update_kwargs({"n_sweeps": int(sweeps), "name": f"swap-MC {sweeps:.0e} "
                                                                                        f"sweeps s{k}"})
                j = maker.make(structure, sample=k, seed=seed)
                j.update_metadata({"method": "swap_mc", "cooling_length": float(sweeps), "sample": k, **meta})
                jobs.append(j)
                outputs.append(j.output)
            for t_liquid in self.liquid_temperatures:
                maker = self.swap_maker.update_kwargs({"n_sweeps": int(self.liquid_sweeps), "t_start": float(t_liquid),
                                                       "t_end": float(t_liquid), "compute_inherent_structure": False,
                                                       "name": f"swap-MC liquid T*={t_liquid:g} s{k}"})
                j = maker.make(structure, sample=k, seed=seed)
                j.update_metadata({"method": "swap_mc_liquid", "temperature_reduced": float(t_liquid), "sample": k,
                                   **meta})
                jobs.append(j)
                outputs.append(j.output)
            for t in self.md_times:
                maker = self.md_maker.update_kwargs({"duration": float(t), "name": f"MD t*={t:g} s{k}"})
                j = maker.make(structure, sample=k, seed=seed)
                j.update_metadata({"method": "md", "cooling_length": float(t), "sample": k, **meta})
                jobs.append(j)
                outputs.append(j.output)
        mapping = self.map_maker.make(outputs)
        jobs.append(mapping)
        return Flow(jobs, output={"states": mapping.output.states, "mapping": mapping.output}, name=self.name)
