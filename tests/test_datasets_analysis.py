"""Fig. 2b linear fit and the cost ledger."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mlip_glass.datasets.analysis import cost_ledger, linear_fit, plot_fig2b, surrogate_vs_reference
from mlip_glass.reference.schemas import FrameSource, LabelledFrame
from mlip_glass.testing.structures import random_cuzral

warnings.filterwarnings("ignore")


def test_linear_fit_recovers_an_exact_line_and_r2_of_noise():
    x = np.linspace(-3, -2, 11)
    fit = linear_fit(x, 1.7 * x - 0.4)
    assert fit["slope"] == pytest.approx(1.7) and fit["intercept"] == pytest.approx(-0.4) and fit["r2"] == pytest.approx(1)
    rng = np.random.default_rng(0)
    noisy = linear_fit(x, rng.normal(size=11))
    assert noisy["r2"] < 0.6
    with pytest.raises(ValueError):
        linear_fit([1.0], [2.0])


def _frame(subset, e, lj=None, n=150, parent="p", seed=None, cpu=1.0):
    s = random_cuzral(counts={"Cu": 1, "Zr": 1}, box=5.0, seed=len(subset) + int(abs(e) * 100), dmin=2.0)
    f = LabelledFrame.from_labels(s, e, np.zeros((2, 3)), np.zeros((3, 3)), engine="eam", subset=subset,
                                  parent_hash=parent, cpu_time_s=cpu,
                                  source=FrameSource(energy_per_atom_lj=lj, extra={} if seed is None else {"aimd_seed": seed}))
    return f


def test_fig2b_fit_of_frames_and_png(tmp_path):
    frames = [_frame("surrogate", 2 * (0.5 * lj + 1.0), lj) for lj in (-2.0, -1.5, -1.0)]  # 2 atoms each
    frames.append(_frame("relaxed", -5.0, -3.0))  # not a surrogate frame: ignored
    data = surrogate_vs_reference(frames)
    assert data["fit"]["slope"] == pytest.approx(0.5) and data["fit"]["intercept"] == pytest.approx(1.0)
    assert data["fit"]["n"] == 3
    png = plot_fig2b(data, tmp_path / "fig2b.png")
    assert png.stat().st_size > 1000 and png.with_suffix(".json").exists()


def test_cost_ledger_counts_runs_and_paper_vasp_costs():
    frames = [_frame("surrogate", -1.0 - i, n=2) for i in range(4)]
    frames += [_frame("relaxed", -2.0 - i, parent="A") for i in range(3)]  # one relaxation, 3 kept steps
    frames += [_frame("aimd", -3.0 - i, parent="B", seed=1) for i in range(5)]
    frames += [_frame("aimd", -4.0 - i, parent="B", seed=2) for i in range(5)]  # second trajectory
    ledger = cost_ledger(frames)
    sub = ledger["subsets"]
    scale = 2 / 150  # 2-atom test cells, costs scale with atoms
    assert sub["surrogate"]["n_runs"] == 4 and sub["surrogate"]["vasp_cpu_h"] == pytest.approx(4 * 113 * scale)
    assert sub["relaxed"]["n_runs"] == 1 and sub["relaxed"]["vasp_cpu_h"] == pytest.approx(2621 * scale)
    assert sub["aimd"]["n_runs"] == 2 and sub["aimd"]["vasp_cpu_h"] == pytest.approx(2 * 5506 * scale)
    assert ledger["totals"]["cpu_time_s"] == pytest.approx(len(frames))
    assert ledger["totals"]["surrogate_saving_cpu_h"] == pytest.approx(4 * (2621 - 113))
