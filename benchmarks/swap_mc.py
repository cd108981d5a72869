"""Swap-MC throughput: the current kernel vs the kernel before issue 15 (``benchmarks/baseline``), same run.

Attempted moves per CPU-second (process time: other jobs sharing the core do not count), one core, 80/20
translation/swap mix at constant T* = 0.5, cube side 0.15, N = 150, 1500, 15000 (rho* = 1.75,
Cu0.46 Zr0.46 Al0.08). For each N both kernels run the same sweeps from the same prepared state with the
same seed, alternating (old, new, old, new, ...); the table gives medians and the median of the per-pair
ratios. Both kernels draw the same random numbers for the same moves, so they run the same Markov chain
(checked: same RNG state and acceptance counts at the end).

With ``--ref REF`` (a git ref of this repository, e.g. ``main``) the kernel of that commit
(``mlip_glass/surrogate/{kernel,swap_mc}.py`` read with ``git show``) runs in the same alternation as a
third kernel, and the table gives new / ref too.

Also printed: the running energy vs a from-scratch recomputation (``LJModel.energy``, ASE neighbour list)
and a checkpoint/resume bit-identity check at the largest N; the load average at start and end.

Usage:  python benchmarks/swap_mc.py [--sizes 150 1500 15000] [--seconds 1.5] [--repeats 5] [--skin 0.4]
                                     [--ref main]
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline.swap_mc import swap_mc as baseline_swap_mc  # noqa: E402

from mlip_glass.surrogate.model import LJModel  # noqa: E402
from mlip_glass.surrogate.state import random_liquid, to_reduced  # noqa: E402
from mlip_glass.surrogate.swap_mc import VERLET_SKIN, swap_mc  # noqa: E402

TEMPERATURE = 0.5
DELTA = 0.15

#: preparation of the measured state, identical for every N: sweeps at T* = 4 (liquid), a linear quench
#: to T* = 0.5 and ageing there (a quenched state ages; its acceptance rate depends on its age, not on N)
PREP_LIQUID_SWEEPS = 30
PREP_QUENCH_SWEEPS = 30
PREP_AGE_SWEEPS = 20


def ref_swap_mc(ref: str):
    """``swap_mc`` of the kernel at git ref ``ref``, imported from a temporary package (its other imports
    come from the working tree: model, state, rng)."""
    root = Path(__file__).resolve().parent.parent
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=root, capture_output=True, text=True,
                         check=True).stdout.strip()
    pkg = f"refkernel_{sha}"
    tmp = Path(tempfile.mkdtemp(prefix="swapmc_ref_"))
    (tmp / pkg).mkdir()
    (tmp / pkg / "__init__.py").write_text("")
    for name in ("kernel", "swap_mc"):
        src = subprocess.run(["git", "show", f"{sha}:mlip_glass/surrogate/{name}.py"], cwd=root,
                             capture_output=True, text=True, check=True).stdout
        src = src.replace("from mlip_glass.surrogate.kernel import", f"from {pkg}.kernel import")
        (tmp / pkg / f"{name}.py").write_text(src)
    sys.path.insert(0, str(tmp))
    return importlib.import_module(f"{pkg}.swap_mc").swap_mc, sha


def load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def prepared_state(n: int, model: LJModel):
    """A random liquid relaxed at T* = 4 and quenched to T* = 0.5 by the same protocol for every N."""
    s = random_liquid(n, seed=1, model=model)
    s = swap_mc(s, model, 4.0, 4.0, PREP_LIQUID_SWEEPS, seed=2).structure
    s = swap_mc(s, model, 4.0, TEMPERATURE, PREP_QUENCH_SWEEPS, seed=3).structure
    return swap_mc(s, model, TEMPERATURE, TEMPERATURE, PREP_AGE_SWEEPS, seed=4).structure


def timed_run(func, structure, model, sweeps, **kw):
    res = func(structure, model, TEMPERATURE, TEMPERATURE, sweeps, seed=5, delta_r_max=DELTA, **kw)
    return sweeps * len(structure) / res.cpu_time_s, res


def compare(structure, model, seconds: float, repeats: int, skin: float, ref=None):
    """Alternating old/(ref/)new runs of the same sweeps; returns (sweeps, old rates, ref rates, new rates,
    last old, last ref, last new results)."""
    n = len(structure)
    timed_run(baseline_swap_mc, structure, model, 1)  # compile / warm caches
    if ref is not None:
        timed_run(ref, structure, model, 1, skin=skin)
    rate, _ = timed_run(swap_mc, structure, model, 1, skin=skin)
    rate, _ = timed_run(swap_mc, structure, model, max(1, int(2e5 / n)), skin=skin)
    sweeps = max(2, int(seconds * rate / n))
    old, mid, new = [], [], []
    res_ref = None
    for _ in range(repeats):
        r_old, res_old = timed_run(baseline_swap_mc, structure, model, sweeps)
        old.append(r_old)
        if ref is not None:
            r_ref, res_ref = timed_run(ref, structure, model, sweeps, skin=skin)
            mid.append(r_ref)
        r_new, res_new = timed_run(swap_mc, structure, model, sweeps, skin=skin)
        new.append(r_new)
    return sweeps, np.array(old), np.array(mid), np.array(new), res_old, res_ref, res_new


def resume_check(structure, model, sweeps: int, skin: float) -> bool:
    """An interrupted (stop_after) and resumed run ends bit-identical to an uninterrupted one."""
    kw = dict(seed=9, skin=skin, n_trace=sweeps)
    full = swap_mc(structure, model, 1.0, TEMPERATURE, sweeps, **kw)
    with tempfile.TemporaryDirectory() as tmp:
        ck = Path(tmp) / "ck.npz"
        part = swap_mc(structure, model, 1.0, TEMPERATURE, sweeps, checkpoint_path=ck, checkpoint_every=2,
                       stop_after=sweeps // 2 + 1, **kw)
        assert not part.completed
        resumed = swap_mc(structure, model, 1.0, TEMPERATURE, sweeps, checkpoint_path=ck, checkpoint_every=2, **kw)
    a = to_reduced(full.structure, model, check_overlap=False)
    b = to_reduced(resumed.structure, model, check_overlap=False)
    return bool(np.array_equal(a.positions, b.positions) and np.array_equal(a.types, b.types)
                and full.energy_reduced == resumed.energy_reduced and full.rng_state == resumed.rng_state
                and np.array_equal(full.trace_energy_per_atom, resumed.trace_energy_per_atom))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[150, 1500, 15000])
    ap.add_argument("--seconds", type=float, default=1.5, help="CPU seconds per new-kernel run")
    ap.add_argument("--repeats", type=int, default=5, help="alternating old/new pairs per N")
    ap.add_argument("--skin", type=float, default=VERLET_SKIN, help="Verlet skin (reduced length)")
    ap.add_argument("--no-resume-check", action="store_true")
    ap.add_argument("--ref", default=None, help="also run the kernel of this git ref (e.g. main)")
    args = ap.parse_args()
    model = LJModel.paper()
    ref, ref_sha = ref_swap_mc(args.ref) if args.ref else (None, "")
    print(f"load average at start (1/5/15 min): {load()}   T* = {TEMPERATURE}, cube side {DELTA}, "
          f"skin {args.skin}, {args.repeats} alternating pairs per N", flush=True)
    rows = []
    for n in args.sizes:
        s = prepared_state(n, model)
        sweeps, old, mid, new, res_old, res_ref, res_new = compare(s, model, args.seconds, args.repeats,
                                                                   args.skin, ref)
        same_chain = res_old.rng_state == res_new.rng_state and res_old.acceptance == res_new.acceptance
        if res_ref is not None:
            same_chain = same_chain and res_ref.rng_state == res_new.rng_state
        e_ref = model.energy(res_new.structure)
        rel = abs(res_new.energy - e_ref) / abs(e_ref)
        rows.append((n, sweeps, np.median(old), np.median(mid) if len(mid) else np.nan, np.median(new),
                     np.median(new / old), np.median(new / mid) if len(mid) else np.nan, same_chain, rel,
                     res_new.acceptance["translation"]["rate"], res_new.acceptance["swap"]["rate"],
                     res_new.settings))
        print(f"N={n}: old {[f'{v:.3g}' for v in old]}  " + (f"ref {[f'{v:.3g}' for v in mid]}  " if ref else "")
              + f"new {[f'{v:.3g}' for v in new]}  (load {load()})", flush=True)
    same_name = ref_sha.startswith(args.ref or "-") or (args.ref or "").startswith(ref_sha or "-")
    refcol = (f" | {args.ref}" + ("" if same_name else f" ({ref_sha})")) if ref else ""
    refratio = " | new / ref" if ref else ""
    print(f"\n| N | sweeps/run | previous kernel (moves/CPU-s){refcol} | new kernel | new / previous{refratio} "
          "| same chain | |E_run - E_recomputed| / |E| | acc. trans / swap | kernel |")
    print("|---" * (9 + 2 * bool(ref)) + "|")
    for n, sweeps, mo, mr, mn, ratio, ratio_ref, same, rel, at, asw, st in rows:
        kern = (f"Verlet (skin {st['skin']}, {st['neighbour_list_refreshes']} refreshes, "
                f"{st['neighbour_list_rebuilds']} full rebuilds)" if st["neighbour_lists"]
                else "all pairs, type-blocked")
        c_ref = f" | {mr:.3g}" if ref else ""
        r_ref = f" | {ratio_ref:.2f}" if ref else ""
        print(f"| {n} | {sweeps} | {mo:.3g}{c_ref} | {mn:.3g} | {ratio:.2f}{r_ref} | {same} | {rel:.1e} "
              f"| {at:.3f} / {asw:.4f} | {kern} |")
    by_n = {r[0]: r[4] for r in rows}
    if 1500 in by_n and 15000 in by_n:
        print(f"cost per move N=15000 / N=1500 = {by_n[1500] / by_n[15000]:.2f}"
              + (f" (ref: {rows[-2][3] / rows[-1][3]:.2f})" if ref and [r[0] for r in rows[-2:]] == [1500, 15000]
                 else ""))
    if 150 in by_n:
        print(f"paper's longest run (1e9 sweeps, N = 150): {1e9 * 150 / by_n[150] / 3600:.1f} h on one core")
    if not args.no_resume_check:
        n = max(args.sizes)
        s = prepared_state(n, model) if n != args.sizes[-1] else s
        print(f"checkpoint/resume bit-identical at N = {n} (10 sweeps, stopped after 6): "
              f"{resume_check(s, model, 10, args.skin)}")
    print(f"load average at end: {load()}")


if __name__ == "__main__":
    main()
