"""Documents of the surrogate stage (pydantic; units stated in every field description)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from mlip_glass.provenance import structure_hash


class SurrogateStateDocument(BaseModel):
    """One cooled surrogate configuration (swap-MC or MD) with its inherent structure when computed."""

    structure: Structure = Field(description="final configuration, Å, species Cu/Zr/Al")
    structure_hash: str = Field(description="mlip_glass.provenance.structure_hash of `structure`")
    method: Literal["swap_mc", "swap_mc_liquid", "md"] = Field(
        description="sampling method (swap_mc_liquid: swap-MC at constant T*, an equilibrium liquid sample)")
    cooling_length: float = Field(
        description="length of the cooling: MC sweeps (swap_mc) or reduced MD time t* (md)"
    )
    t_start: float = Field(description="initial temperature, reduced (eps_ZrZr / k_B)")
    t_end: float = Field(description="final temperature, reduced (eps_ZrZr / k_B)")
    n_atoms: int = Field(description="number of atoms")
    seed: int = Field(description="seed of the run (MC moves / MD velocities)")
    sample: int = Field(0, description="index of the independent sample in its grid cell")
    initial_structure_hash: str | None = Field(None, description="hash of the starting configuration")
    energy: float = Field(description="total potential energy of `structure`, eV")
    energy_per_atom: float = Field(description="potential energy per atom, eV/atom")
    energy_per_atom_reduced: float = Field(description="potential energy per atom, eps_ZrZr/atom")
    is_structure: Structure | None = Field(None, description="inherent structure (energy minimum), Å")
    is_structure_hash: str | None = Field(None, description="structure_hash of `is_structure`")
    e_is_per_atom: float | None = Field(None, description="inherent-structure energy per atom, eV/atom")
    e_is_per_atom_reduced: float | None = Field(
        None, description="inherent-structure energy per atom, eps_ZrZr/atom"
    )
    tau_eff: float | None = Field(
        None, description="effective cooling time, reduced MD time (MD: its own t*; swap-MC: from the map)"
    )
    acceptance: dict[str, Any] | None = Field(
        None, description="swap-MC attempted/accepted moves and rates per move type"
    )
    energy_trace: dict[str, Any] | None = Field(
        None,
        description="trace: 'x' (sweeps or t*), 'x_unit', 'energy_per_atom_reduced', 'temperature' "
        "(reduced); stored in the JobStore 'data' store",
    )
    rng_state: list[str] | None = Field(
        None, description="final xoshiro256** state (swap-MC), four 64-bit words as hex strings"
    )
    model: dict[str, Any] = Field(description="LJ model parameters (sigma Å, epsilon eV, cutoff factor)")
    length_unit_angstrom: float = Field(description="reduced length unit sigma_ZrZr, Å")
    energy_unit_ev: float = Field(description="reduced energy unit eps_ZrZr, eV")
    settings: dict[str, Any] = Field(default_factory=dict, description="run settings (reduced units)")
    wall_time_s: float | None = Field(None, description="wall time of the sampling, s")
    completed: bool = Field(True, description="False if the run stopped early (checkpoint kept)")

    @classmethod
    def from_result(cls, result, method: str, model, sample: int = 0, initial=None, **extra):
        """Build from a :class:`SwapMCResult` or :class:`MDResult`."""
        n = len(result.structure)
        if method.startswith("swap_mc"):
            length = float(result.n_sweeps)
            trace = {"x": result.trace_sweeps.tolist(), "x_unit": "sweeps",
                     "energy_per_atom_reduced": result.trace_energy_per_atom.tolist(),
                     "temperature": result.trace_temperature.tolist()}
            acc, rng = result.acceptance, [f"{v:016x}" for v in result.rng_state]
        else:
            length = float(result.duration)
            trace = {"x": result.trace_time.tolist(), "x_unit": "t* (reduced time)",
                     "energy_per_atom_reduced": result.trace_energy_per_atom.tolist(),
                     "temperature": result.trace_temperature.tolist()}
            acc, rng = None, None
        return cls(
            structure=result.structure,
            structure_hash=structure_hash(result.structure),
            method=method,
            cooling_length=length,
            t_start=result.t_start,
            t_end=result.t_end,
            n_atoms=n,
            seed=result.seed,
            sample=sample,
            initial_structure_hash=structure_hash(initial) if initial is not None else None,
            energy=result.energy,
            energy_per_atom=result.energy / n,
            energy_per_atom_reduced=result.energy_reduced / n,
            tau_eff=float(result.duration) if method == "md" else None,
            acceptance=acc,
            energy_trace=trace,
            rng_state=rng,
            model=model.as_dict_params(),
            length_unit_angstrom=model.length_unit,
            energy_unit_ev=model.energy_unit,
            settings=dict(result.settings),
            wall_time_s=result.wall_time_s,
            completed=result.completed,
            **extra,
        )

    def with_inherent_structure(self, inherent) -> SurrogateStateDocument:
        """Copy with the IS fields filled from an :class:`InherentStructure`."""
        return self.model_copy(update={
            "is_structure": inherent.structure,
            "is_structure_hash": structure_hash(inherent.structure),
            "e_is_per_atom": inherent.energy_per_atom,
            "e_is_per_atom_reduced": inherent.energy_per_atom_reduced,
        })


class TimescalePoint(BaseModel):
    """One point of Fig. 2a."""

    method: Literal["swap_mc", "md"] = Field(description="sampling method")
    cooling_length: float = Field(description="MC sweeps or MD t*")
    tau: float = Field(description="cooling time on the MD axis, reduced (MD: t*; swap-MC: tau_eff)")
    e_is_per_atom_reduced: float = Field(description="IS energy, eps_ZrZr/atom")
    e_is_per_atom: float = Field(description="IS energy, eV/atom")
    structure_hash: str = Field(description="hash of the cooled configuration")
    seed: int = Field(description="seed of the run")


class TimescaleMapDocument(BaseModel):
    """Fig. 2a: e_IS = e_IS,on + A log10(tau / tau_on) fitted on MD, swap-MC placed by inversion."""

    slope_a: float = Field(description="A, eps_ZrZr/atom per decade of cooling time (log10)")
    slope_a_stderr: float | None = Field(None, description="standard error of A")
    intercept: float = Field(description="e_IS at tau = 1 (reduced), eps_ZrZr/atom")
    e_is_on: float = Field(description="e_IS,on: IS energy at the onset, eps_ZrZr/atom")
    e_is_on_ev: float = Field(description="e_IS,on in eV/atom")
    e_is_on_source: str = Field(description="how e_IS,on was obtained (swap-MC equilibrium / given / fallback)")
    tau_on: float = Field(description="tau_CR,on: cooling time at the onset, reduced MD time")
    t_on: float = Field(description="onset temperature T_on, reduced")
    t_on_source: str = Field(description="'paper' (2.09) or 'arrhenius' (computed from equilibrium MD)")
    points: list[TimescalePoint] = Field(description="MD and swap-MC points of the figure")
    states: list[SurrogateStateDocument] = Field(description="all input states with tau_eff filled")
    figure_path: str | None = Field(None, description="PNG written by the job (in its run directory)")
    figure_png: str | None = Field(None, description="base64 PNG of Fig. 2a (stored in the 'data' store)")
    warnings: list[str] = Field(default_factory=list, description="problems of the fit (e.g. slope >= 0)")
    onset_data: dict[str, Any] | None = Field(
        None, description="equilibrium data used for the onset (temperatures, relaxation times, e_IS samples)"
    )
