"""VASP as a reference engine: atomate2 input sets with the paper's settings, ``run_vasp``, emmet ``TaskDoc``
→ :class:`LabelledFrame` per ionic step.

Two ways in:

- the jobflow Makers of :mod:`mlip_glass.reference.vasp_jobs` (``PaperStaticMaker`` ... on atomate2's
  ``StaticMaker``/``RelaxMaker``/``MDMaker``) followed by :func:`frames_from_task_doc`;
- :class:`VaspEngine`, the same protocol as the local engines (``static``/``relax``/``aimd``), which
  writes inputs, runs VASP and parses the run in a scratch directory without jobflow.

Labels: the energy is VASP's free energy ``e_fr_energy`` (the quantity whose derivatives are the forces),
forces eV/Å, stress converted from VASP's kbar (positive = compressive) to ASE's sign and eV/Å^3.
Unsuccessful runs, and relaxations whose last forces exceed |EDIFFG|, give rejected frames.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlip_glass.provenance import structure_hash
from mlip_glass.reference.base import ReferenceEngine, _source, parse_keep, to_structure
from mlip_glass.reference.constants import EDIFFG_EV_PER_A
from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol
from mlip_glass.reference.schemas import FrameSource, LabelledFrame
from mlip_glass.units import KBAR_PER_EV_A3


def _ionic_steps(task_doc) -> list[dict]:
    """Ionic steps of every calculation of a TaskDoc, in chronological order, as dicts with structure,
    e_fr_energy, forces, stress (kbar, VASP sign)."""
    steps = []
    for calc in reversed(list(task_doc.calcs_reversed or [])):
        ionic = getattr(calc.output, "ionic_steps", None)
        if ionic:
            for step in ionic:
                steps.append(
                    {
                        "structure": step.structure,
                        "e_fr_energy": step.e_fr_energy,
                        "forces": step.forces,
                        "stress": step.stress,
                    }
                )
            continue
        traj = (task_doc.vasp_objects or {}).get("trajectory")
        if traj is not None:
            if hasattr(traj, "to_pmg"):
                traj = traj.to_pmg()
            traj = traj if isinstance(traj, list) else [traj]
            for t in traj:
                for i, props in enumerate(t.frame_properties or []):
                    steps.append(
                        {
                            "structure": t.get_structure(i),
                            "e_fr_energy": props.get("e_fr_energy", props.get("energy")),
                            "forces": props.get("forces"),
                            "stress": props.get("stress"),
                        }
                    )
    return steps


def frames_from_task_doc(
    task_doc,
    subset: str = "surrogate",
    keep="all",
    parent_hash: str | None = None,
    source: FrameSource | dict | None = None,
    ediffg: float = EDIFFG_EV_PER_A,
    check_relax_forces: bool = False,
    engine_settings: dict | None = None,
) -> list[LabelledFrame]:
    """Labelled frames from an emmet/atomate2 VASP ``TaskDoc``.

    Parameters
    ----------
    keep
        ``"all"`` (every ionic step, e.g. AIMD), ``"last"`` or k (every k-th ionic step plus the last).
    check_relax_forces
        For relaxations: reject the last frame if its max force component exceeds ``|ediffg|`` (eV/Å).
    """
    every = parse_keep(keep)
    steps = _ionic_steps(task_doc)
    state = str(getattr(task_doc, "state", "successful"))
    state = state.split(".")[-1].lower()
    reason = None
    if not steps:
        raise ValueError("TaskDoc has no ionic steps to label (was the run parsed?)")
    if state not in ("successful", "success"):
        reason = f"VASP run state is {state!r}"
    calc0 = (task_doc.calcs_reversed or [None])[0]
    if calc0 is not None and getattr(calc0, "has_vasp_completed", None) not in (None, True) and str(
        calc0.has_vasp_completed
    ).split(".")[-1].lower() not in ("successful", "success", "true"):
        reason = reason or f"VASP did not complete ({calc0.has_vasp_completed})"
    total_cpu = 0.0
    for calc in task_doc.calcs_reversed or []:
        stats = getattr(calc.output, "run_stats", None)
        if stats is not None and getattr(stats, "total_time", None):
            total_cpu += float(stats.total_time)
    if not total_cpu and getattr(task_doc, "run_stats", None):
        total_cpu = sum(float(getattr(s, "total_time", 0) or 0) for s in task_doc.run_stats.values())
    indices = list(range(len(steps)))
    if every is None:
        indices = [indices[-1]]
    else:
        indices = [i for i in indices if i % every == 0 or i == len(steps) - 1]
    settings = dict(engine_settings or {})
    if not settings and task_doc.input is not None:
        incar = getattr(task_doc.input, "incar", None) or getattr(task_doc.input, "parameters", None) or {}
        settings = {"incar": {k: v for k, v in dict(incar).items()}}
        settings["vasp_version"] = getattr(task_doc, "vasp_version", None)
    if isinstance(source, dict):
        source = FrameSource(**source)
    frames = []
    for i in indices:
        step = steps[i]
        stress = step["stress"]
        stress_ase = None if stress is None else -np.asarray(stress, dtype=float) / KBAR_PER_EV_A3
        frame = LabelledFrame.from_labels(
            step["structure"],
            step["e_fr_energy"],
            step["forces"],
            stress_ase,
            engine="vasp",
            subset=subset,
            engine_settings=settings,
            parent_hash=parent_hash,
            source=_source(source, step=i, extra={"task_label": getattr(task_doc, "task_label", None)})
            if len(steps) > 1
            else _source(source),
            cpu_time_s=total_cpu / len(indices),
        )
        if reason:
            frame = frame.reject(reason)
        frames.append(frame)
    if check_relax_forces and not frames[-1].rejected:
        fmax = float(np.abs(frames[-1].forces_array()).max())
        if fmax > abs(ediffg) * (1 + 1e-6):
            frames[-1] = frames[-1].reject(
                f"relaxation not converged: max force {fmax:.4f} eV/Å > |EDIFFG| = {abs(ediffg)}"
            )
    return frames


@dataclass
class VaspEngine(ReferenceEngine):
    """VASP with the paper's input sets behind the reference-engine protocol (no jobflow).

    Parameters
    ----------
    static_set, relax_set, md_set
        atomate2 input-set generators (default: the paper's ``Paper*SetGenerator``).
    run_vasp_kwargs
        Passed to ``atomate2.vasp.run.run_vasp`` (e.g. ``vasp_cmd``).
    write_input_set_kwargs
        Passed to ``atomate2.vasp.files.write_vasp_input_set`` (e.g. ``potcar_spec=True`` in tests).
    scratch_dir
        Where run directories are created (default: a temporary directory, removed afterwards).
    """

    static_set: Any = None
    relax_set: Any = None
    md_set: Any = None
    run_vasp_kwargs: dict = field(default_factory=dict)
    write_input_set_kwargs: dict = field(default_factory=dict)
    scratch_dir: str | None = None
    name: str = "vasp"

    def __post_init__(self):
        # imported on demand: atomate2's VASP sets cost +2.8 s at import (`python -X importtime`)
        from mlip_glass.reference.vasp_sets import (
            PaperMDSetGenerator,
            PaperRelaxSetGenerator,
            PaperStaticSetGenerator,
        )

        self.static_set = self.static_set or PaperStaticSetGenerator()
        self.relax_set = self.relax_set or PaperRelaxSetGenerator()
        self.md_set = self.md_set or PaperMDSetGenerator()

    def settings(self):
        return {"static_set": type(self.static_set).__name__}

    def _run(self, structure, generator, subset, keep, parent_hash, source, check_relax_forces=False):
        import atomate2.vasp.run as a2run
        from atomate2.vasp.files import write_vasp_input_set
        from emmet.core.tasks import TaskDoc

        structure = to_structure(structure)
        cwd = os.getcwd()
        with tempfile.TemporaryDirectory(prefix="mlg_vasp_", dir=self.scratch_dir) as tmp:
            os.chdir(tmp)
            try:
                write_vasp_input_set(structure, generator, **self.write_input_set_kwargs)
                a2run.run_vasp(**self.run_vasp_kwargs)
                task_doc = TaskDoc.from_directory(Path(tmp))
            finally:
                os.chdir(cwd)
        ediffg = EDIFFG_EV_PER_A
        if task_doc.input:
            ediffg = float(dict(task_doc.input.incar or {}).get("EDIFFG", EDIFFG_EV_PER_A))
        return frames_from_task_doc(
            task_doc, subset, keep, parent_hash, source, ediffg=ediffg, check_relax_forces=check_relax_forces
        )

    def compute(self, atoms):
        frame = self._run(atoms, self.static_set, "surrogate", "last", None, None)[-1]
        return frame.energy, frame.forces_array(), frame.stress_array_ev_a3()

    def static(self, structure, subset="surrogate", parent_hash=None, source=None):
        self.check_structure(structure)
        return self._run(structure, self.static_set, subset, "last", parent_hash, source)[-1]

    def relax(self, structure, subset="relaxed", fmax=None, max_steps=None, keep=None, relax_cell=True,
              pressure_gpa=0.0, source=None, protocol=None):
        """VASP relaxation with the relax set (ISIF 3, EDIFFG); ``fmax``/``max_steps`` (or a ``protocol``'s)
        override EDIFFG/NSW; without either the set's values hold."""
        if protocol is not None:
            p = RelaxProtocol.from_any(protocol, fmax=fmax, max_steps=max_steps, keep=keep)
            fmax, max_steps, keep = p.fmax, p.max_steps, p.keep
        keep = "last" if keep is None else keep
        atoms = self.check_structure(structure)
        generator = self.relax_set
        updates = {}
        if fmax is not None:
            updates["EDIFFG"] = -abs(fmax)
        if max_steps is not None:
            updates["NSW"] = int(max_steps)
        if not relax_cell:
            updates["ISIF"] = 2
        if pressure_gpa:
            updates["PSTRESS"] = pressure_gpa * 10.0
        if updates:
            generator = _with_user_incar(generator, updates)
        return self._run(atoms, generator, subset, keep, structure_hash(atoms), source, check_relax_forces=True)

    def aimd(self, structure, subset="aimd", nsteps=None, t_start_k=None, t_end_k=None, timestep_fs=None,  # noqa: PLR0913 - AIMDProtocol's fields as overrides (ReferenceEngine.aimd's signature)
             gamma_per_ps=None, gamma_lattice_per_ps=None, pressure_gpa=None, seed=1, source=None, protocol=None):
        """VASP NPT Langevin heating with the MD set; every ionic step is a frame. A ``protocol``
        (:class:`AIMDProtocol`) replaces the set's MD keys; arguments that are not None override
        NSW/TEBEG/TEEND/POTIM/LANGEVIN_GAMMA(_L)/PSTRESS."""
        atoms = self.check_structure(structure)
        overrides = dict(
            nsteps=nsteps, t_start_k=t_start_k, t_end_k=t_end_k, timestep_fs=timestep_fs,
            gamma_per_ps=gamma_per_ps, gamma_lattice_per_ps=gamma_lattice_per_ps, pressure_gpa=pressure_gpa,
        )
        generator = self.md_set
        if protocol is not None or any(v is not None for v in overrides.values()):
            base = generator.protocol if protocol is None else protocol
            generator = generator.with_protocol(AIMDProtocol.from_any(base, **overrides))
        return self._run(atoms, generator, subset, "all", structure_hash(atoms), source)


def _with_user_incar(generator, updates: dict):
    import dataclasses

    merged = {**(generator.user_incar_settings or {}), **updates}
    return dataclasses.replace(generator, user_incar_settings=merged)
