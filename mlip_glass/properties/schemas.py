"""Property documents (outputs of the Makers in :mod:`mlip_glass.properties.jobs`).

Every document records the potential (name, kind, id; ``model_hash`` for NEP), the hashes of the input
structures, the protocol parameters, results in GPa / Å / eV, and the runs that failed (with the error
naming the run). Curves (g(r), stress–strain, strains/stresses) sit in ``curves``, routed to the
JobStore's ``data`` store.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

#: document fields routed to the JobStore's ``data`` store
DATA_FIELDS = ["curves"]


class PotentialRecord(BaseModel):
    """Which potential produced a property."""

    name: str = Field(description="label of the potential")
    kind: str = Field(description="EAMPotential, NEPPotential or LammpsPairPotential")
    potential_id: str | None = Field(None, description="model_hash (NEP), sha256 of the file (EAM) or name")
    model_hash: str | None = Field(None, description="sha256 of nep.txt (NEP only)")
    model_uuid: str | None = Field(None, description="uuid of the NEP model document/job, if known")
    path: str | None = Field(None, description="potential file (EAM)")
    species: list[str] = Field(description="chemical symbols of LAMMPS types 1..n")


class RunFailure(BaseModel):
    """A run that failed; the other runs' results are kept."""

    label: str = Field(description="run label, e.g. 'rdf run 3' or 'elastic structure 2'")
    structure_hash: str | None = Field(None, description="hash of the run's input structure")
    error: str = Field(description="error message naming the run")


class PropertyDocument(BaseModel):
    """Fields shared by every property document."""

    property: str = Field(description="rdf, elastic, aqs_shear or energetics")
    potential: PotentialRecord = Field(description="the potential used")
    protocol: dict[str, Any] = Field(description="protocol parameters (K, ps, fs, Å, GPa, eV/Å)")
    structure_hashes: list[str] = Field(default_factory=list, description="hashes of the input structures")
    n_requested: int = Field(description="runs/structures requested")
    n_ok: int = Field(description="runs/structures that succeeded")
    failures: list[RunFailure] = Field(default_factory=list, description="failed runs")
    wall_time_s: float = Field(0.0, description="wall time of the job (s)")
    curves: dict[str, Any] | None = Field(None, description="curves and raw arrays (data store)")


class RDFDocument(PropertyDocument):
    """Melt-quench g(r), averaged over runs and frames (Fig. 4a)."""

    property: str = "rdf"
    seeds: list[int] = Field(default_factory=list, description="velocity seeds of the successful runs")
    final_structure_hashes: list[str] = Field(default_factory=list, description="hashes of quenched cells")
    number_density: float | None = Field(None, description="mean number density at T_low (1/Å^3)")
    temperature: float | None = Field(None, description="mean sampled temperature (K)")
    energy_per_atom: float | None = Field(None, description="mean final potential energy (eV/atom)")
    first_peak_r: float | None = Field(None, description="position of the total g(r) maximum (Å)")
    comparison: dict[str, Any] | None = Field(
        None, description="vs experiment: mae, wasserstein (Å), r_range (Å), weighting, q (1/Å), source"
    )


class ElasticSample(BaseModel):
    """0 K elastic constants of one structure."""

    structure_hash: str = Field(description="hash of the input structure")
    relaxed_structure_hash: str = Field(description="hash of the structure relaxed with the potential")
    C: list[list[float]] = Field(description="6x6 stiffness, Voigt order xx yy zz yz xz xy (GPa)")
    B: float = Field(description="bulk modulus, Hill (GPa)")
    G: float = Field(description="shear modulus, Hill (GPa)")
    E: float = Field(description="Young's modulus from Hill B, G (GPa)")
    nu: float = Field(description="Poisson ratio from Hill B, G")
    B_voigt: float = Field(description="GPa")
    B_reuss: float = Field(description="GPa")
    G_voigt: float = Field(description="GPa")
    G_reuss: float = Field(description="GPa")
    energy_per_atom: float = Field(description="energy of the relaxed structure (eV/atom)")
    asymmetry: float | None = Field(None, description="||C − Cᵀ|| / ||C||: > ELASTIC_MAX_ASYMMETRY marks a "
                                                       "rearrangement under strain (sample left out of the mean)")


class ElasticDocument(PropertyDocument):
    """Elastic constants and isotropic moduli per structure and averaged (Fig. 4b)."""

    property: str = "elastic"
    samples: list[ElasticSample] = Field(default_factory=list, description="per-structure results")
    mean: dict[str, float] = Field(default_factory=dict, description="mean B, G, E (GPa), nu over the samples in "
                                                                     "the linear regime")
    std: dict[str, float] = Field(default_factory=dict, description="standard deviation over the same samples")
    n_nonlinear: int = Field(0, description="samples left out of mean/std: C asymmetric (a rearrangement) or "
                                            "not positive definite (unstable)")


class AQSSample(BaseModel):
    """AQS shear of one structure."""

    structure_hash: str = Field(description="hash of the input structure")
    G: float = Field(description="shear modulus from the linear fit (GPa)")
    energy_per_atom: float = Field(description="energy of the relaxed unstrained structure (eV/atom)")
    max_stress: float = Field(description="largest shear stress on the curve (GPa)")


class AQSDocument(PropertyDocument):
    """AQS simple-shear moduli (Fig. 5a: G vs energy)."""

    property: str = "aqs_shear"
    samples: list[AQSSample] = Field(default_factory=list, description="per-structure results")
    mean_G: float | None = Field(None, description="mean shear modulus (GPa)")
    std_G: float | None = Field(None, description="standard deviation of G (GPa)")


class EnergySample(BaseModel):
    """Energy of one structure with the potential and the reference."""

    structure_hash: str = Field(description="hash of the structure")
    e_potential: float = Field(description="potential energy with the potential (eV/atom)")
    e_reference: float | None = Field(None, description="reference (DFT/engine) energy (eV/atom)")
    reference_engine: str | None = Field(None, description="engine of the reference label")


class EnergeticsDocument(PropertyDocument):
    """Energies vs reference energies (Fig. 5b)."""

    property: str = "energetics"
    samples: list[EnergySample] = Field(default_factory=list, description="per-structure energies")
    parity: dict[str, float] | None = Field(
        None, description="slope, intercept (eV/atom), slope_origin, r2, rmse, mae, rmse_shifted (eV/atom)"
    )
