"""Figures 3b-3d of the paper from a NEP model document (or its ``parity`` / ``loss_curve`` dicts).

- Fig. 3b: energy parity (eV/atom), coloured by subset (``config_type``), train and test;
- Fig. 3c: force parity (eV/Å), train vs test;
- Fig. 3d: loss curves: total loss and RMSE components (E, F, V), train and test, against steps.

Each function writes a PNG and returns its path. matplotlib runs with the Agg backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _field(doc: Any, key: str) -> Any:
    value = doc.get(key) if isinstance(doc, dict) else getattr(doc, key, None)
    if value is None:
        raise ValueError(f"model document has no {key!r} (load it from the data store with load=True)")
    return value


def _parity_limits(ax, values: list[np.ndarray]) -> None:
    allv = np.concatenate([np.ravel(v) for v in values if np.size(v)])
    allv = allv[np.isfinite(allv)]
    lo, hi = float(allv.min()), float(allv.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=0.8)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    _plt().close(fig)
    return path


def _finish_parity(fig, ax, values: list[np.ndarray], quantity: str, title: str, path: str | Path) -> Path:
    """Diagonal, equal limits, labels 'reference/NEP <quantity>', legend; save."""
    _parity_limits(ax, values)
    ax.set_xlabel(f"reference {quantity}")
    ax.set_ylabel(f"NEP {quantity}")
    ax.set_title(title)
    ax.legend(fontsize=6, frameon=False)
    return _save(fig, path)


def energy_parity_figure(doc: Any, path: str | Path) -> Path:
    """Fig. 3b: NEP vs reference energy per atom, one colour per subset, filled train / open test."""
    plt = _plt()
    parity = _field(doc, "parity")
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    subsets = sorted({c for split in parity.values() for c in split["config_type"]})
    colours = {c: plt.cm.tab10(i % 10) for i, c in enumerate(subsets)}
    values = []
    for split, marker in (("train", "o"), ("test", "^")):
        if split not in parity:
            continue
        data = parity[split]
        pred = np.asarray(data["energy"]["pred"], float)
        ref = np.asarray(data["energy"]["ref"], float)
        ctypes = np.asarray(data["config_type"])
        values += [pred, ref]
        for c in subsets:
            mask = ctypes == c
            if mask.any():
                ax.scatter(ref[mask], pred[mask], s=12, marker=marker, color=colours[c],
                           facecolors=colours[c] if split == "train" else "none", label=f"{c} ({split})")
    return _finish_parity(fig, ax, values, "energy (eV/atom)", "Fig. 3b: energy parity by subset", path)


def force_parity_figure(doc: Any, path: str | Path) -> Path:
    """Fig. 3c: NEP vs reference force components (eV/Å), train and test, with their RMSE."""
    plt = _plt()
    parity = _field(doc, "parity")
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    values = []
    for split, colour in (("train", "tab:blue"), ("test", "tab:orange")):
        if split not in parity:
            continue
        pred = np.asarray(parity[split]["force"]["pred"], float).ravel()
        ref = np.asarray(parity[split]["force"]["ref"], float).ravel()
        rmse = float(np.sqrt(np.mean((pred - ref) ** 2))) * 1e3
        values += [pred, ref]
        ax.scatter(ref, pred, s=3, alpha=0.5, color=colour, label=f"{split}: RMSE {rmse:.0f} meV/Å")
    return _finish_parity(fig, ax, values, "force (eV/Å)", "Fig. 3c: force parity", path)


def loss_curve_figure(doc: Any, path: str | Path) -> Path:
    """Fig. 3d: total loss, L1/L2 and the RMSE of E (eV/atom), F (eV/Å), V (eV/atom), train (solid) and
    test (dashed), against the step/generation (log-log)."""
    plt = _plt()
    curve = _field(doc, "loss_curve")
    steps = np.asarray(curve["step"], float)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.6))
    for key in ("total_loss", "L1", "L2"):
        if key in curve:
            axes[0].plot(steps, curve[key], label=key)
    axes[0].set_title("loss")
    colours = {"E": "tab:blue", "F": "tab:orange", "V": "tab:green"}
    for q, colour in colours.items():
        for split, style in (("train", "-"), ("test", "--")):
            key = f"RMSE_{q}_{split}"
            if key in curve:
                axes[1].plot(steps, curve[key], style, color=colour, label=f"{q} {split}")
    axes[1].set_title("RMSE (eV/atom, eV/Å, eV/atom)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step / generation")
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Fig. 3d: loss curves")
    return _save(fig, path)


def nep_figures(doc: Any, directory: str | Path, prefix: str = "fig3") -> dict[str, Path]:
    """All three figures into ``directory``: ``fig3b.png``, ``fig3c.png``, ``fig3d.png``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "3b": energy_parity_figure(doc, directory / f"{prefix}b.png"),
        "3c": force_parity_figure(doc, directory / f"{prefix}c.png"),
        "3d": loss_curve_figure(doc, directory / f"{prefix}d.png"),
    }
