"""Store I/O: frames written as one compact block per job read back exactly (embedded and wire stores), old-format
stores still read, and the embedded store's keyed/partial reads return what montydb's scan returns."""

from __future__ import annotations

import numpy as np
import pytest
from maggma.stores import MontyStore
from monty.json import MontyDecoder
from pymatgen.core import Lattice, Species, Structure

from mlip_glass.datasets.jobs import gather_frames_from_store
from mlip_glass.frame_block import (
    BLOCK_FORMAT,
    FrameBlockError,
    encode_frames,
    frame_dicts,
    is_frame_block,
)
from mlip_glass.queries import frames_by_hash, iter_frames, labelled_hashes
from mlip_glass.reference.schemas import LabelledFrame, SubsetDocument, decode_frames
from mlip_glass.store import embedded_job_store, mongo_job_store
from mlip_glass.testing.frames import synthetic_frames, write_subset_job


def _full(frame: LabelledFrame) -> dict:
    """Every field of a frame as plain data (the structure as its pymatgen dict)."""
    out = frame.model_dump()
    out["structure"] = frame.structure.as_dict()
    out["source"] = frame.source.model_dump()
    return out


def _assert_same_frames(read, written):
    read = [f if isinstance(f, LabelledFrame) else LabelledFrame.model_validate(f) for f in read]
    assert [_full(f) for f in read] == [_full(f) for f in written]


@pytest.fixture(scope="module")
def frames():
    """Labelled frames of two kinds: packable ones and one the packed form cannot hold (oxidation states, site
    properties), one without labels (rejected)."""
    base = synthetic_frames(5, n_atoms=20, seed=3)
    odd = Structure(Lattice.cubic(5.0), [Species("Cu", 1), Species("Zr", 2)], [[0, 0, 0], [0.5, 0.5, 0.5]],
                    site_properties={"magmom": [0.1, -0.2]})
    odd_frame = LabelledFrame.from_labels(odd, -7.5, np.ones((2, 3)), engine="eam", subset="crystal")
    rejected = LabelledFrame.from_labels(base[0].structure, float("nan"), None, engine="eam", subset="surrogate")
    return [*base, odd_frame, rejected]


def test_frame_block_round_trip_is_exact(frames):
    block = encode_frames(frames)
    assert is_frame_block(block) and block["format"] == BLOCK_FORMAT and block["n_frames"] == len(frames)
    _assert_same_frames(decode_frames(block), frames)
    # the dict form (queries) equals the frames' dicts, structure included, without pymatgen objects
    assert frame_dicts(block) == [_full(f) for f in frames]
    doc = SubsetDocument.from_frames("surrogate", frames)
    assert SubsetDocument.model_validate(doc.model_dump()) == doc


def test_a_newer_block_format_fails_naming_the_upgrade(frames):
    block = {**encode_frames(frames[:1]), "format": "mlip_glass/frame-block/99"}
    with pytest.raises(FrameBlockError, match="upgrade mlip_glass"):
        decode_frames(block)


def _round_trip(store, frames):
    store.connect()
    uuid = write_subset_job(store, frames, "rt", iteration=0)
    raw = store.get_output(uuid, load=True)
    assert is_frame_block(raw["frames"])  # one blob per job, not one document per frame
    decoded = MontyDecoder().process_decoded(raw)  # what a downstream job receives
    assert isinstance(decoded, SubsetDocument)
    _assert_same_frames(decoded.frames, frames)
    _assert_same_frames(gather_frames_from_store(store, "rt"), frames)
    _assert_same_frames([f for f, _ in iter_frames(store, "rt")], frames)
    assert labelled_hashes(store, "rt") == {f.structure_hash for f in frames}
    h = frames[2].structure_hash
    _assert_same_frames([frames_by_hash(store, "rt", [h])[h]], [frames[2]])
    job = store.query_one({"uuid": uuid}, properties=["output.frame_hashes", "metadata"], load=False)
    assert job["output"]["frame_hashes"] == [f.structure_hash for f in frames]  # queryable without loading
    assert job["metadata"] == {"campaign": "rt", "stage": "reference", "iteration": 0}


def test_embedded_store_round_trip_is_exact(frames, tmp_path):
    _round_trip(embedded_job_store(tmp_path), frames)


@pytest.mark.wire
def test_wire_store_round_trip_is_exact(frames, mongo_uri):
    _round_trip(mongo_job_store(mongo_uri), frames)


def _old_embedded_store(path):
    """The embedded store as written before blob keys: blobs with ObjectId ``_id`` (no ``id_field``)."""
    store = embedded_job_store(path)
    store.additional_stores["data"].id_field = None
    return store


def test_old_format_store_still_reads(frames, tmp_path):
    old = _old_embedded_store(tmp_path)
    old.connect()
    write_subset_job(old, frames, "old", legacy=True)  # frames as a list of frame documents
    old.close()
    store = embedded_job_store(tmp_path)
    store.connect()
    blob = next(store.additional_stores["data"].query({}, properties=["_id", "blob_uuid"]))
    assert blob["_id"] != blob["blob_uuid"]  # an old blob: found by the scan, not by key
    _assert_same_frames(gather_frames_from_store(store, "old"), frames)
    _assert_same_frames([f for f, _ in iter_frames(store, "old")], frames)
    assert labelled_hashes(store, "old") == {f.structure_hash for f in frames}
    write_subset_job(store, frames[:2], "old", iteration=1)  # a new job in an old store
    assert len(gather_frames_from_store(store, "old")) == len(frames) + 2


def test_embedded_queries_return_what_montydb_returns(frames, tmp_path):
    store = embedded_job_store(tmp_path)
    store.connect()
    for k in range(3):
        write_subset_job(store, frames[: k + 2], "q", iteration=k, name=f"label {k}")
    docs = store.docs_store
    uuid = next(docs.query({"metadata.iteration": 1}, ["uuid"]))["uuid"]
    queries = [
        ({}, ["metadata"], None, 0, 0),
        ({}, None, None, 0, 1),
        ({"metadata.campaign": "q", "metadata.stage": "reference"}, ["uuid", "output.frame_hashes"], None, 0, 0),
        ({"$or": [{"metadata.iteration": 0}, {"name": {"$regex": "2$"}}]}, ["name"], {"metadata.iteration": -1},
         0, 0),
        ({"metadata.iteration": {"$gte": 1}}, ["uuid", "index", "output"], {"completed_at": 1}, 1, 1),
        ({"uuid": uuid}, ["output", "uuid", "index"], {"index": -1}, 0, 1),
        ({"output.counts.n_frames": {"$gt": 2}}, ["name"], None, 0, 0),
        # nested paths: embedded documents pruned to them, arrays kept whole
        ({"output.counts.n_frames": {"$gte": 3}}, ["output.counts.n_frames", "output.subset", "metadata.iteration"],
         {"output.counts.n_frames": -1}, 0, 0),
        ({"output.frame_hashes": {"$in": [frames[1].structure_hash]}}, ["uuid", "output.frame_hashes"], None, 0, 0),
        ({"$or": [{"output.subset": "surrogate"}, {"output.subset": {"$exists": False}}]}, ["uuid"], None, 0, 0),
        ({"output.no_such_field": {"$exists": False}}, ["output.no_such_field", "output.counts"], None, 0, 0),
        ({"metadata.campaign": "q"}, ["output.frames.blob_uuid", "output"], None, 0, 0),
    ]
    for criteria, properties, sort, skip, limit in queries:
        ours = list(docs.query(criteria, properties, sort=sort, skip=skip, limit=limit))
        montys = list(MontyStore.query(docs, criteria, properties, sort=sort, skip=skip, limit=limit))
        assert ours == montys, criteria
    blobs = store.additional_stores["data"]
    ids = [b["blob_uuid"] for b in MontyStore.query(blobs, {}, ["blob_uuid"])]
    keyed = list(blobs.query({"blob_uuid": {"$in": ids}}, ["blob_uuid", "data"]))
    assert sorted(d["blob_uuid"] for d in keyed) == sorted(ids)
    assert all(d["_id"] == d["blob_uuid"] for d in keyed)
