"""Property protocols over many runs/structures for one potential, run in parallel processes, turned
into property documents. No jobflow here: the Makers in :mod:`mlip_glass.properties.jobs` call these.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from mlip_glass.errors import ProtocolError
from mlip_glass.properties import constants as C
from mlip_glass.properties.aqs import aqs_shear
from mlip_glass.properties.elastic import elastic_tensor, in_linear_regime, stiffness_asymmetry
from mlip_glass.properties.energetics import energy_parity, energy_per_atom
from mlip_glass.properties.inputs import (
    as_potential,
    as_structure,
    potential_info,
    reference_energy_per_atom,
)
from mlip_glass.properties.parallel import run_tasks
from mlip_glass.properties.protocols import AQSProtocol, ElasticProtocol, RDFProtocol
from mlip_glass.properties.rdf import (
    WEIGHTINGS,
    average_runs,
    compare_rdf,
    g_to_G,
    g_to_S,
    melt_quench,
    random_alloy,
    read_experimental_rdf,
    weighted_total,
)
from mlip_glass.properties.schemas import (
    AQSDocument,
    AQSSample,
    ElasticDocument,
    ElasticSample,
    EnergeticsDocument,
    EnergySample,
    PotentialRecord,
    RDFDocument,
    RunFailure,
)
from mlip_glass.provenance import structure_hash

logger = logging.getLogger(__name__)

#: q grid (1/Å) of the S(q) stored with RDF documents
SQ_GRID = np.linspace(0.5, 15.0, 300)


def _structures(items, field: str) -> list:
    if items is None:
        return []
    if not isinstance(items, (list, tuple)):
        items = [items]
    return [as_structure(item, f"{field}[{i}]") for i, item in enumerate(items)]


def _failures(outcomes, hashes=None) -> list[RunFailure]:
    return [
        RunFailure(label=o.label, error=o.error, structure_hash=hashes[i] if hashes else None)
        for i, o in enumerate(outcomes)
        if not o.ok
    ]


# -- RDF -------------------------------------------------------------------------------------------------
def rdf_run(potential, seed: int, label: str, start=None, n_atoms: int = C.RDF_N_ATOMS,
            composition: dict | None = None, **protocol) -> dict:
    """One melt-quench run (worker task): from ``start`` or a random cell made with ``seed``; ``protocol``: the
    fields of an :class:`~mlip_glass.properties.protocols.RDFProtocol` (plain values: they name the checkpoint)."""
    atoms = start if start is not None else random_alloy(n_atoms, composition, seed=seed)
    return melt_quench(atoms, potential, RDFProtocol(**protocol), seed=seed, run_label=label)


def compute_rdf(  # noqa: PLR0913 - runs, starting cells and the experiment comparison besides the RDFProtocol
    potential,
    structures=None,
    n_runs: int = C.RDF_N_RUNS,
    n_atoms: int = C.RDF_N_ATOMS,
    composition: dict | None = None,
    seed: int = 0,
    protocol: RDFProtocol | None = None,
    experiment: dict | str | None = None,
    compare_weighting: str = "xray",
    xray_q: float | None = None,
    compare_range=C.RDF_COMPARE_RANGE,
    n_workers: int = C.N_WORKERS,
    checkpoint_dir: str | None = None,
) -> RDFDocument:
    """``n_runs`` independent melt-quench runs (run i: velocity seed ``seed + i``, starting from
    ``structures[i % len]`` or a random ``n_atoms`` cell of ``composition``), averaged g(r), weighted
    totals, G(r), S(q) and the comparison with ``experiment`` (path or ``{"path", "kind",
    "number_density"}`` or ``{"r", "g"}``). ``protocol``: the :class:`~mlip_glass.properties.protocols.RDFProtocol`
    of every run (None: the paper's, recorded as no fields)."""
    start_time = time.perf_counter()
    potential = as_potential(potential)
    starts = _structures(structures, "structures")
    if n_runs < 1:
        raise ProtocolError(f"n_runs must be >= 1, got {n_runs}")
    if compare_weighting not in WEIGHTINGS:
        raise ProtocolError(f"compare_weighting must be one of {WEIGHTINGS}, got {compare_weighting!r}")
    fields = {} if protocol is None else dataclasses.asdict(protocol)
    tasks, labels = [], []
    for i in range(n_runs):
        label = f"rdf run {i} ({potential.name})"
        tasks.append(dict(potential=potential, seed=seed + i, label=label,
                          start=starts[i % len(starts)] if starts else None, n_atoms=n_atoms,
                          composition=composition or C.RDF_COMPOSITION, **fields))
        labels.append(label)
    outcomes = run_tasks(rdf_run, tasks, labels, n_workers, checkpoint_dir)
    runs = [o.result for o in outcomes if o.ok]
    doc = RDFDocument(
        potential=PotentialRecord(**potential_info(potential)),
        protocol={"n_runs": n_runs, "n_atoms": n_atoms if not starts else None,
                  "composition": composition or C.RDF_COMPOSITION, "seed": seed, **fields},
        structure_hashes=[structure_hash(s) for s in starts],
        n_requested=n_runs,
        n_ok=len(runs),
        failures=_failures(outcomes),
    )
    if runs:
        avg = average_runs(runs)
        r, rho = avg["r"], avg["number_density"]
        weighted = {w: weighted_total(avg, w, xray_q if w == "xray" else None) for w in WEIGHTINGS}
        doc.seeds = [run["seed"] for run in runs]
        doc.final_structure_hashes = [structure_hash(run["final_structure"]) for run in runs]
        doc.number_density = rho
        doc.temperature = float(np.mean([run["temperature"] for run in runs]))
        doc.energy_per_atom = float(np.mean([run["energy_per_atom"] for run in runs]))
        doc.first_peak_r = float(r[np.argmax(avg["total"])])
        doc.curves = {
            "r": r.tolist(),
            "g_total": avg["total"].tolist(),
            "g_total_err": avg["total_err"].tolist(),
            "g_partials": {k: v.tolist() for k, v in avg["partials"].items()},
            "g_partials_err": {k: v.tolist() for k, v in avg["partials_err"].items()},
            "g_weighted": {k: v.tolist() for k, v in weighted.items()},
            "G_weighted": {k: g_to_G(r, v, rho).tolist() for k, v in weighted.items()},
            "q": SQ_GRID.tolist(),
            "S_weighted": {k: g_to_S(r, v, rho, SQ_GRID, lorch=True).tolist() for k, v in weighted.items()},
            "g_total_per_run": [run["total"].tolist() for run in runs],
            "concentrations": avg["concentrations"],
        }
        if experiment is not None:
            exp = _experiment(experiment)
            cmp = compare_rdf(r, weighted[compare_weighting], exp["r"], exp["g"], compare_range)
            doc.comparison = {**cmp, "weighting": compare_weighting, "q": xray_q,
                              "source": exp.get("source")}
            doc.curves["experiment"] = {"r": np.asarray(exp["r"]).tolist(), "g": np.asarray(exp["g"]).tolist()}
    doc.wall_time_s = time.perf_counter() - start_time
    return doc


def _experiment(experiment) -> dict:
    if isinstance(experiment, dict) and "r" in experiment and "g" in experiment:
        return experiment
    if isinstance(experiment, dict):
        return read_experimental_rdf(experiment["path"], experiment.get("kind", "g"),
                                     experiment.get("number_density"))
    return read_experimental_rdf(experiment)


def _per_structure(func, kind: str, potential, structures, protocol: dict, curve_keys, n_workers,
                   checkpoint_dir):
    """Run ``func(structure, potential, **protocol)`` on every structure in parallel; returns
    (potential, hashes, outcomes, ok [(hash, result)], curves {structure_hash, *curve_keys})."""
    potential = as_potential(potential)
    structs = _structures(structures, "structures")
    hashes = [structure_hash(s) for s in structs]
    tasks = [dict(structure=s, potential=potential, **protocol) for s in structs]
    labels = [f"{kind} structure {i} {h[:10]} ({potential.name})" for i, h in enumerate(hashes)]
    outcomes = run_tasks(func, tasks, labels, n_workers, checkpoint_dir)
    ok = [(h, o.result) for h, o in zip(hashes, outcomes) if o.ok]
    curves = {"structure_hash": [h for h, _ in ok]}
    for key in curve_keys:
        curves[key] = [np.asarray(res[key]).tolist() for _, res in ok]
    return potential, hashes, outcomes, ok, curves


# -- elastic ---------------------------------------------------------------------------------------------
def compute_elastic(
    potential,
    structures,
    protocol: ElasticProtocol | None = None,
    n_workers: int = C.N_WORKERS,
    checkpoint_dir: str | None = None,
) -> ElasticDocument:
    """0 K elastic constants of every structure (one parallel task each) with ``protocol`` (default: the
    paper's), averaged moduli."""
    start_time = time.perf_counter()
    p = protocol or ElasticProtocol()
    settings = dict(norm_strains=list(p.norm_strains), shear_strains=list(p.shear_strains), fmax=p.fmax,
                    relax_first=p.relax_first, relax_fmax=p.relax_fmax)
    potential, hashes, outcomes, ok, curves = _per_structure(
        elastic_tensor, "elastic", potential, structures, settings, ("strains", "stresses", "eq_stress"),
        n_workers, checkpoint_dir)
    samples = [
        ElasticSample(
            structure_hash=h, relaxed_structure_hash=structure_hash(res["relaxed_structure"]),
            C=np.asarray(res["C"]).tolist(), asymmetry=stiffness_asymmetry(res["C"]),
            **{k: float(res[k]) for k in ("B", "G", "E", "nu", "B_voigt", "B_reuss", "G_voigt", "G_reuss",
                                         "energy_per_atom")},
        )
        for h, res in ok
    ]
    linear = [s for s in samples if in_linear_regime(s.model_dump())]
    keys = ("B", "G", "E", "nu")
    values = {k: [getattr(s, k) for s in linear] for k in keys}
    return ElasticDocument(
        potential=PotentialRecord(**potential_info(potential)), protocol=settings,
        structure_hashes=hashes, n_requested=len(hashes), n_ok=len(samples),
        failures=_failures(outcomes, hashes), samples=samples, n_nonlinear=len(samples) - len(linear),
        mean={k: float(np.mean(v)) for k, v in values.items()} if linear else {},
        std={k: float(np.std(v)) for k, v in values.items()} if linear else {},
        curves=curves, wall_time_s=time.perf_counter() - start_time,
    )


# -- AQS -------------------------------------------------------------------------------------------------
def compute_aqs(
    potential,
    structures,
    protocol: AQSProtocol | None = None,
    n_workers: int = C.N_WORKERS,
    checkpoint_dir: str | None = None,
) -> AQSDocument:
    """AQS simple shear of every structure (one parallel task each) with ``protocol`` (default: the paper's)."""
    start_time = time.perf_counter()
    p = protocol or AQSProtocol()
    settings = dict(max_strain=p.max_strain, strain_step=p.strain_step, fit_range=list(p.fit_range),
                    plane=p.plane, fmax=p.fmax, relax_first=p.relax_first, relax_fmax=p.relax_fmax)
    potential, hashes, outcomes, ok, curves = _per_structure(
        aqs_shear, "aqs", potential, structures, settings, ("strain", "stress", "energy"), n_workers,
        checkpoint_dir)
    samples = [AQSSample(structure_hash=h, G=res["G"], energy_per_atom=res["energy_per_atom"],
                         max_stress=float(np.max(res["stress"]))) for h, res in ok]
    gs = [s.G for s in samples]
    return AQSDocument(
        potential=PotentialRecord(**potential_info(potential)), protocol=settings,
        structure_hashes=hashes, n_requested=len(hashes), n_ok=len(samples),
        failures=_failures(outcomes, hashes), samples=samples,
        mean_G=float(np.mean(gs)) if gs else None, std_G=float(np.std(gs)) if gs else None,
        curves=curves, wall_time_s=time.perf_counter() - start_time,
    )


# -- energetics ------------------------------------------------------------------------------------------
def _energies_chunk(structures, potential, relax_first, fmax) -> list[float]:
    return [energy_per_atom(s, potential, relax_first=relax_first, fmax=fmax) for s in structures]


def compute_energetics(
    potential,
    structures,
    reference_energies: Sequence[float | None] | None = None,
    relax_first: bool = False,
    fmax: float = C.RELAX_FMAX,
    n_workers: int = C.N_WORKERS,
) -> EnergeticsDocument:
    """Energy per atom of every structure with ``potential`` and its parity with the reference energies
    (eV/atom; from ``reference_energies`` or the ``energy`` of ``LabelledFrame`` inputs). Structures
    are split into ``n_workers`` chunks (single points are cheap)."""
    start_time = time.perf_counter()
    potential = as_potential(potential)
    items = structures if isinstance(structures, (list, tuple)) else [structures]
    structs = _structures(items, "structures")
    if reference_energies is None:
        reference_energies = [reference_energy_per_atom(item) for item in items]
    elif len(reference_energies) != len(structs):
        raise ValueError(f"reference_energies has {len(reference_energies)} values for {len(structs)} structures")
    engines = [item.get("engine") if isinstance(item, dict) else getattr(item, "engine", None) for item in items]
    hashes = [structure_hash(s) for s in structs]
    n_chunks = max(1, min(n_workers, len(structs)))
    chunks = [list(range(len(structs)))[k::n_chunks] for k in range(n_chunks)]
    tasks = [dict(structures=[structs[i] for i in chunk], potential=potential, relax_first=relax_first,
                  fmax=fmax) for chunk in chunks]
    labels = [f"energetics chunk {k} ({potential.name})" for k in range(n_chunks)]
    outcomes = run_tasks(_energies_chunk, tasks, labels, n_workers if len(structs) > 8 else 1)
    samples, failures = [], []
    energies: dict[int, float] = {}
    for chunk, o in zip(chunks, outcomes):
        if o.ok:
            energies.update(zip(chunk, o.result))
        else:
            failures.append(RunFailure(label=o.label, error=o.error))
    for i in sorted(energies):
        samples.append(EnergySample(structure_hash=hashes[i], e_potential=energies[i],
                                    e_reference=reference_energies[i], reference_engine=engines[i]))
    paired = [(s.e_reference, s.e_potential) for s in samples if s.e_reference is not None]
    parity = None
    if len(paired) >= 2:
        try:
            parity = energy_parity(*zip(*paired))
        except ValueError as exc:  # e.g. all reference energies equal: keep the energies
            failures.append(RunFailure(label=f"energetics parity ({potential.name})", error=str(exc)))
    return EnergeticsDocument(
        potential=PotentialRecord(**potential_info(potential)),
        protocol={"relax_first": relax_first, "fmax": fmax}, structure_hashes=hashes,
        n_requested=len(structs), n_ok=len(samples), failures=failures, samples=samples,
        parity=parity, wall_time_s=time.perf_counter() - start_time,
    )


def summary_row(document: Any) -> dict:
    """One line per document for suite summaries (potential, property, headline numbers)."""
    d = document if isinstance(document, dict) else document.model_dump()
    row = {"potential": d["potential"]["name"], "potential_id": d["potential"].get("potential_id"),
           "property": d["property"], "n_ok": d["n_ok"], "n_requested": d["n_requested"]}
    if d["property"] == "rdf":
        row.update(first_peak_r=d.get("first_peak_r"), number_density=d.get("number_density"),
                   comparison=d.get("comparison"))
    elif d["property"] == "elastic":
        row.update(d.get("mean") or {})
    elif d["property"] == "aqs_shear":
        row.update(G=d.get("mean_G"), G_std=d.get("std_G"))
    elif d["property"] == "energetics":
        row.update(d.get("parity") or {})
    return row


def merge_rdf_documents(documents: list) -> RDFDocument:
    """Merge RDF documents of the same potential and protocol made with different seeds (jobs split for
    clusters): g curves weighted by successful runs; standard errors from the per-run totals (total) and
    by combining the documents' standard errors (partials)."""
    docs = [d if isinstance(d, RDFDocument) else RDFDocument(**d) for d in documents]
    ok = [d for d in docs if d.n_ok and d.curves]
    merged = docs[0].model_copy(deep=True)
    merged.n_requested = sum(d.n_requested for d in docs)
    merged.n_ok = sum(d.n_ok for d in docs)
    merged.failures = [f for d in docs for f in d.failures]
    merged.seeds = [s for d in docs for s in d.seeds]
    merged.final_structure_hashes = [h for d in docs for h in d.final_structure_hashes]
    merged.protocol = {**docs[0].protocol, "n_runs": merged.n_requested,
                       "seed": [d.protocol.get("seed") for d in docs]}
    merged.wall_time_s = sum(d.wall_time_s for d in docs)
    if not ok:
        return merged
    w = np.array([d.n_ok for d in ok], float)

    def wmean(values):
        return (np.tensordot(w, np.array(values, float), axes=1) / w.sum()).tolist()

    def werr(errors):
        errors = np.array(errors, float)
        return (np.sqrt(np.tensordot(w**2, errors**2, axes=1)) / w.sum()).tolist()

    runs = [d.curves or {} for d in ok]
    curves = dict(runs[0])
    per_run = [g for c in runs for g in c["g_total_per_run"]]
    curves["g_total_per_run"] = per_run
    curves["g_total"] = wmean([c["g_total"] for c in runs])
    curves["g_total_err"] = (np.std(per_run, axis=0, ddof=1) / np.sqrt(len(per_run))).tolist() \
        if len(per_run) > 1 else runs[0]["g_total_err"]
    for key in ("g_partials", "g_weighted", "G_weighted", "S_weighted"):
        curves[key] = {k: wmean([c[key][k] for c in runs]) for k in runs[0][key]}
    curves["g_partials_err"] = {k: werr([c["g_partials_err"][k] for c in runs]) for k in runs[0]["g_partials_err"]}
    merged.curves = curves
    for attr in ("number_density", "temperature", "energy_per_atom"):
        setattr(merged, attr, float(np.average([getattr(d, attr) for d in ok], weights=w)))
    r = np.array(curves["r"])
    merged.first_peak_r = float(r[np.argmax(curves["g_total"])])
    if ok[0].comparison is not None and "experiment" in curves:
        c = ok[0].comparison
        exp = curves["experiment"]
        cmp = compare_rdf(r, curves["g_weighted"][c["weighting"]], exp["r"], exp["g"], c["r_range"])
        merged.comparison = {**c, **cmp}
    return merged
