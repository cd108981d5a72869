"""Benchmark: writing and reading the demo's labelled datasets, old storage path vs new, same process.

A demo-sized set of labelled datasets (``--jobs`` reference jobs × ``--frames`` frames of ``--atoms`` atoms,
synthetic: mlip_glass.testing.frames) is written as finished reference jobs, then read back the ways the demo
reads them: every job's output through jobflow's reference resolution (``get_output``, what each downstream job
does), the campaign's frames for the assembly (``gather_frames_from_store``), the provenance frame queries
(``iter_frames``) and the already-labelled hashes of active learning (``labelled_hashes``).

- old: frames as a list of frame documents (one pymatgen Structure dict per frame), data-store blobs found by
  montydb's scan (what main did before issue 15's store goal);
- new: frames as one compact frame block per job, blobs keyed by ``blob_uuid`` (sqlite primary key).

On the embedded store (montydb/sqlite in a temporary directory) and on the Mongo wire server the tests use
(mongoeco, started like tests/conftest.py; ``--no-wire`` skips it). With ``--project-dir`` (a copy of a
finished demo campaign; never the original) it also times the ``mlip-glass status`` / ``query`` commands, on that
store and on a copy of it rewritten as the current code writes it (frame blocks, keyed blobs, the large fields
in the data store; :func:`current_format_copy`), so an old demo store also measures the current format.

    python benchmarks/store_io.py --project-dir /tmp/copy_of_mlip_glass_data --baseline-repo /path/to/main
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # wire_server helpers


def _old_embedded(path):
    """The embedded JobStore as main had it: every query by montydb's scan (whole documents decoded)."""
    from jobflow import JobStore
    from maggma.stores import MontyStore

    from mlip_glass.embedded_store import ProjectMontyStore

    class _ScanStore(ProjectMontyStore):
        query = MontyStore.query
    from mlip_glass.store import BLOBS_COLLECTION, DEFAULT_DATABASE, DOCS_COLLECTION, project_dir

    kwargs = {"database_path": str(project_dir(path) / "store"), "database_name": DEFAULT_DATABASE,
              "storage": "sqlite", "companion_collections": [DOCS_COLLECTION, BLOBS_COLLECTION]}
    return JobStore(_ScanStore(DOCS_COLLECTION, **kwargs),
                    additional_stores={"data": _ScanStore(BLOBS_COLLECTION, **kwargs)})


def _timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run_case(store, datasets, campaign, legacy):
    """Write every dataset as a reference job, then read back; returns {step: seconds} and a check value."""
    from monty.json import MontyDecoder

    from mlip_glass.datasets.jobs import gather_frames_from_store
    from mlip_glass.queries import iter_frames, labelled_hashes
    from mlip_glass.testing.frames import write_subset_job

    store.connect()
    times = {}
    t_write, uuids = _timed(lambda: [write_subset_job(store, frames, campaign, legacy=legacy) for frames in datasets])
    times["write"] = t_write
    decode = MontyDecoder().process_decoded  # as jobflow's OutputReference.resolve does for a job's inputs
    t, outputs = _timed(lambda: [decode(store.get_output(u, load=True)) for u in uuids])
    times["resolve output (job input)"] = t
    t, gathered = _timed(lambda: gather_frames_from_store(store, campaign))
    times["gather frames (assembly)"] = t
    t, rows = _timed(lambda: list(iter_frames(store, campaign)))
    times["iter_frames (queries)"] = t
    if legacy:  # main's labelled_hashes: every frame loaded
        t, hashes = _timed(lambda: {f["structure_hash"] for f, _ in iter_frames(store, campaign)})
    else:
        t, hashes = _timed(lambda: labelled_hashes(store, campaign))
    times["labelled_hashes (AL)"] = t
    n = sum(len(d) for d in datasets)
    assert len(gathered) == n and len(rows) == n and len(hashes) == len({f.structure_hash for d in datasets for f in d})
    assert all(len(o.frames) == len(d) for o, d in zip(outputs, datasets))
    times["total"] = sum(times.values())
    return times


def print_table(title, old, new):
    print(f"\n{title}")
    print(f"{'step':28s} {'old (s)':>9s} {'new (s)':>9s} {'old/new':>8s}")
    for key in old:
        ratio = old[key] / new[key] if new[key] > 0 else float("inf")
        print(f"{key:28s} {old[key]:9.3f} {new[key]:9.3f} {ratio:8.1f}")


def bench_embedded(datasets):
    from mlip_glass.store import embedded_job_store

    with tempfile.TemporaryDirectory() as old_dir, tempfile.TemporaryDirectory() as new_dir:
        old = run_case(_old_embedded(old_dir), datasets, "bench", legacy=True)
        new = run_case(embedded_job_store(new_dir), datasets, "bench", legacy=False)
        sizes = {}
        for label, d in (("old", old_dir), ("new", new_dir)):
            sizes[label] = sum(f.stat().st_size for f in Path(d, "store").rglob("*.collection*")) / 1e6
    print_table("embedded store (montydb/sqlite)", old, new)
    print(f"store size on disk: old {sizes['old']:.1f} MB, new {sizes['new']:.1f} MB")
    return old, new


def bench_wire(datasets):
    from wire_server import find_wire_python, start_wire_server

    from mlip_glass.store import mongo_job_store

    python = find_wire_python(REPO)
    if python is None:
        print("\nwire server: no .venv-mongo python (make wire-venv); skipped")
        return None
    server = start_wire_server(python)
    try:
        base = f"mongodb://127.0.0.1:{server.port}"
        old = run_case(mongo_job_store(f"{base}/bench_old?directConnection=true"), datasets, "bench", legacy=True)
        new = run_case(mongo_job_store(f"{base}/bench_new?directConnection=true"), datasets, "bench", legacy=False)
    finally:
        server.stop()
    print_table("Mongo wire server (mongoeco, GridFS blobs)", old, new)
    return old, new


def _env(repo):
    return {**os.environ, "PYTHONPATH": str(repo) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def time_command(args, env, repeat=3):
    """Median wall time and median CPU time (user + sys; less sensitive to a loaded machine) in s of
    ``python -m mlip_glass.cli <args>``, and its last output line."""
    import resource

    times, cpu, out = [], [], ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "mlip_glass.cli", *args], env=env, capture_output=True,
                              text=True, check=False, cwd=env["PYTHONPATH"].split(os.pathsep)[0])  # -m: cwd first
        times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out = (proc.stdout.strip().splitlines() or [proc.stderr.strip()])[-1]
    return statistics.median(times), statistics.median(cpu), out


def _a_labelled_frame(project_dir) -> str | None:
    """The structure hash of a feedback frame of the demo campaign (else any frame), for ``--lineage``."""
    from mlip_glass import queries
    from mlip_glass.store import embedded_job_store

    store = embedded_job_store(project_dir)
    try:
        rows = queries.frames_of_subset(store, "demo", "mlip_feedback") or queries.frames_of_subset(
            store, "demo", "surrogate")
    finally:
        store.close()
    return rows[0]["structure_hash"] if rows else None


#: output fields the current stage decorators route to the data store besides those already there in old stores
#: (active_learning: snapshots, to_label, reused_frames; surrogate: states; dataset: structures)
NEW_DATA_FIELDS = ("snapshots", "to_label", "reused_frames", "states", "structures")
#: jobs whose whole output goes to the data store (``stage_job(..., data=True)``)
WHOLE_OUTPUT_JOBS = ("relaxed_finals",)


def current_format_copy(project_dir, dest) -> Path:
    """Copy ``project_dir`` (a finished campaign) to ``dest`` with its store rewritten as the current code writes
    it: reference frames as frame blocks, blobs keyed by ``blob_uuid``, the large fields in the data store."""
    import shutil

    from monty.json import jsanitize

    from mlip_glass.reference.schemas import SubsetDocument
    from mlip_glass.stage import plain_output
    from mlip_glass.store import embedded_job_store

    dest = Path(dest)
    shutil.copytree(project_dir, dest, ignore=shutil.ignore_patterns("store"))
    old, new = embedded_job_store(project_dir), embedded_job_store(dest)
    old.connect()
    new.connect()
    for raw in list(old.query({}, load=False)):
        out = raw["output"]
        save = [k for k, v in out.items() if isinstance(v, dict) and "blob_uuid" in v] if isinstance(out, dict) else []
        doc = old.query_one({"uuid": raw["uuid"], "index": raw["index"]}, load=True)
        output = doc.pop("output")
        if raw.get("name") in WHOLE_OUTPUT_JOBS:
            save = ["output"]
        elif isinstance(output, dict):
            save += [k for k in NEW_DATA_FIELDS if k in output]
            if (raw.get("metadata") or {}).get("stage") == "reference" and "frames" in output:
                subset = SubsetDocument.model_validate(output)
                output = jsanitize(subset, strict=True, allow_bson=True) if "@class" in output else plain_output(subset)
                save.append("frames")
        doc.pop("_id", None)
        new.update({**doc, "output": output}, key=["uuid", "index"], save={"data": sorted(set(save))})
    old.close()
    new.close()
    return dest


def bench_commands(project_dir, baseline_repo=None):
    """Wall times of the read commands, this checkout vs ``baseline_repo`` (e.g. a checkout of main)."""
    commands = [
        ["status"],
        ["query"],
        ["query", "--campaign", "demo", "--stage", "reference"],
        ["query", "--campaign", "demo", "--learning-curve"],
        ["query", "--campaign", "demo", "--subset", "relaxed"],
        ["query", "--campaign", "demo", "--model", "1"],
    ]
    frame = _a_labelled_frame(project_dir)
    if frame:
        commands.append(["query", "--campaign", "demo", "--lineage", frame])
    print(f"\ncommands on {project_dir} (median of 3 incl. interpreter start; wall, and CPU = user + sys)")
    print(f"  {'command':61s} {'old wall':>8s} {'new wall':>8s} {'old CPU':>8s} {'new CPU':>8s}   last line (new)")
    nan = (float("nan"), float("nan"), "")
    for args in commands:
        full = [*args, "--project-dir", str(project_dir)]
        w_new, c_new, last = time_command(full, _env(REPO))
        w_old, c_old, _ = time_command(full, _env(baseline_repo)) if baseline_repo else nan
        label = " ".join(args if "--lineage" not in args else [*args[:-1], args[-1][:12]])
        print(f"  mlip-glass {label:50s} {w_old:8.2f} {w_new:8.2f} {c_old:8.2f} {c_new:8.2f}   | {last[:40]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=8, help="reference jobs (datasets), default 8 as in the demo")
    parser.add_argument("--frames", type=int, default=50, help="frames per job (default 50: 400 frames)")
    parser.add_argument("--atoms", type=int, default=150)
    parser.add_argument("--no-wire", action="store_true", help="skip the Mongo wire server")
    parser.add_argument("--project-dir", default=None, help="COPY of a finished demo campaign's project dir")
    parser.add_argument("--baseline-repo", default=None,
                        help="a checkout of the old code (e.g. main) whose commands are timed for comparison")
    args = parser.parse_args(argv)

    from mlip_glass.testing.frames import synthetic_frames

    datasets = [synthetic_frames(args.frames, args.atoms, seed=j) for j in range(args.jobs)]
    print(f"{args.jobs} datasets x {args.frames} frames x {args.atoms} atoms "
          f"({args.jobs * args.frames} frames); load average {os.getloadavg()[0]:.2f}")
    bench_embedded(datasets)
    if not args.no_wire:
        bench_wire(datasets)
    if args.project_dir:
        bench_commands(args.project_dir, args.baseline_repo)
        with tempfile.TemporaryDirectory() as tmp:
            current = current_format_copy(args.project_dir, Path(tmp) / "project")
            print("\nthe same campaign rewritten as the current code writes it:", end="")
            bench_commands(current, args.baseline_repo)


if __name__ == "__main__":
    main()
