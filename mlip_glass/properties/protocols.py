"""The paper's property protocols as objects passed whole (like :class:`~mlip_glass.reference.protocols.AIMDProtocol`).

:class:`ElasticProtocol` (0 K finite deformation, Fig. 4b), :class:`AQSProtocol` (athermal quasi-static simple
shear, Fig. 5a) and :class:`RDFProtocol` (one melt-quench run, Fig. 4a) carry the paper's numbers
(:mod:`mlip_glass.properties.constants`) as defaults and check their ranges once. The property Makers and runners
take one protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlip_glass.errors import ProtocolError
from mlip_glass.properties import constants as C
from mlip_glass.properties.aqs import SHEAR_PLANES
from mlip_glass.reference.protocols import ProtocolBase


@dataclass(frozen=True)
class ElasticProtocol(ProtocolBase):
    """0 K elastic constants by finite deformation of minimised structures (SPEC §7).

    Parameters
    ----------
    norm_strains, shear_strains
        Strain magnitudes of the deformation set (all six components, no symmetry reduction; dimensionless).
    fmax
        Force tolerance of the ionic relaxation of each deformed cell (eV/Å).
    relax_first
        Relax ions and cell with the potential before deforming (the paper's structures are minimised with DFT).
    relax_fmax
        Force tolerance of that relaxation (eV/Å).
    """

    norm_strains: tuple[float, ...] = C.ELASTIC_NORM_STRAINS
    shear_strains: tuple[float, ...] = C.ELASTIC_SHEAR_STRAINS
    fmax: float = C.ELASTIC_FMAX
    relax_first: bool = True
    relax_fmax: float = C.RELAX_FMAX

    def __post_init__(self):
        for name in ("norm_strains", "shear_strains"):
            strains = tuple(float(s) for s in getattr(self, name))
            if not strains or any(s == 0 or abs(s) > 0.05 for s in strains):
                raise ProtocolError(f"{name} must be non-zero strains with |strain| <= 0.05, got {strains}")
            object.__setattr__(self, name, strains)
        if self.fmax <= 0 or self.relax_fmax <= 0:
            raise ProtocolError(f"fmax and relax_fmax must be > 0 eV/Å, got {self.fmax}, {self.relax_fmax}")


@dataclass(frozen=True)
class AQSProtocol(ProtocolBase):
    """Athermal quasi-static simple shear; G = slope of a linear fit of stress vs strain (SPEC §7).

    Parameters
    ----------
    max_strain
        Final engineering shear strain (paper 0.01).
    strain_step
        Strain increment per minimisation step.
    fit_range
        Strain window of the linear fit giving G (paper 0.004–0.006).
    plane
        LAMMPS tilt factor sheared: xy, xz or yz.
    fmax
        Force tolerance of each minimisation (eV/Å).
    relax_first, relax_fmax
        Relax ions + cell with the potential first, to this force tolerance (eV/Å).
    """

    max_strain: float = C.AQS_MAX_STRAIN
    strain_step: float = C.AQS_STRAIN_STEP
    fit_range: tuple[float, float] = C.AQS_FIT_RANGE
    plane: str = C.AQS_PLANE
    fmax: float = C.AQS_FMAX
    relax_first: bool = True
    relax_fmax: float = C.RELAX_FMAX

    def __post_init__(self):
        if not 0 < self.strain_step <= self.max_strain <= 0.5:
            raise ProtocolError(f"need 0 < strain_step <= max_strain <= 0.5, got {self.strain_step}, {self.max_strain}")
        lo, hi = (float(x) for x in self.fit_range)
        if not lo < hi:
            raise ProtocolError(f"fit_range must be (low, high) strains with low < high, got {self.fit_range}")
        object.__setattr__(self, "fit_range", (lo, hi))
        if self.plane not in SHEAR_PLANES:
            raise ProtocolError(f"plane must be one of {sorted(SHEAR_PLANES)}, got {self.plane!r}")
        if self.fmax <= 0 or self.relax_fmax <= 0:
            raise ProtocolError(f"fmax and relax_fmax must be > 0 eV/Å, got {self.fmax}, {self.relax_fmax}")


@dataclass(frozen=True)
class RDFProtocol(ProtocolBase):
    """One melt-quench run for g(r) (SPEC §7): NPT at ``t_high`` for ``equilibration_ps``, linear NPT cooling to
    ``t_low`` at ``cooling_rate_k_per_ns``, NPT at ``t_low`` for ``sample_ps`` taking ``sample_frames`` g(r) frames.

    Parameters
    ----------
    t_high, t_low
        Melt and final temperature (K).
    cooling_rate_k_per_ns
        Linear NPT cooling rate (K/ns).
    timestep_fs
        MD time step (fs).
    equilibration_ps
        NPT time at ``t_high`` before cooling (ps).
    sample_ps, sample_frames
        NPT time at ``t_low`` (ps) and g(r) frames taken in it.
    pressure_gpa
        NPT pressure (GPa).
    r_max, n_bins
        g(r) range (Å) and bins.
    """

    t_high: float = C.RDF_T_HIGH_K
    t_low: float = C.RDF_T_LOW_K
    cooling_rate_k_per_ns: float = C.RDF_COOLING_RATE_K_PER_NS
    timestep_fs: float = C.RDF_TIMESTEP_FS
    equilibration_ps: float = C.RDF_EQUILIBRATION_PS
    sample_ps: float = C.RDF_SAMPLE_PS
    sample_frames: int = C.RDF_SAMPLE_FRAMES
    pressure_gpa: float = C.RDF_PRESSURE_GPA
    r_max: float = C.RDF_R_MAX
    n_bins: int = C.RDF_N_BINS

    def __post_init__(self):
        for name in ("t_high", "t_low", "cooling_rate_k_per_ns", "timestep_fs"):
            if not getattr(self, name) > 0:
                raise ProtocolError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.t_low > self.t_high:
            raise ProtocolError(f"t_low ({self.t_low} K) must be <= t_high ({self.t_high} K)")
        if self.sample_frames < 1:
            raise ProtocolError(f"sample_frames must be >= 1, got {self.sample_frames}")
