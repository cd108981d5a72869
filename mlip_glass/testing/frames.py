"""Synthetic labelled datasets for store round-trip tests and the store I/O benchmark (no engine needed).

:func:`synthetic_frames` builds LabelledFrames of random 150-atom Cu-Zr-Al cells with random labels;
:func:`write_subset_job` stores a SubsetDocument as a finished reference job the way jobflow does (job document
in the docs store, ``output.frames`` to the ``data`` store), either as a frame block (today) or as the frame list
of stores written before blocks existed (``legacy=True``).
"""

from __future__ import annotations

import datetime
import uuid as uuid_module

import numpy as np


def synthetic_frames(n_frames: int, n_atoms: int = 150, seed: int = 0, subset: str = "surrogate",
                     job_uuid: str | None = None) -> list:
    """``n_frames`` LabelledFrames: random cubic Cu-Zr-Al cells (~17 Å^3/atom), energies (eV), forces (eV/Å),
    stresses (eV/Å^3) and provenance; every third frame has a parent and a relax step."""
    from pymatgen.core import Lattice, Structure

    from mlip_glass.reference.schemas import FrameSource, LabelledFrame

    rng = np.random.default_rng(seed)
    species = (["Cu"] * 46 + ["Zr"] * 46 + ["Al"] * 8) * (n_atoms // 100 + 1)
    side = (17.0 * n_atoms) ** (1 / 3)
    frames = []
    for i in range(n_frames):
        lattice = Lattice(np.diag([side] * 3) + rng.normal(0, 0.05, (3, 3)))
        structure = Structure(lattice, species[:n_atoms], rng.random((n_atoms, 3)))
        stress = rng.normal(0, 0.01, (3, 3))
        source = FrameSource(job_uuid=job_uuid, method="swap_mc", cooling_length=float(10 ** (i % 4)),
                             seed=int(i), step=i if i % 3 == 0 else None,
                             extra={"temperature_K": 300.0 + i} if i % 5 == 0 else {})
        frame = LabelledFrame.from_labels(
            structure, float(rng.normal(-4.5 * n_atoms, 1.0)), rng.normal(0, 0.5, (n_atoms, 3)),
            stress_ev_a3=(stress + stress.T) / 2, engine="eam", subset=subset,
            engine_settings={"potential": "CuZrAl.eam.fs"}, parent_hash=f"parent{i // 3}" if i % 3 == 0 else None,
            source=source, cpu_time_s=0.01 * i,
        )
        frames.append(frame)
    return frames


def job_document(output, campaign: str, iteration: int = 0, stage: str = "reference", name: str = "label",
                 job_uuid: str | None = None) -> dict:
    """A finished job's store document (the fields jobflow writes) around ``output``."""
    return {
        "uuid": job_uuid or str(uuid_module.uuid4()), "index": 1, "name": name, "output": output,
        "completed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(), "hosts": [],
        "metadata": {"campaign": campaign, "stage": stage, "iteration": iteration},
    }


def write_subset_job(store, frames, campaign: str, iteration: int = 0, legacy: bool = False,
                     name: str = "label") -> str:
    """Store ``frames`` as one reference job's SubsetDocument (frames to the ``data`` store); returns its uuid.
    ``legacy``: the frames as a list of frame documents, as stores written before frame blocks hold them."""
    from monty.json import jsanitize

    from mlip_glass.reference.schemas import SubsetDocument

    doc = SubsetDocument.from_frames(frames[0].subset if frames else "surrogate", frames)
    output = jsanitize(doc, strict=True, allow_bson=True)  # as jobflow serialises a job's output
    if legacy:
        output["frames"] = jsanitize([f.model_dump() for f in frames], strict=True, allow_bson=True)
    job = job_document(output, campaign, iteration, name=name)
    store.update(job, key=["uuid", "index"], save={"data": ["frames"]})
    return job["uuid"]
