"""Time-scale mapping (Fig. 2a): e_IS = e_IS,on + A log10(tau / tau_on) fitted on MD cooling runs.

- MD points: (cooling time tau = t* of the linear ramp T_H -> T_L, inherent-structure energy per atom).
- Fit: least squares of e_IS against log10(tau) gives the slope A and the line; the onset point
  (tau_on, e_IS,on) is the point of that line at e_IS,on, the IS energy of the equilibrium liquid at the
  onset temperature T_on (paper: T_on = 2.09, from the departure from Arrhenius of high-T dynamics).
- Swap-MC states get an effective cooling time by inverting the line: tau_eff = tau_on 10^((e - e_on)/A).
Energies here are reduced (eps_ref per atom); times are reduced MD times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from mlip_glass.surrogate import constants as C
from mlip_glass.surrogate.model import SurrogateInputError


@dataclass
class TimescaleMap:
    """The fitted logarithmic law and its onset point (reduced units; log is base 10)."""

    slope: float  #: A, eps per atom per decade of cooling time
    intercept: float  #: e_IS at tau = 1
    e_is_on: float  #: IS energy per atom at the onset
    tau_on: float  #: cooling time at the onset (reduced)
    t_on: float  #: onset temperature (reduced)
    slope_stderr: float = float("nan")
    intercept_stderr: float = float("nan")

    def e_is(self, tau):
        """IS energy per atom (reduced) of an MD cooling of length tau."""
        return self.intercept + self.slope * np.log10(np.asarray(tau, float))

    def tau_eff(self, e_is):
        """Effective cooling time (reduced) of a state with IS energy per atom ``e_is`` (reduced)."""
        return self.tau_on * 10.0 ** ((np.asarray(e_is, float) - self.e_is_on) / self.slope)

    def as_dict(self) -> dict:
        return asdict(self)


def fit_log_cooling(tau: Sequence[float], e_is: Sequence[float]) -> tuple[float, float, float, float]:
    """Least-squares fit e_IS = a + A log10(tau); returns (A, a, stderr A, stderr a)."""
    t = np.asarray(tau, float)
    e = np.asarray(e_is, float)
    if t.shape != e.shape or t.size < 2:
        raise SurrogateInputError("fit needs >= 2 (tau, e_IS) points of equal length")
    if np.any(t <= 0):
        raise SurrogateInputError("cooling times tau must be > 0")
    if np.unique(t).size < 2:
        raise SurrogateInputError("fit needs at least two distinct cooling times")
    x = np.log10(t)
    design = np.stack([x, np.ones_like(x)], axis=1)
    coef, *_ = np.linalg.lstsq(design, e, rcond=None)
    dof = e.size - 2
    if dof > 0:
        resid = e - design @ coef
        cov = np.linalg.inv(design.T @ design) * (resid @ resid) / dof
        err = np.sqrt(np.diag(cov))
    else:
        err = np.array([np.nan, np.nan])
    return float(coef[0]), float(coef[1]), float(err[0]), float(err[1])


def build_map(tau: Sequence[float], e_is: Sequence[float], e_is_on: float | None = None,
              t_on: float = C.PAPER_T_ONSET, strict: bool = True) -> TimescaleMap:
    """Fit the MD points and place the onset on the line.

    ``e_is_on`` is the equilibrium IS energy per atom at ``t_on`` (see :func:`onset_is_energy`); without it
    the onset is put at the fastest MD cooling (tau_on = min tau), a documented fallback.
    A non-negative slope (noisy or too few MD points) raises unless ``strict`` is False.
    """
    slope, intercept, s_err, i_err = fit_log_cooling(tau, e_is)
    if not slope < 0 and strict:
        raise SurrogateInputError(
            f"fitted slope A = {slope:.4g} is not negative: slower cooling must give lower e_IS; "
            "use longer/more MD cooling runs"
        )
    if e_is_on is None:
        tau_on = float(np.min(tau))
        e_is_on = intercept + slope * np.log10(tau_on)
    else:
        tau_on = float(10.0 ** ((e_is_on - intercept) / slope))
    return TimescaleMap(slope, intercept, float(e_is_on), tau_on, float(t_on), s_err, i_err)


def onset_temperature(temperatures: Sequence[float], relaxation_times: Sequence[float], n_high: int = 3,
                      threshold: float = 0.1) -> float:
    """Onset of supercooling from the departure from Arrhenius of equilibrium relaxation times.

    Fits ln tau = ln tau_0 + E_a / T on the ``n_high`` highest temperatures and returns the highest
    temperature (linearly interpolated in T) at which ln tau exceeds the Arrhenius line by ``threshold``
    (relative departure of tau, e.g. 0.1 = 10 %). Times may be any relaxation time (e.g. 1/D).
    """
    T = np.asarray(temperatures, float)
    tau = np.asarray(relaxation_times, float)
    if T.size != tau.size or T.size < n_high + 1 or np.any(T <= 0) or np.any(tau <= 0):
        raise SurrogateInputError(f"need > n_high = {n_high} positive (T, tau) pairs")
    order = np.argsort(T)[::-1]
    T, tau = T[order], tau[order]
    b, a = np.polyfit(1.0 / T[:n_high], np.log(tau[:n_high]), 1)
    dev = np.log(tau) - (a + b / T) - np.log1p(threshold)
    for k in range(n_high, T.size):
        if dev[k] > 0:
            d0, d1 = dev[k - 1], dev[k]
            w = d0 / (d0 - d1) if d0 < 0 else 0.0
            return float(T[k - 1] + w * (T[k] - T[k - 1]))
    raise SurrogateInputError("no departure from Arrhenius within the temperatures given; go lower in T")


def plot_timescale_map(path, md_tau, md_e, mc_tau_eff, mc_e, tmap: TimescaleMap, mc_labels=None,
                       energy_unit: str = "$\\epsilon_{ZrZr}$") -> str:
    """Fig. 2a: e_IS vs cooling time (MD points, swap-MC at tau_eff, fit line, onset line); writes a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.8), dpi=150)
    md_tau = np.asarray(md_tau, float)
    mc_tau_eff = np.asarray(mc_tau_eff, float)
    all_tau = np.concatenate([md_tau, mc_tau_eff[np.isfinite(mc_tau_eff)], [tmap.tau_on]])
    lo, hi = np.log10(all_tau.min()) - 0.5, np.log10(all_tau.max()) + 0.5
    xs = np.logspace(lo, hi, 200)
    ax.plot(xs, tmap.e_is(xs), "k--", lw=1, label=f"fit, A = {tmap.slope:.3g} / decade")
    ax.plot(md_tau, md_e, "o", color="tab:gray", label="MD")
    ax.plot(mc_tau_eff, mc_e, "s", color="tab:blue", label="swap-MC (effective time)")
    if mc_labels is not None:
        for t, e, lab in zip(mc_tau_eff, mc_e, mc_labels):
            ax.annotate(lab, (t, e), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.axvline(tmap.tau_on, color="tab:blue", lw=1, label=f"onset ($T_{{on}}$ = {tmap.t_on:g})")
    ax.set_xscale("log")
    ax.set_xlabel(r"cooling time $\tau_{CR}$ (reduced)")
    ax.set_ylabel(f"$e_{{IS}}$ ({energy_unit} / atom)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)
