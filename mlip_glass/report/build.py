"""Collect a campaign's documents from the store, draw the figures, write the HTML report."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from mlip_glass import queries
from mlip_glass.properties.constants import PAPER_ENERGY_SLOPE, PAPER_RDF_MAE
from mlip_glass.reference.constants import VASP_COST_CPU_H
from mlip_glass.report.closed_loop import closed_loop_table
from mlip_glass.report.formatting import fmt as _fmt
from mlip_glass.report.formatting import is_nep as _is_nep
from mlip_glass.report.formatting import potential_name as _potential_name

logger = logging.getLogger(__name__)


def collect_campaign(store, campaign: str) -> dict[str, Any]:
    """Every document the report needs, by role (outputs as dicts, blobs loaded from the data store)."""
    store.connect()

    def stage(name: str, **extra) -> dict:
        return queries.criteria(campaign, name, **extra)

    exists = {"$exists": True}
    models = {}
    for k in queries.finished_iterations(store, campaign):
        doc = queries.find_model(store, campaign, k, load=True)
        if doc is not None:
            models[k] = doc.get("output") or {}
    props = queries.property_outputs(store, campaign)
    validations = [d["output"] for d in queries.model_validations(store, campaign)]
    finals = [v for v in validations if v.get("physical_checks")]
    best = queries.best_model(store, campaign)
    return {
        "campaign": campaign,
        "validations": validations,
        "final_validation": finals[-1] if finals else None,
        "best_model_uuid": (best or {}).get("uuid"),
        "timescale": queries.latest_output(store, stage("surrogate", **{"output.slope_a": exists})),
        "dataset": queries.latest_output(store, stage("dataset", **queries.IS_DATASET)),
        "database_report": queries.latest_output(store, stage("dataset", **{"output.cost_ledger": exists})),
        "models": models,
        "learning_curve": queries.learning_curve(store, campaign),
        "properties": props,
    }


# -- figures --------------------------------------------------------------------------------------------
def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def fig2a(timescale: dict, path: Path) -> Path:
    """e_IS vs cooling time: MD, swap-MC at its effective time, the fit, the onset (reduced units)."""
    from mlip_glass.surrogate.timescale import TimescaleMap, plot_timescale_map

    tmap = TimescaleMap(
        slope=timescale["slope_a"], intercept=timescale["intercept"], e_is_on=timescale["e_is_on"],
        tau_on=timescale["tau_on"], t_on=timescale["t_on"],
    )
    md = [p for p in timescale["points"] if p["method"] == "md"]
    mc = [p for p in timescale["points"] if p["method"] == "swap_mc"]
    plot_timescale_map(
        path,
        [p["tau"] for p in md], [p["e_is_per_atom_reduced"] for p in md],
        [p["tau"] for p in mc], [p["e_is_per_atom_reduced"] for p in mc], tmap,
        mc_labels=[f"{p['cooling_length']:.0e}" for p in mc],
    )
    return path


def fig3a(dataset: dict, path: Path, engine: str) -> Path:
    """Number of training (and test) structures per subset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = dataset["counts"]
    subsets = [s for s in counts if counts[s].get("total", 0) > 0]
    train = [counts[s]["train"] for s in subsets]
    test = [counts[s]["test"] for s in subsets]
    fig, ax = plt.subplots(figsize=(5.2, 3.4), constrained_layout=True)
    x = np.arange(len(subsets))
    ax.bar(x, train, label="train")
    ax.bar(x, test, bottom=train, label="test")
    for xi, n in zip(x, train):
        ax.text(float(xi), n / 2, str(n), ha="center", va="center", fontsize=8, color="white")
    ax.set_xticks(x, [s.replace("_", "/") for s in subsets], rotation=25, fontsize=8)
    ax.set(ylabel="structures", title=f"training database (labels: {engine})")
    ax.legend(fontsize=8)
    return _save(fig, path)


def _engine_of(data: dict) -> str:
    ledger = (data.get("database_report") or {}).get("cost_ledger") or {}
    engines = ledger.get("engines") or (data.get("database_report") or {}).get("fig2b", {}) or {}
    if isinstance(engines, dict):
        engines = engines.get("engine")
    return str(engines or "reference")


def draw_figures(data: dict, folder: Path) -> dict[str, str]:
    """Every figure the data allow; a figure that cannot be drawn is logged and left out."""
    from mlip_glass.datasets.analysis import plot_fig2b
    from mlip_glass.nep.figures import nep_figures
    from mlip_glass.properties import plots

    figures: dict[str, str] = {}

    def attempt(key: str, draw):
        try:
            result = draw()
        except Exception as exc:  # a missing piece must not cost the other figures
            logger.warning("figure %s not drawn: %s", key, exc)
            return
        if isinstance(result, dict):
            figures.update({k: str(v) for k, v in result.items()})
        elif result is not None:
            figures[key] = str(result)

    if data["timescale"]:
        attempt("2a", lambda: fig2a(data["timescale"], folder / "fig2a.png"))
    fig2b_data = (data["database_report"] or {}).get("fig2b")
    if fig2b_data:
        attempt("2b", lambda: plot_fig2b(fig2b_data, folder / "fig2b.png"))
    if data["dataset"]:
        attempt("3a", lambda: fig3a(data["dataset"], folder / "fig3a.png", _engine_of(data)))
    if data["models"]:
        last = max(data["models"])
        attempt("3b-d", lambda: nep_figures(data["models"][last], folder, prefix="fig3"))
    props = data["properties"]
    for key, kind, draw in (
        ("4a", "rdf", plots.plot_rdf),
        ("4b", "elastic", plots.plot_moduli),
        ("5a", "aqs_shear", plots.plot_shear_vs_energy),
        ("5b", "energetics", plots.plot_energy_parity),
    ):
        usable = [doc for doc in props[kind] if doc.get("samples") or doc.get("curves")]
        if usable:
            attempt(key, lambda d=draw, docs=usable, key=key: _save(d(docs), folder / f"fig{key}.png"))
    return figures


# -- table ----------------------------------------------------------------------------------------------
#: report row → key of the NEP error table (mlip_glass.nep.evaluate)
RMSE_KEYS = {
    "energy (meV/atom)": "rmse_energy_meV_per_atom",
    "force (meV/Å)": "rmse_force_meV_per_A",
    "virial (meV/atom)": "rmse_virial_meV_per_atom",
}


def _rmse(rmse_table: dict | None, split: str, key: str):
    return (((rmse_table or {}).get(split) or {}).get("all") or {}).get(key)


def paper_comparison(data: dict) -> list[dict]:
    """Rows (quantity, paper, this campaign, note) of the report table, from the collected documents."""
    rows: list[dict] = []
    engine = _engine_of(data)
    dataset = data["dataset"] or {}
    for subset, row in (dataset.get("counts") or {}).items():
        rows.append({"quantity": f"structures in subset {subset} (train/test)", "paper": "Fig. 3a",
                     "campaign": f"{row.get('train', 0)}/{row.get('test', 0)}", "note": f"labels: {engine}"})
    if data["models"]:
        k = max(data["models"])
        model = data["models"][k]
        backend = model.get("backend") or {}
        backend = backend.get("name", "?") if isinstance(backend, dict) else backend
        for label, key in RMSE_KEYS.items():
            rows.append({"quantity": f"NEP test RMSE {label}, iteration {k}", "paper": "Figs. 3b–c",
                         "campaign": _fmt(_rmse(model.get("rmse"), "test", key)),
                         "note": f"train {_fmt(_rmse(model.get('rmse'), 'train', key))}; trainer {backend}; "
                                 f"labels {engine}"})
    for point in data["learning_curve"] or []:
        rows.append({"quantity": f"learning curve: iteration {point['iteration']}, test force RMSE (meV/Å)",
                     "paper": "—", "campaign": _fmt(_rmse(point.get("rmse"), "test", RMSE_KEYS["force (meV/Å)"])),
                     "note": f"{point.get('n_train')} train / {point.get('n_test')} test frames"
                             + (f"; {point['n_new_frames']} new" if point.get("n_new_frames") is not None else "")})
    props = data["properties"]
    for doc in props["energetics"]:
        paper = PAPER_ENERGY_SLOPE["MLIP" if _is_nep(doc) else "EAM"]
        rows.append({"quantity": f"energy slope vs reference, {_potential_name(doc)}", "paper": _fmt(paper, 4),
                     "campaign": _fmt((doc.get("parity") or {}).get("slope"), 4),
                     "note": f"RMSE {_fmt((doc.get('parity') or {}).get('rmse'))} eV/atom vs {engine}"})
    for doc in props["rdf"]:
        paper = PAPER_RDF_MAE["MLIP" if _is_nep(doc) else "EAM"]
        comparison = doc.get("comparison") or {}
        note = f"Wasserstein {_fmt(comparison.get('wasserstein'))}" if comparison else "no experimental file given"
        rows.append({"quantity": f"RDF MAE vs experiment 2.3–10 Å, {_potential_name(doc)}", "paper": _fmt(paper),
                     "campaign": _fmt(comparison.get("mae")), "note": note})
    for doc in props["elastic"]:
        samples = doc.get("samples") or []
        if samples:
            means = {m: float(np.mean([s[m] for s in samples])) for m in ("E", "B", "G", "nu")}
            rows.append({"quantity": f"E / B / G (GPa), ν, {_potential_name(doc)}", "paper": "Fig. 4b",
                         "campaign": " / ".join(_fmt(means[m]) for m in ("E", "B", "G")) + f", {_fmt(means['nu'])}",
                         "note": f"{len(samples)} samples"})
    for doc in props["aqs_shear"]:
        samples = doc.get("samples") or []
        if samples:
            rows.append({"quantity": f"AQS shear modulus G (GPa), {_potential_name(doc)}", "paper": "Fig. 5a",
                         "campaign": _fmt(float(np.mean([s['G'] for s in samples]))),
                         "note": f"{len(samples)} samples"})
    for kind in ("elastic", "aqs_shear"):
        for doc in props[kind]:
            if not doc.get("samples"):
                failures = doc.get("failures") or []
                reason = str(failures[0].get("error", failures[0]) if failures and isinstance(failures[0], dict)
                             else (failures[0] if failures else "no samples"))
                rows.append({"quantity": f"{kind} with {_potential_name(doc)}", "paper": "—",
                             "campaign": "failed", "note": reason[:200]})
    ledger = (data["database_report"] or {}).get("cost_ledger") or {}
    if ledger:
        total = ledger.get("totals") or {}
        rows.append({"quantity": "DFT cost of this database if labelled with VASP (CPU-h)",
                     "paper": " / ".join(f"{v:g}" for v in VASP_COST_CPU_H.values()) + " per 150-atom cell",
                     "campaign": _fmt(total.get("vasp_cpu_h")),
                     "note": f"spent here: {_fmt(total.get('cpu_time_s'))} CPU-s with {engine}; relaxations the "
                             f"surrogate saved: {_fmt(total.get('surrogate_saving_cpu_h'))} CPU-h"})
    return rows


def write_report(store, campaign: str, folder: str | Path | None = None) -> Path:
    """Write ``index.html``, ``summary.json`` and the figures of ``campaign`` into ``folder``.

    Default folder: ``<embedded project dir>/report_<campaign>`` or ``./report_<campaign>``.
    Raises ``ValueError`` if the store holds nothing of the campaign.
    """
    data = collect_campaign(store, campaign)
    if not (data["dataset"] or data["timescale"] or data["models"]):
        raise ValueError(f"the store holds no documents of campaign {campaign!r}")
    folder = Path(folder) if folder else _default_folder(store, campaign)
    folder.mkdir(parents=True, exist_ok=True)
    figures = draw_figures(data, folder)
    rows = paper_comparison(data)
    data["engine"] = _engine_of(data)
    loop_rows = closed_loop_table(data)
    (folder / "summary.json").write_text(json.dumps({"campaign": campaign, "closed_loop": loop_rows, "table": rows,
                                                     "figures": sorted(figures)}, indent=1))
    (folder / "index.html").write_text(_html(campaign, rows, figures, folder, loop_rows))
    return folder


def _default_folder(store, campaign: str) -> Path:
    docs = getattr(store.docs_store, "database_path", None)
    base = Path(docs).parent if docs else Path.cwd()
    return base / f"report_{campaign}"


FIGURE_CAPTIONS = {
    "2a": "Fig. 2a — inherent-structure energy vs cooling time: MD, swap-MC at its effective time, fit, onset",
    "2b": "Fig. 2b — surrogate (LJ) energy vs reference energy of surrogate structures",
    "3a": "Fig. 3a — structures per subset of the training database",
    "3b": "Fig. 3b — energy parity NEP vs reference, by subset",
    "3c": "Fig. 3c — force parity NEP vs reference, train and test",
    "3d": "Fig. 3d — loss curves (total and components, train/test)",
    "4a": "Fig. 4a — radial distribution function per potential",
    "4b": "Fig. 4b — elastic moduli E, B, G and Poisson ratio per potential",
    "5a": "Fig. 5a — AQS shear modulus vs structure energy",
    "5b": "Fig. 5b — energy parity of NEP and EAM vs the reference",
}


def _html(campaign: str, rows: list[dict], figures: dict[str, str], folder: Path,
          loop_rows: list[dict] | None = None) -> str:
    e = html.escape
    loop = "\n".join(
        f"<tr><td>{e(r['quantity'])}</td><td>{e(str(r['nep']))}</td><td>{e(str(r['reference']))}</td>"
        f"<td>{e(str(r['value']))}</td><td>{e(str(r['note']))}</td></tr>"
        for r in loop_rows or []
    )
    loop_section = (
        "<h2>NEP vs reference engine, same structures, same protocol</h2>"
        "<table><tr><th>quantity</th><th>NEP</th><th>reference</th><th>difference / value</th><th>note</th></tr>"
        f"{loop}</table>" if loop_rows else "")
    table = "\n".join(
        f"<tr><td>{e(r['quantity'])}</td><td>{e(str(r['paper']))}</td><td>{e(str(r['campaign']))}</td>"
        f"<td>{e(str(r['note']))}</td></tr>"
        for r in rows
    )
    figs = "\n".join(
        f'<figure><img src="{e(Path(path).name)}" width="480"><figcaption>{e(FIGURE_CAPTIONS.get(key, key))}'
        "</figcaption></figure>"
        for key, path in sorted(figures.items())
    )
    missing = [k for k in FIGURE_CAPTIONS if k not in figures]
    note = f"<p>Not drawn (no data in the store): {', '.join(missing)}</p>" if missing else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>mlip_glass report: {e(campaign)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}td,th{{border:1px solid #ccc;padding:3px 6px}}
table{{border-collapse:collapse}}figure{{display:inline-block;margin:6px}}</style></head><body>
<h1>mlip_glass campaign <code>{e(campaign)}</code></h1>
<p>Everything below was read from the job store. Method: arXiv:2501.00589.</p>
{loop_section}
<h2>Paper vs this campaign</h2>
<table><tr><th>quantity</th><th>paper</th><th>this campaign</th><th>note</th></tr>
{table}</table>
<h2>Figures</h2>{note}
{figs}
</body></html>"""
