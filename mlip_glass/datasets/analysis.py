"""Fig. 2b (surrogate vs reference energy per atom, linear fit) and the cost ledger of the database."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mlip_glass.reference.constants import VASP_COST_CPU_H
from mlip_glass.reference.schemas import LabelledFrame

#: atoms of the cell the paper's VASP costs refer to
VASP_COST_REFERENCE_ATOMS = 150
#: how a subset's frames are costed in VASP terms: per frame (single point) or per run (relax / AIMD)
SUBSET_COST_KIND = {
    "surrogate": "single_point",
    "expanded_compressed": "single_point",
    "distorted": "single_point",
    "mlip_feedback": "single_point",
    "relaxed": "relax",
    "crystal": "relax",
    "aimd": "aimd",
}


def linear_fit(x, y) -> dict:
    """Least-squares ``y = slope x + intercept`` with R²."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 2:
        raise ValueError(f"a linear fit needs at least 2 points, got {len(x)}")
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2, "n": int(len(x))}


def surrogate_vs_reference(frames: Iterable[LabelledFrame], lj_energies: dict[str, float] | None = None) -> dict:
    """Fig. 2b data: e(LJ) (eV/atom, from ``source.energy_per_atom_lj`` or ``lj_energies[parent hash]``) vs
    e(reference) (eV/atom) of the accepted surrogate-subset frames, with the linear fit."""
    e_lj, e_ref, hashes, engines = [], [], [], set()
    for f in frames:
        if f.rejected or f.subset != "surrogate":
            continue
        lj = f.source.energy_per_atom_lj
        if lj is None and lj_energies:
            lj = lj_energies.get(f.parent_hash or "") or lj_energies.get(f.structure_hash)
        if lj is None:
            continue
        e_lj.append(float(lj))
        e_ref.append(f.energy_per_atom)
        hashes.append(f.structure_hash)
        engines.add(f.engine)
    if len(e_lj) < 2:
        raise ValueError("Fig. 2b needs at least 2 surrogate frames with a known LJ energy per atom")
    return {
        "e_lj": e_lj,
        "e_ref": e_ref,
        "structure_hashes": hashes,
        "engine": ",".join(sorted(engines)),
        "fit": linear_fit(e_lj, e_ref),
    }


def plot_fig2b(data: dict, path: str | Path) -> Path:
    """PNG of e(reference) vs e(LJ) with the fitted line; the JSON data go next to it."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fit = data["fit"]
    x = np.asarray(data["e_lj"])
    fig, ax = plt.subplots(figsize=(4.2, 3.6), dpi=150)
    ax.scatter(x, data["e_ref"], s=14, alpha=0.8, label="surrogate structures")
    xx = np.linspace(x.min(), x.max(), 50)
    ax.plot(xx, fit["slope"] * xx + fit["intercept"], "k-", lw=1,
            label=f"fit: slope {fit['slope']:.3f}, R² {fit['r2']:.3f}")
    ax.set_xlabel("e(LJ) (eV/atom)")
    ax.set_ylabel(f"e({data['engine']}) (eV/atom)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    path.with_suffix(".json").write_text(json.dumps(data, indent=1))
    return path


def cost_ledger(frames: Iterable[LabelledFrame], vasp_cost_cpu_h: dict | None = None) -> dict:
    """Per subset: frames, runs (distinct parents for relax/AIMD), CPU time spent (s), and the VASP cost
    (CPU-h) the same labels would take at the paper's costs per 150-atom cell, scaled linearly with the
    number of atoms (a crude assumption for the small crystal cells).

    ``totals["surrogate_saving_cpu_h"]``: VASP relaxations the surrogate structures did not need (each surrogate
    structure labelled by a single point instead of a full relaxation), the paper's main saving.
    """
    costs = dict(VASP_COST_CPU_H, **(vasp_cost_cpu_h or {}))
    ledger: dict[str, dict] = {}
    runs: dict[str, dict[str, int]] = {}
    for f in frames:
        row = ledger.setdefault(
            f.subset, {"n_frames": 0, "n_rejected": 0, "n_runs": 0, "cpu_time_s": 0.0, "vasp_cpu_h": 0.0}
        )
        row["n_frames"] += 1
        row["n_rejected"] += int(f.rejected)
        row["cpu_time_s"] += f.cpu_time_s
        kind = SUBSET_COST_KIND.get(f.subset, "single_point")
        scale = len(f.structure) / VASP_COST_REFERENCE_ATOMS
        if kind == "single_point":
            row["n_runs"] += 1
            row["vasp_cpu_h"] += costs["single_point"] * scale
        else:
            key = f"{f.parent_hash}|{f.source.extra.get('aimd_seed', '')}"
            seen = runs.setdefault(f.subset, {})
            if key not in seen:
                seen[key] = 1
                row["n_runs"] += 1
                row["vasp_cpu_h"] += costs[kind] * scale
    n_surrogate = ledger.get("surrogate", {}).get("n_runs", 0)
    totals = {
        "n_frames": sum(r["n_frames"] for r in ledger.values()),
        "cpu_time_s": sum(r["cpu_time_s"] for r in ledger.values()),
        "vasp_cpu_h": sum(r["vasp_cpu_h"] for r in ledger.values()),
        "surrogate_saving_cpu_h": n_surrogate * (costs["relax"] - costs["single_point"]),
        "vasp_costs_cpu_h_per_150_atoms": costs,
    }
    return {"subsets": ledger, "totals": totals}
