"""A fake VASP run: writes the output files atomate2/emmet parse (vasprun.xml, OUTCAR, OSZICAR, CONTCAR)
with energies, forces and stresses of every ionic step computed by another engine (e.g. the EAM).

Used by the tests (and by anyone who wants to exercise the VASP Maker path without VASP) in two ways:

- :func:`fake_vasp_reference_dir` builds an atomate2 test reference directory (``inputs/`` and
  ``outputs/``) for :func:`atomate2.utils.testing.vasp.monkeypatch_vasp`;
- :func:`run_fake_vasp` is a drop-in for ``atomate2.vasp.run.run_vasp``: it reads the INCAR/POSCAR
  in the working directory, runs the matching protocol (NSW 0 static, IBRION 1/2/3 relax, IBRION 0 MD)
  with the engine and writes the outputs.

Nothing here pretends to be DFT outside tests: the energies are those of the engine given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from mlip_glass.reference.engines import get_engine
from mlip_glass.units import KBAR_PER_EV_A3


def _v(rows, fmt="{:16.8f}") -> str:
    return "".join("   <v>" + " ".join(fmt.format(x) for x in row) + " </v>\n" for row in rows)


def _structure_xml(structure, name: str | None = None) -> str:
    lat = structure.lattice
    attr = f' name="{name}"' if name else ""
    return (
        f"  <structure{attr}>\n   <crystal>\n    <varray name=\"basis\" >\n{_v(lat.matrix)}    </varray>\n"
        f"    <i name=\"volume\">{lat.volume:16.8f} </i>\n"
        f"    <varray name=\"rec_basis\" >\n{_v(lat.reciprocal_lattice_crystallographic.matrix)}    </varray>\n"
        f"   </crystal>\n   <varray name=\"positions\" >\n{_v(structure.frac_coords % 1.0)}   </varray>\n"
        "  </structure>\n"
    )


def _items_xml(items: dict, indent: str = "  ") -> str:
    """``<i>``/``<v>`` elements of a vasprun ``<incar>`` or ``<parameters>`` block."""
    out = []
    for key, value in items.items():
        if isinstance(value, bool):
            out.append(f'{indent}<i type="logical" name="{key}"> {"T" if value else "F"}  </i>')
        elif isinstance(value, str):
            out.append(f'{indent}<i type="string" name="{key}">{escape(value)}</i>')
        elif isinstance(value, (list, tuple)):
            out.append(f'{indent}<v name="{key}">' + " ".join(f"{float(x):.8f}" for x in value) + "</v>")
        elif isinstance(value, int):
            out.append(f'{indent}<i type="int" name="{key}">{value}</i>')
        else:
            out.append(f'{indent}<i name="{key}">{float(value):16.8f}</i>')
    return "\n".join(out)


def _incar_xml(incar: dict) -> str:
    return " <incar>\n" + _items_xml(incar) + "\n </incar>\n"


def _species_table(structure):
    symbols = [site.specie.symbol for site in structure]
    types = list(dict.fromkeys(symbols))
    return symbols, types


def write_vasprun(
    path,
    structures: Sequence,
    energies: Sequence[float],
    forces: Sequence,
    stresses_ev_a3: Sequence,
    incar: dict,
    nelect: float = 12.0,
    efermi: float = 0.5,
) -> Path:
    """vasprun.xml with one ``<calculation>`` per ionic step (energies eV, forces eV/Å, stress from ASE
    sign eV/Å^3 written as VASP's kbar with VASP's sign, i.e. ``-stress``)."""
    path = Path(path)
    first = structures[0]
    symbols, types = _species_table(first)
    from pymatgen.core import Element

    atoms_rows = "".join(f"    <rc><c>{s:2s}</c><c>{types.index(s) + 1:4d}</c></rc>\n" for s in symbols)
    type_rows = "".join(
        f"    <rc><c>{symbols.count(t):4d}</c><c>{t:2s}</c><c>{float(Element(t).atomic_mass):16.8f}</c>"
        f"<c>{11.0:16.8f}</c><c>  PAW_PBE {t} 01Jan2000                   </c></rc>\n"
        for t in types
    )
    nbands = 8
    params = {
        "ISPIN": 1, "NBANDS": nbands, "NELECT": float(nelect), "ISMEAR": int(incar.get("ISMEAR", 1)),
        "SIGMA": float(incar.get("SIGMA", 0.1)), "ENCUT": float(incar.get("ENCUT", 450.0)),
        "IBRION": int(incar.get("IBRION", -1)), "NSW": int(incar.get("NSW", 0)),
        "ISIF": int(incar.get("ISIF", 2)), "EDIFF": float(incar.get("EDIFF", 1e-6)),
        "EDIFFG": float(incar.get("EDIFFG", -0.01)), "POTIM": float(incar.get("POTIM", 0.5)),
        "LORBIT": 0, "GGA": str(incar.get("GGA", "PE")), "LEPSILON": False, "LCALCEPS": False,
        "KSPACING": float(incar.get("KSPACING", 0.5)), "NELM": 60, "TEBEG": float(incar.get("TEBEG", 0.0)),
    }
    calcs = []
    for structure, energy, force, stress in zip(structures, energies, forces, stresses_ev_a3):
        vasp_stress = -np.asarray(stress, dtype=float) * KBAR_PER_EV_A3
        e = float(energy)
        energy_xml = (
            f'   <energy>\n    <i name="e_fr_energy">{e:16.8f} </i>\n    <i name="e_wo_entrp">{e:16.8f} </i>\n'
            f'    <i name="e_0_energy">{e:16.8f} </i>\n   </energy>\n'
        )
        calcs.append(
            "  <calculation>\n   <scstep>\n    <time name=\"dav\">    1.00    1.00</time>\n"
            "    <energy>\n     <i name=\"alphaZ\">     0.0 </i>\n     <i name=\"ewald\">     0.0 </i>\n"
            "     <i name=\"hartreedc\">     0.0 </i>\n     <i name=\"XCdc\">     0.0 </i>\n"
            "     <i name=\"pawpsdc\">     0.0 </i>\n     <i name=\"pawaedc\">     0.0 </i>\n"
            "     <i name=\"eentropy\">     0.0 </i>\n     <i name=\"bandstr\">     0.0 </i>\n"
            "     <i name=\"atom\">     0.0 </i>\n"
            f"     <i name=\"e_fr_energy\">{e:16.8f} </i>\n     <i name=\"e_wo_entrp\">{e:16.8f} </i>\n"
            f"     <i name=\"e_0_energy\">{e:16.8f} </i>\n    </energy>\n   </scstep>\n"
            + _structure_xml(structure)
            + f"   <varray name=\"forces\" >\n{_v(np.asarray(force))}   </varray>\n"
            + f"   <varray name=\"stress\" >\n{_v(vasp_stress)}   </varray>\n"
            + energy_xml
            + "   <time name=\"totalsc\">    1.00    1.00</time>\n"
            + "  </calculation>\n"
        )
    eig_rows = "".join(
        f"       <r>{-5.0 + i:10.4f}{2.0 if i < nelect / 2 else 0.0:10.4f} </r>\n" for i in range(nbands)
    )
    eigen = (
        "  <eigenvalues>\n   <array>\n    <dimension dim=\"1\">band</dimension>\n"
        "    <dimension dim=\"2\">kpoint</dimension>\n    <dimension dim=\"3\">spin</dimension>\n"
        "    <field>eigene</field>\n    <field>occ</field>\n    <set>\n     <set comment=\"spin 1\">\n"
        f"      <set comment=\"kpoint 1\">\n{eig_rows}      </set>\n"
        f"      <set comment=\"kpoint 2\">\n{eig_rows}      </set>\n     </set>\n    </set>\n   </array>\n"
        "  </eigenvalues>\n"
    )
    dos_rows = "".join(f"       <r>{-10.0 + i:10.4f}{0.5:10.4f}{0.5 * i:10.4f} </r>\n" for i in range(21))
    dos = (
        f"  <dos>\n   <i name=\"efermi\">{efermi:16.8f} </i>\n   <total>\n    <array>\n"
        "     <dimension dim=\"1\">gridpoints</dimension>\n     <dimension dim=\"2\">spin</dimension>\n"
        "     <field>energy</field>\n     <field>total</field>\n     <field>integrated</field>\n"
        f"     <set>\n      <set comment=\"spin 1\">\n{dos_rows}      </set>\n     </set>\n    </array>\n"
        "   </total>\n  </dos>\n"
    )
    # eigenvalues and dos belong to the last calculation
    calcs[-1] = calcs[-1].replace("  </calculation>\n", eigen + dos + "  </calculation>\n")
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<modeling>\n <generator>\n'
        '  <i name="program" type="string">vasp </i>\n  <i name="version" type="string">6.3.2  </i>\n'
        '  <i name="subversion" type="string">(fake: mlip_glass.testing.fake_vasp) </i>\n'
        '  <i name="platform" type="string">LinuxGNU </i>\n  <i name="date" type="string">2026 01 01 </i>\n'
        '  <i name="time" type="string">00:00:00 </i>\n </generator>\n'
        + _incar_xml(incar)
        + ' <kpoints>\n  <generation param="Gamma">\n'
        '   <v type="int" name="divisions">       1        1        1 </v>\n'
        '   <v name="usershift">      0.00000000       0.00000000       0.00000000 </v>\n  </generation>\n'
        '  <varray name="kpointlist" >\n   <v>       0.00000000       0.00000000       0.00000000 </v>\n'
        '   <v>       0.50000000       0.00000000       0.00000000 </v>\n  </varray>\n'
        '  <varray name="weights" >\n   <v>       0.50000000 </v>\n   <v>       0.50000000 </v>\n  </varray>\n'
        ' </kpoints>\n'
        ' <parameters>\n  <separator name="general" >\n'
        + _items_xml(params, "   ")
        + "\n  </separator>\n </parameters>\n"
        f" <atominfo>\n  <atoms>{len(symbols)}</atoms>\n  <types>{len(types)}</types>\n"
        '  <array name="atoms" >\n   <dimension dim="1">ion</dimension>\n   <field type="string">element</field>\n'
        f'   <field type="int">atomtype</field>\n   <set>\n{atoms_rows}   </set>\n  </array>\n'
        '  <array name="atomtypes" >\n   <dimension dim="1">type</dimension>\n'
        '   <field type="int">atomspertype</field>\n'
        '   <field type="string">element</field>\n   <field>mass</field>\n   <field>valence</field>\n'
        f'   <field type="string">pseudopotential</field>\n   <set>\n{type_rows}   </set>\n  </array>\n </atominfo>\n'
        + _structure_xml(first, "initialpos")
        + "".join(calcs)
        + _structure_xml(structures[-1], "finalpos")
        + "</modeling>\n"
    )
    path.write_text(xml)
    return path


def write_outcar(
    path, structures, energies, forces, stresses_ev_a3, ibrion: int = -1, efermi: float = 0.5,
    cpu_time_s: float = 1.0,
) -> Path:
    """A minimal OUTCAR (per-step stress, forces, energies; timing footer) that pymatgen's Outcar reads."""
    lines = [
        " vasp.6.3.2 (fake: mlip_glass.testing.fake_vasp)",
        "",
        "   k-points           NKPTS =      1   k-points in BZ     NKDIM =      1   number of bands    NBANDS=      8",
        "   total plane-waves  NPLWV =  100000",
        "   ISPIN  =      1    spin polarized calculation?",
        f"   IBRION =     {int(ibrion)}    ionic relax: 0-MD 1-quasi-New 2-CG",
        "",
    ]
    for i, (structure, energy, force, stress) in enumerate(zip(structures, energies, forces, stresses_ev_a3)):
        s = -np.asarray(stress, dtype=float) * KBAR_PER_EV_A3
        lines += [
            f"{'-' * 39} Iteration      {i + 1}(   1)  {'-' * 39}",
            "  FORCE on cell =-STRESS in cart. coord.  units (eV):",
            "  Direction    XX          YY          ZZ          XY          YZ          ZX",
            "  " + "-" * 86,
            f"  in kB  {s[0, 0]:11.5f} {s[1, 1]:11.5f} {s[2, 2]:11.5f} {s[0, 1]:11.5f} {s[1, 2]:11.5f} {s[0, 2]:11.5f}",
            f"  external pressure = {np.trace(s) / 3:11.2f} kB  Pullay stress =        0.00 kB",
            "",
            " POSITION                                       TOTAL-FORCE (eV/Angst)",
            " " + "-" * 83,
        ]
        for xyz, f in zip(structure.cart_coords, np.asarray(force)):
            lines.append(f" {xyz[0]:12.5f} {xyz[1]:12.5f} {xyz[2]:12.5f}   {f[0]:13.6f} {f[1]:13.6f} {f[2]:13.6f}")
        lines += [
            " " + "-" * 83,
            "    total drift:                                0.000000      0.000000      0.000000",
            "",
            f" E-fermi :   {efermi:8.4f}     XC(G=0):  -0.0000     alpha+bet : -0.0000",
            "",
            "  FREE ENERGIE OF THE ION-ELECTRON SYSTEM (eV)",
            "  ---------------------------------------------------",
            f"  free  energy   TOTEN  = {energy:18.8f} eV",
            "",
            f"  energy  without entropy= {energy:18.8f}  energy(sigma->0) = {energy:18.8f}",
            "",
        ]
    lines += [
        "",
        " General timing and accounting informations for this job:",
        " ========================================================",
        "",
        f"                  Total CPU time used (sec):  {cpu_time_s:12.3f}",
        f"                            User time (sec):  {cpu_time_s:12.3f}",
        "                          System time (sec):        0.000",
        f"                         Elapsed time (sec):  {cpu_time_s:12.3f}",
        "",
        "                   Maximum memory used (kb):      100000.",
        "                   Average memory used (kb):          N/A",
        "",
        "                          Minor page faults:            0",
        "                          Major page faults:            0",
        " Voluntary context switches:            0",
    ]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_oszicar(path, energies, temperatures=None) -> Path:
    """OSZICAR with one ionic line per step."""
    lines = ["       N       E                     dE             d eps       ncg     rms          rms(c)"]
    for i, e in enumerate(energies):
        lines.append(f"DAV:   1    {e:.8E}    0.00000E+00   0.00000E+00   100   0.000E+00")
        if temperatures is not None:
            lines.append(
                f"{i + 1:6d} T= {temperatures[i]:8.0f} E= {e:.8E} F= {e:.8E} E0= {e:.8E}  EK= 0.0 SP= 0.0 SK= 0.0"
            )
        else:
            lines.append(f"{i + 1:4d} F= {e:.8E} E0= {e:.8E}  d E =0.000000E+00")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_fake_outputs(directory, frames, incar: dict, cpu_time_s: float = 1.0) -> Path:
    """Write vasprun.xml, OUTCAR, OSZICAR, CONTCAR for ``frames`` = [(structure, energy, forces, stress)]."""
    from pymatgen.io.vasp import Poscar

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    structures = [f[0] for f in frames]
    energies = [float(f[1]) for f in frames]
    forces = [np.asarray(f[2]) for f in frames]
    stresses = [np.asarray(f[3]) for f in frames]
    write_vasprun(directory / "vasprun.xml", structures, energies, forces, stresses, incar)
    ibrion = int(incar.get("IBRION", -1 if int(incar.get("NSW", 0)) == 0 else 0))
    write_outcar(
        directory / "OUTCAR", structures, energies, forces, stresses, ibrion=ibrion, cpu_time_s=cpu_time_s
    )
    temps = None
    if int(incar.get("IBRION", -1)) == 0:
        t0, t1 = float(incar.get("TEBEG", 0)), float(incar.get("TEEND", incar.get("TEBEG", 0)))
        temps = np.linspace(t0, t1, len(frames))
    write_oszicar(directory / "OSZICAR", energies, temps)
    Poscar(structures[-1]).write_file(directory / "CONTCAR")
    return directory


def engine_frames_for_incar(structure, incar: dict, engine=None, seed: int = 1):
    """[(structure, energy, forces, stress)] of the protocol the INCAR asks for, computed by ``engine``
    (default: the EAM): NSW 0 → one static frame; IBRION 1/2/3 → every ionic step of a relaxation
    (ions + cell if ISIF 3) capped at NSW; IBRION 0 → NSW MD steps heating TEBEG → TEEND."""
    engine = get_engine(engine or "eam")
    nsw = int(incar.get("NSW", 0))
    ibrion = int(incar.get("IBRION", -1 if nsw == 0 else 0))
    if nsw == 0 or ibrion == -1:
        frames = [engine.static(structure)]
    elif ibrion in (1, 2, 3):
        frames = engine.relax(
            structure, keep="all", fmax=abs(float(incar.get("EDIFFG", -0.01))), max_steps=max(nsw, 1),
            relax_cell=int(incar.get("ISIF", 2)) >= 3,
        )
    elif ibrion == 0:
        frames = engine.aimd(
            structure, nsteps=nsw, t_start_k=float(incar.get("TEBEG", 5.0)),
            t_end_k=float(incar.get("TEEND", incar.get("TEBEG", 5.0))), timestep_fs=float(incar.get("POTIM", 1.0)),
            seed=seed,
        )
    else:
        raise ValueError(f"fake VASP supports IBRION -1, 0, 1, 2, 3; got {ibrion}")
    return [(f.structure, f.energy, f.forces_array(), f.stress_array_ev_a3()) for f in frames]


def run_fake_vasp(*_args, engine=None, **_kwargs) -> None:
    """Drop-in for ``atomate2.vasp.run.run_vasp``: label the POSCAR in the working directory with
    ``engine`` following the INCAR and write VASP outputs there."""
    from pymatgen.io.vasp import Incar, Poscar

    incar = dict(Incar.from_file("INCAR"))
    structure = Poscar.from_file("POSCAR").structure
    frames = engine_frames_for_incar(structure, incar, engine)
    write_fake_outputs(".", frames, incar)


def fake_vasp_reference_dir(directory, structure, input_set, engine=None, seed: int = 1) -> Path:
    """An atomate2 test reference directory for ``monkeypatch_vasp``: ``inputs/`` written by ``input_set``
    (a VaspInputGenerator; POTCAR.spec only) and ``outputs/`` from the engine."""
    directory = Path(directory)
    vis = input_set.get_input_set(structure, potcar_spec=True)
    vis.write_input(directory / "inputs")
    frames = engine_frames_for_incar(structure, dict(vis.incar), engine, seed=seed)
    write_fake_outputs(directory / "outputs", frames, dict(vis.incar))
    return directory
