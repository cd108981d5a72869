"""The report's lead table: the NEP against its reference engine on the same structures and protocols.

When the reference engine is itself a potential (the EAM), every number of this table can be computed:
relative differences of the elastic moduli and the AQS shear modulus (same minimised structures, same
protocol), the mean absolute difference of the two potentials' g(r) over 2.3–10 Å, the energy parity on the
held-out relaxed glasses, the held-out E/F errors per MD temperature, MD stability and box relaxation — plus one
row per active-learning iteration (held-out errors of each model, and which one was kept).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlip_glass.properties.constants import RDF_COMPARE_RANGE
from mlip_glass.properties.elastic import in_linear_regime
from mlip_glass.report.formatting import fmt as _fmt
from mlip_glass.report.formatting import is_nep as _is_nep

#: held-out categories reported in the table, in order
HELDOUT_ORDER = ("md_2000K", "md_1200K", "md_700K", "md_300K", "relaxed", "scaled_0.97", "scaled_1.03", "is_2000K",
                 "is_1200K", "is_700K", "swap_mc_deep", "all")


def _pair(docs: list[dict]) -> tuple[dict | None, dict | None]:
    """(NEP document, reference-potential document) among property documents with samples/curves."""
    usable = [d for d in docs if d.get("samples") or d.get("curves")]
    nep = next((d for d in reversed(usable) if _is_nep(d)), None)
    ref = next((d for d in reversed(usable) if not _is_nep(d)), None)
    return nep, ref


def relative_difference(nep: float | None, ref: float | None) -> float | None:
    """(nep − ref) / |ref| in %, None when either is missing or ref is 0."""
    if nep is None or ref is None or not ref:
        return None
    return 100.0 * (float(nep) - float(ref)) / abs(float(ref))


def _on_reference_grid(nep_doc: dict, ref_doc: dict, curve, r_range: tuple[float, float]):
    """(NEP values interpolated on the reference grid, reference values) of ``curve(doc["curves"])`` within
    ``r_range`` (Å); None when a curve is missing or the range holds no grid point."""
    try:
        r_ref = np.asarray(ref_doc["curves"]["r"], float)
        y_ref = np.asarray(curve(ref_doc["curves"]), float)
        r_nep = np.asarray(nep_doc["curves"]["r"], float)
        y_nep = np.asarray(curve(nep_doc["curves"]), float)
    except (KeyError, TypeError):
        return None
    mask = (r_ref >= r_range[0]) & (r_ref <= r_range[1])
    if not mask.any():
        return None
    return np.interp(r_ref[mask], r_nep, y_nep), y_ref[mask]


def rdf_mae(nep_doc: dict, ref_doc: dict, weighting: str = "xray",
            r_range: tuple[float, float] = RDF_COMPARE_RANGE) -> float | None:
    """Mean |g_NEP(r) − g_ref(r)| over ``r_range`` (Å), the NEP curve interpolated on the reference grid."""
    pair = _on_reference_grid(nep_doc, ref_doc, lambda c: c["g_weighted"][weighting], r_range)
    return None if pair is None else float(np.mean(np.abs(pair[0] - pair[1])))


def rdf_noise_mae(nep_doc: dict, ref_doc: dict, r_range: tuple[float, float] = RDF_COMPARE_RANGE) -> float | None:
    """The g(r) MAE that sampling noise alone gives: E|X − Y| = √(2/π)·√(σ_NEP² + σ_ref²) for two independent
    Gaussian estimates, averaged over ``r_range`` (Å), from the documents' standard errors of the total g(r) (over
    runs; over the correlated frames of a single run, then an underestimate). An MAE near this value does not
    resolve a difference between the potentials."""
    pair = _on_reference_grid(nep_doc, ref_doc, lambda c: c["g_total_err"], r_range)
    return None if pair is None else float(np.sqrt(2.0 / np.pi) * np.mean(np.sqrt(pair[0] ** 2 + pair[1] ** 2)))


def _linear_pairs(nep: dict | None, ref: dict | None) -> tuple[dict | None, dict | None, str]:
    """The two elastic documents restricted to the structures where both potentials stayed in the linear regime
    (:func:`~mlip_glass.properties.elastic.in_linear_regime`), and a note on what was left out ("" if nothing)."""
    if not nep or not ref:
        return nep, ref, ""
    def nonlinear(doc: dict) -> set:
        return {s.get("structure_hash") for s in doc.get("samples") or [] if not in_linear_regime(s)}

    bad_nep, bad_ref = nonlinear(nep), nonlinear(ref)
    left_out = bad_nep | bad_ref
    if not left_out:
        return nep, ref, ""

    def keep(doc: dict) -> dict:
        return {**doc, "samples": [s for s in doc.get("samples") or [] if s.get("structure_hash") not in left_out]}

    note = (f" ({len(left_out)} left out: C asymmetric or not positive definite, with the NEP on "
            f"{len(bad_nep)}, with the reference on {len(bad_ref)})")
    return keep(nep), keep(ref), note


def _mean(doc: dict | None, key: str) -> float | None:
    samples = (doc or {}).get("samples") or []
    values = [s[key] for s in samples if s.get(key) is not None]
    return float(np.mean(values)) if values else None


def property_rows(props: dict[str, list[dict]], engine: str) -> list[dict]:
    """NEP vs reference potential: elastic moduli, AQS G, g(r) MAE (rows: quantity, nep, reference, value, note)."""
    rows = []
    nep, ref = _pair(props.get("elastic", []))
    nep, ref, left_out = _linear_pairs(nep, ref)
    for key, label in (("B", "bulk modulus B (GPa)"), ("G", "shear modulus G (GPa)"), ("E", "Young's modulus E (GPa)"),
                       ("nu", "Poisson ratio ν")):
        a, b = _mean(nep, key), _mean(ref, key)
        rows.append({"quantity": label, "nep": _fmt(a), "reference": _fmt(b),
                     "value": _fmt(relative_difference(a, b), 2) + " %" if a is not None and b is not None else "—",
                     "note": f"elastic, same {len((nep or {}).get('samples') or [])} minimised structures{left_out}"})
    nep, ref = _pair(props.get("aqs_shear", []))
    a, b = _mean(nep, "G"), _mean(ref, "G")
    rows.append({"quantity": "AQS shear modulus G (GPa)", "nep": _fmt(a), "reference": _fmt(b),
                 "value": _fmt(relative_difference(a, b), 2) + " %" if a is not None and b is not None else "—",
                 "note": "AQS simple shear, fit on 0.004–0.006"})
    nep, ref = _pair(props.get("rdf", []))
    mae = rdf_mae(nep, ref) if nep and ref else None
    noise = rdf_noise_mae(nep, ref) if nep and ref else None
    runs = ((ref or {}).get("protocol") or {}).get("n_runs")
    rows.append({"quantity": f"g(r) MAE NEP vs {engine}, {RDF_COMPARE_RANGE[0]}–{RDF_COMPARE_RANGE[1]} Å",
                 "nep": _fmt((nep or {}).get("first_peak_r")), "reference": _fmt((ref or {}).get("first_peak_r")),
                 "value": _fmt(mae),
                 "note": "same melt–quench protocol; nep/reference columns: first peak (Å); sampling noise alone "
                         f"gives ≈ {_fmt(noise)} ({runs} run(s) per potential)"})
    for doc in props.get("aqs_shear", []) + props.get("elastic", []) + props.get("rdf", []):
        if _is_nep(doc) and not (doc.get("samples") or doc.get("curves")):
            rows.append({"quantity": f"{doc.get('property')} with the NEP", "nep": "failed", "reference": "",
                         "value": "failed", "note": str((doc.get("failures") or ["no samples"])[0])[:160]})
    return rows


def validation_rows(final: dict | None) -> list[dict]:
    """Held-out errors per category, energy parity, MD stability, box relaxation of the final (best) model."""
    if not final:
        return []
    rows = []
    errors = final.get("heldout_errors") or {}
    for category in HELDOUT_ORDER:
        row = errors.get(category)
        if row:
            rows.append({"quantity": f"held-out {category}: E / F RMSE (meV/atom, meV/Å)", "nep": "",
                         "reference": "", "value": f"{_fmt(row['rmse_energy_meV_per_atom'])} / "
                                                   f"{_fmt(row['rmse_force_meV_per_A'])}",
                         "note": f"{row.get('n_structures', '?')} frames never trained on"})
    parity = final.get("energy_parity")
    if parity:
        rows.append({"quantity": "energy parity on held-out box-relaxed structures (glasses and inherent structures): "
                                 "slope, RMSE (meV/atom)", "nep": "",
                     "reference": "", "value": f"{_fmt(parity['slope'], 4)}, {_fmt(parity['rmse_meV_per_atom'])}",
                     "note": f"{parity['n']} structures"})
    stability = final.get("stability")
    if stability:
        dmin = min((r["min_pair_distance_A"] for r in stability["runs"]), default=None)
        rows.append({"quantity": f"NVT MD {stability['t_k']:.0f} K, {stability['steps']} fs", "nep": "",
                     "reference": "", "value": "stable" if stability["stable"] else "UNSTABLE",
                     "note": f"{len(stability['runs'])} runs; closest pair {_fmt(dmin)} Å"})
    relaxation = final.get("relaxation")
    if relaxation:
        rows.append({"quantity": "box relaxation of reference-relaxed glasses: max |ΔV| (%)", "nep": "",
                     "reference": "", "value": _fmt(relaxation["max_abs_volume_change_percent"]),
                     "note": f"{len(relaxation['volume_change_percent'])} glasses; failures: "
                             f"{len(relaxation['failures'])}"})
    return rows


def iteration_rows(validations: list[dict], best_uuid: str | None) -> list[dict]:
    """One row per model validation (iteration): held-out test E/F and the validation score."""
    rows, seen = [], set()
    for out in validations:
        if out.get("model_uuid") in seen or out.get("physical_checks"):
            continue
        seen.add(out.get("model_uuid"))
        test = (out.get("heldout_errors") or {}).get("all") or {}
        rows.append({"quantity": f"iteration {out.get('iteration')}: held-out E / F RMSE", "nep": "",
                     "reference": "",
                     "value": f"{_fmt(test.get('rmse_energy_meV_per_atom'))} / "
                              f"{_fmt(test.get('rmse_force_meV_per_A'))}",
                     "note": f"validation score {_fmt(out.get('selection_score'))}"
                             + ("; kept (best)" if out.get("model_uuid") == best_uuid else "")})
    return rows


def cost_row(data: dict[str, Any]) -> dict | None:
    """DFT-equivalent cost of every training label of the campaign: the database ledger plus one single point
    per labelled active-learning frame (the held-out reference MD is for judging and is not counted)."""
    from mlip_glass.reference.constants import VASP_COST_CPU_H

    totals = (((data.get("database_report") or {}).get("cost_ledger") or {}).get("totals") or {})
    if not totals:
        return None
    feedback = sum(int(p.get("n_labelled") or p.get("n_new_frames") or 0) for p in data.get("learning_curve") or [])
    total = float(totals.get("vasp_cpu_h") or 0.0) + feedback * VASP_COST_CPU_H["single_point"]
    return {"quantity": "DFT-equivalent cost of all training labels (CPU-h)", "nep": "", "reference": "",
            "value": _fmt(total, 4),
            "note": f"database {_fmt(totals.get('vasp_cpu_h'), 4)} + {feedback} feedback single points at "
                    f"{VASP_COST_CPU_H['single_point']:g} CPU-h (paper's VASP costs per 150 atoms)"}


def closed_loop_table(data: dict[str, Any]) -> list[dict]:
    """Every row of "NEP vs reference engine, same structures, same protocol" (empty without a held-out set)."""
    if not data.get("validations"):
        return []
    engine = data.get("engine") or "reference"
    rows = iteration_rows(data.get("validations") or [], data.get("best_model_uuid"))
    rows += validation_rows(data.get("final_validation"))
    rows += property_rows(data.get("properties") or {}, engine)
    cost = cost_row(data)
    return rows + ([cost] if cost else [])


def ablation_table(store, with_swap: str, without_swap: str) -> list[dict]:
    """The paper's thesis as an experiment: two validate campaigns, with and without the swap-MC deep-glass
    structures in training (same number of frames), side by side — held-out errors of each campaign's kept model
    on the deepest swap-MC glasses and on the MD frames, and the property differences NEP vs reference.

    Rows: ``{"quantity", with_swap, without_swap}``; both campaigns must hold a final closed-loop validation."""
    from mlip_glass import queries

    def final(campaign: str) -> dict:
        docs = [d["output"] for d in queries.model_validations(store, campaign) if d["output"].get("physical_checks")]
        if not docs:
            raise queries.ProvenanceError(f"campaign {campaign!r} has no final closed-loop validation")
        return docs[-1]

    a, b = final(with_swap), final(without_swap)
    rows = []
    def cell(row: dict | None) -> str:
        return "—" if not row else f"{_fmt(row['rmse_energy_meV_per_atom'])} / {_fmt(row['rmse_force_meV_per_A'])}"

    for category in ("swap_mc_deep", "md_2000K", "md_1200K", "md_700K", "md_300K", "relaxed", "all"):
        ra, rb = (a.get("heldout_errors") or {}).get(category), (b.get("heldout_errors") or {}).get(category)
        if ra or rb:
            rows.append({"quantity": f"held-out {category}: E / F RMSE (meV/atom, meV/Å)",
                         with_swap: cell(ra), without_swap: cell(rb)})

    def frames(campaign: str) -> str:  # the arms differ in feedback data (selection follows each model)
        model = queries.best_model(store, campaign) or {}
        out: dict = model["output"] if isinstance(model.get("output"), dict) else {}
        return f"{out['n_train']} / {out['n_test']}" if out.get("n_train") is not None else "—"

    rows.append({"quantity": "kept model's dataset: train / test frames", with_swap: frames(with_swap),
                 without_swap: frames(without_swap)})
    pa = {r["quantity"]: r["value"] for r in property_rows(queries.property_outputs(store, with_swap), "reference")}
    pb = {r["quantity"]: r["value"] for r in property_rows(queries.property_outputs(store, without_swap), "reference")}
    for quantity in pa:
        rows.append({"quantity": f"NEP vs reference: {quantity}", with_swap: pa[quantity],
                     without_swap: pb.get(quantity, "—")})
    return rows
