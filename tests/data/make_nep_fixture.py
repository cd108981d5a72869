"""Create ``tests/data/nep_cuzral_tiny.txt``: a small, throw-away NEP4 model for the property tests.

It is NOT a physical potential: it only has to be a valid NEP4 model with Cu, Zr, Al (radial cutoff
5 Å, angular 4 Å, ZBL off) so that ``NEPPotential`` (calorine CPUNEP inside LAMMPS ``fix external``)
can be compared with calorine directly. Made by a short ``neppo`` run (CPU, 300 gradient steps) on
12 random CuZrAl cells (54 atoms, Cu0.46Zr0.46Al0.08-ish, bcc-like lattice with 0.1 Å noise, volumes
±5 %) labelled with the shipped Cheng–Ma–Sheng EAM through LAMMPS.

Run from the repository root (takes < 30 s)::

    .venv/bin/python tests/data/make_nep_fixture.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from ase.build import bulk

from mlip_glass.datasets.extxyz import write_extxyz
from mlip_glass.utils.atoms import labelled_atoms
from mlip_glass.utils.lammps_session import LammpsSession
from mlip_glass.properties.potentials import cheng_ma_sheng

SEED = 20260101
OUT = Path(__file__).with_name("nep_cuzral_tiny.txt")

NEP_IN = """\
version 4
type 3 Cu Zr Al
cutoff 5.0 4.0
n_max 4 4
basis_size 6 6
l_max 4 2 0
neuron 8
batch 12
generation 300
seed 1
"""


def frames(n_frames: int = 12, seed: int = SEED):
    rng = np.random.default_rng(seed)
    potential = cheng_ma_sheng()
    out = []
    for i in range(n_frames):
        atoms = bulk("Cu", "bcc", a=3.2, cubic=True).repeat((3, 3, 3))  # 54 sites
        symbols = np.array(["Cu"] * 25 + ["Zr"] * 25 + ["Al"] * 4)
        rng.shuffle(symbols)
        atoms.set_chemical_symbols(list(symbols))
        atoms.set_cell(atoms.cell * rng.uniform(0.95, 1.05), scale_atoms=True)
        atoms.positions += rng.normal(0.0, 0.1, atoms.positions.shape)
        with LammpsSession(atoms, potential) as session:
            out.append(
                labelled_atoms(
                    atoms, session.energy(), session.forces(), session.stress(), config_type="eam"
                )
            )
    return out


def main() -> None:
    data = frames()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "nep.in").write_text(NEP_IN)
        write_extxyz(data, tmp / "train.xyz")
        neppo = Path(sys.executable).with_name("neppo")
        subprocess.run([str(neppo), "train", str(tmp), "--device", "cpu"], check=True)
        shutil.copy(tmp / "nep.txt", OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
