"""Figures 4a, 4b, 5a, 5b from property documents (pydantic or dicts with ``curves`` loaded).

Each function returns a matplotlib ``Figure``; save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

import numpy as np


def _d(doc):
    return doc if isinstance(doc, dict) else doc.model_dump()


def _figure(ncols=1):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.4), constrained_layout=True)


def plot_rdf(documents, weighting: str = "xray", experiment: dict | None = None):
    """Fig. 4a: weighted total g(r) (mean ± standard error) per potential, with the experiment."""
    fig, ax = _figure()
    for doc in map(_d, documents):
        c = doc["curves"]
        r, g = np.array(c["r"]), np.array(c["g_weighted"][weighting])
        # the error of the weighted total is approximated by that of the unweighted total
        err = np.array(c["g_total_err"])
        label = doc["potential"]["name"]
        if doc.get("comparison"):
            label += f" (MAE {doc['comparison']['mae']:.3f})"
        ax.plot(r, g, label=label)
        ax.fill_between(r, g - err, g + err, alpha=0.3)
        experiment = experiment or c.get("experiment")
    if experiment is not None:
        ax.plot(experiment["r"], experiment["g"], "k--", label="experiment")
    ax.set(xlabel="r (Å)", ylabel=f"g(r), {weighting} weights")
    ax.legend(fontsize=8)
    return fig


def plot_moduli(documents):
    """Fig. 4b: E, B, G (GPa) and ν per potential, mean ± standard deviation over samples."""
    fig, (ax, axn) = _figure(2)
    docs = list(map(_d, documents))
    width = 0.8 / max(1, len(docs))
    for k, doc in enumerate(docs):
        values = {m: [s[m] for s in doc["samples"]] for m in ("E", "B", "G", "nu")}
        x = np.arange(3) + k * width
        ax.bar(x, [np.mean(values[m]) for m in "EBG"], width, yerr=[np.std(values[m]) for m in "EBG"],
               label=doc["potential"]["name"])
        axn.bar(k, np.mean(values["nu"]), yerr=np.std(values["nu"]))
    ax.set_xticks(np.arange(3) + width * (len(docs) - 1) / 2, ["E", "B", "G"])
    ax.set(ylabel="modulus (GPa)")
    ax.legend(fontsize=8)
    axn.set_xticks(range(len(docs)), [d["potential"]["name"] for d in docs], rotation=20, fontsize=7)
    axn.set(ylabel="Poisson ratio ν")
    return fig


def plot_shear_vs_energy(documents):
    """Fig. 5a: AQS shear modulus G (GPa) vs energy per atom (eV/atom) of each structure."""
    fig, ax = _figure()
    for doc in map(_d, documents):
        s = doc["samples"]
        ax.plot([x["energy_per_atom"] for x in s], [x["G"] for x in s], "o", label=doc["potential"]["name"])
    ax.set(xlabel="e (eV/atom)", ylabel="G (GPa)")
    ax.legend(fontsize=8)
    return fig


def plot_energy_parity(documents):
    """Fig. 5b: e(potential) vs e(reference) (eV/atom), with the least-squares slope."""
    fig, ax = _figure()
    for doc in map(_d, documents):
        s = [x for x in doc["samples"] if x.get("e_reference") is not None]
        label = doc["potential"]["name"]
        if doc.get("parity"):
            label += f" (slope {doc['parity']['slope']:.3f})"
        ax.plot([x["e_reference"] for x in s], [x["e_potential"] for x in s], "o", label=label)
    ax.set(xlabel="e reference (eV/atom)", ylabel="e potential (eV/atom)")
    ax.legend(fontsize=8)
    return fig
