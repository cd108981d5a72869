"""Figures 3b-3d are written as PNGs from a model document's parity and loss data."""

import numpy as np
import pytest

from mlip_glass.nep.figures import energy_parity_figure, force_parity_figure, loss_curve_figure, nep_figures


@pytest.fixture()
def doc():
    rng = np.random.default_rng(0)

    def split(n, ctypes):
        ref_e = rng.normal(-5.0, 0.05, n)
        ref_f = rng.normal(0, 1, (n * 10, 3))
        return {"energy": {"pred": (ref_e + 0.003).tolist(), "ref": ref_e.tolist()},
                "force": {"pred": (ref_f + 0.1).tolist(), "ref": ref_f.tolist()},
                "virial": {"pred": np.zeros((n, 6)).tolist(), "ref": np.zeros((n, 6)).tolist()},
                "config_type": [ctypes[i % len(ctypes)] for i in range(n)], "n_atoms": [10] * n}

    steps = [10, 20, 40, 80]
    curve = {"step": steps, "total_loss": [4.0, 2.0, 1.0, 0.5], "L1": [0.01] * 4, "L2": [0.02] * 4}
    for q in "EFV":
        for s in ("train", "test"):
            curve[f"RMSE_{q}_{s}"] = [0.1, 0.05, 0.03, 0.02]
    return {"parity": {"train": split(20, ["quench", "strained"]), "test": split(5, ["quench"])}, "loss_curve": curve}


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_each_figure_is_a_png(doc, tmp_path):
    assert _is_png(energy_parity_figure(doc, tmp_path / "b.png"))
    assert _is_png(force_parity_figure(doc, tmp_path / "c.png"))
    assert _is_png(loss_curve_figure(doc, tmp_path / "d.png"))
    paths = nep_figures(doc, tmp_path / "all")
    assert sorted(paths) == ["3b", "3c", "3d"] and all(_is_png(p) for p in paths.values())


def test_figure_without_data_names_the_missing_field(tmp_path):
    with pytest.raises(ValueError, match="parity"):
        energy_parity_figure({"loss_curve": {}}, tmp_path / "x.png")
