"""Assertions on how job outputs sit in a JobStore (shared by the stages' tests)."""

from __future__ import annotations

from monty.json import jsanitize


def assert_in_data_store(store, responses: dict, uuid: str, field: str | None) -> dict:
    """The job document of ``uuid`` holds ``output[field]`` (``field`` None: the whole output) as a reference to the
    ``data`` store, and its output loaded from the store equals what the job returned, serialised as jobflow stores
    it (``responses``: what ``run_locally`` returns). Returns the loaded output."""
    raw = store.query_one({"uuid": uuid}, properties=["output"], sort={"index": -1}, load=False)["output"]
    ref = raw if field is None else raw[field]
    assert isinstance(ref, dict) and ref.get("store") == "data" and "blob_uuid" in ref, (field, ref)
    loaded = store.query_one({"uuid": uuid}, properties=["output"], sort={"index": -1}, load=True)["output"]
    response = responses[uuid][max(responses[uuid])]
    assert loaded == jsanitize(response.output, strict=True, enum_values=True, allow_bson=True), field
    return loaded
