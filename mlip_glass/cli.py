"""The ``mlip-glass`` command: run or submit flows, watch their state, query the store."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlip_glass import __version__
from mlip_glass.errors import MLIPGlassError

DEFAULT_CAMPAIGN = "default"
#: commands that only read the store: an embedded project dir without a store is refused, not created
READ_COMMANDS = ("status", "query", "report")
#: library warnings hidden from the console unless --verbose (also in worker processes)
QUIET_WARNINGS = "ignore::FutureWarning,ignore::DeprecationWarning,ignore::RuntimeWarning,ignore::UserWarning"


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        help="job store: 'embedded' (default, on disk, no server), 'memory', 'jobflow' "
        "(jobflow.yaml JOB_STORE) or a mongodb:// URI; env MLIP_GLASS_STORE_URI",
    )
    parser.add_argument(
        "--project-dir",
        default=None,
        help="directory of the embedded store (default ./mlip_glass_data; env MLIP_GLASS_PROJECT_DIR)",
    )


def _add_launchpad_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--launchpad",
        default=None,
        help="FireWorks LaunchPad: a launchpad.yaml path, a mongodb:// URI or 'embedded' "
        "(file-backed, single worker); default ./launchpad.yaml or FireWorks' own default",
    )


def _flow_options(args) -> dict:
    """The ``-o`` options parsed (JSON / Python literals) and checked against the flow's options."""
    from mlip_glass.flow_options import parse_options, validate_options

    return validate_options(args.flow, parse_options(args.option))


def _build_flow(flow: str, campaign: str, iteration: int, options: dict):
    """Build the named flow; a builder's TypeError on an option value becomes a named error."""
    from mlip_glass.errors import FlowOptionError
    from mlip_glass.flows import build_flow

    try:
        return build_flow(flow, campaign, iteration, **options)
    except TypeError as exc:
        raise FlowOptionError(f"flow {flow!r} rejected options {options}: {exc}") from exc


def _add_flow_arguments(parser: argparse.ArgumentParser, flow_names: bool = True) -> None:
    """``flow_names``: list the flows in the help (imports :mod:`mlip_glass.flows`, ~0.8 s: not for reads)."""
    if flow_names:
        from mlip_glass.flows import available_flows

        names = ", ".join(available_flows())
    else:
        names = "a named flow (see `mlip-glass run --help`)"
    parser.add_argument("flow", help=f"which flow to build: {names} or 'package.module:function'")
    parser.add_argument("--campaign", default=DEFAULT_CAMPAIGN, help="campaign name stamped on every job")
    parser.add_argument("--iteration", type=int, default=0, help="active-learning iteration (>= 0)")
    parser.add_argument(
        "--option", "-o", action="append", metavar="KEY=VALUE",
        help="flow option (JSON or Python literal, e.g. -o n_samples=1 -o 'swap_sweeps=[100,1000]'), repeatable",
    )


# -- store, console --------------------------------------------------------------------------------------
def _job_store(args, read: bool = False, writer: bool = False):
    """The JobStore of ``--store``/``--project-dir``, refusing what would silently lose or invent data:
    a read command on a project dir that holds no store (typo), a store file that cannot be read (and,
    in :func:`mlip_glass.store.get_job_store`, ``jobflow`` without a configuration file). ``writer``: take
    the embedded project's writer lock now (a second ``run`` is refused before any work)."""
    from mlip_glass.store import EMBEDDED, STORE_URI_ENV, StoreConfigError, get_job_store
    from mlip_glass.store import project_dir as resolve_project_dir

    spec = args.store or os.environ.get(STORE_URI_ENV) or EMBEDDED
    if spec == EMBEDDED and read:
        folder = resolve_project_dir(args.project_dir, create=False)
        if not (folder / "store").is_dir():
            raise StoreConfigError(
                f"--project-dir {folder} holds no store (nothing was run there); check the path"
            )
    store = get_job_store(args.store, args.project_dir, writer=writer)
    try:
        store.connect()
        store.query_one({}, properties=["uuid"])
    except MLIPGlassError:
        raise
    except Exception as exc:  # noqa: BLE001 - sqlite/montydb/pymongo errors of an unreadable store
        where = "--store"
        if spec == EMBEDDED:
            where = f"--project-dir {resolve_project_dir(args.project_dir, create=False)}"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise StoreConfigError(
            f"the job store of {where} cannot be read ({type(exc).__name__}: {detail}); "
            "restore it from a backup or use a new project dir"
        ) from exc
    return store


def _jobflow_config_file() -> Path:
    return Path(os.environ.get("JOBFLOW_CONFIG_FILE") or Path.home() / ".jobflow.yaml").expanduser()


def _import_jobflow() -> None:
    """Import jobflow, which reads its configuration file at import: a malformed one is a named error."""
    try:
        import jobflow  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - YAML parser errors, unknown store types, ...
        from mlip_glass.errors import JobflowConfigError

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise JobflowConfigError(
            f"jobflow configuration {_jobflow_config_file()} (JOBFLOW_CONFIG_FILE) is malformed: "
            f"{type(exc).__name__}: {first}"
        ) from exc


@contextmanager
def _console(args):
    """Console output of a command, restored afterwards.

    Default: one line per job plus the progress lines of long jobs (``mlip_glass`` INFO logs), library
    warnings (FutureWarning, RuntimeWarning, ...) hidden here and in worker processes. ``--verbose``: jobflow's
    log, debug messages and every warning. ``--quiet``: errors and the final summary only.
    """
    import warnings

    verbose = getattr(args, "verbose", False)
    quiet = getattr(args, "quiet", False) and not verbose
    package, jobflow_logger = logging.getLogger("mlip_glass"), logging.getLogger("jobflow")
    saved = [(log, log.level, list(log.handlers), log.propagate) for log in (package, jobflow_logger)]
    saved_env = os.environ.get("PYTHONWARNINGS")
    with warnings.catch_warnings():
        try:
            if verbose:
                from jobflow import initialize_logger

                initialize_logger()
            else:
                os.environ["PYTHONWARNINGS"] = QUIET_WARNINGS  # worker processes inherit it
                for category in (FutureWarning, DeprecationWarning, RuntimeWarning, UserWarning):
                    warnings.simplefilter("ignore", category)
                jobflow_logger.setLevel(logging.WARNING)
            package.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
            if not quiet:
                handler = logging.StreamHandler(sys.stdout)
                handler.setFormatter(logging.Formatter("      %(message)s"))
                package.handlers = [handler]
                package.propagate = False
            yield
        finally:
            for log, level, handlers, propagate in saved:
                log.setLevel(level)
                log.handlers = handlers
                log.propagate = propagate
            if saved_env is None:
                os.environ.pop("PYTHONWARNINGS", None)
            else:
                os.environ["PYTHONWARNINGS"] = saved_env


# -- commands -------------------------------------------------------------------------------------------
def _campaign_file(args, campaign: str) -> Path:
    """``<project>/campaigns/<campaign>.json``: the flow, iteration and options of a campaign (resume)."""
    from mlip_glass.campaign import _safe
    from mlip_glass.store import project_dir

    folder = project_dir(args.project_dir) / "campaigns"
    folder.mkdir(exist_ok=True)
    return folder / f"{_safe(campaign)}.json"


def _run_campaign(args, flow_name: str, campaign: str, iteration: int, options: dict) -> int:
    """Build the flow and run it resumably (skip finished jobs, resume checkpoints); one line per job."""
    from mlip_glass.campaign import CHECKPOINT_DIR_ENV, CampaignRunner, _safe
    from mlip_glass.store import project_dir

    flow = _build_flow(flow_name, campaign, iteration, options)  # bad options fail before the store opens
    store = _job_store(args, writer=True)
    recipe = {"flow": flow_name, "campaign": campaign, "iteration": iteration, "options": options}
    from monty.json import jsanitize

    _campaign_file(args, campaign).write_text(json.dumps(jsanitize(recipe), indent=1))
    project = project_dir(args.project_dir)
    os.environ.setdefault(CHECKPOINT_DIR_ENV, str(project / "checkpoints"))
    quiet = getattr(args, "quiet", False)
    runner = CampaignRunner(store, campaign, project / "runs" / _safe(campaign),
                            progress=None if quiet else (lambda line: print(line, flush=True)),
                            salt=f"iteration {iteration}")
    result = runner.run(flow)
    result.raise_if_failed()
    print(f"flow {flow_name!r} (campaign {campaign!r}): ran {len(result.ran)} jobs, "
          f"skipped {len(result.skipped)} finished before", flush=True)
    return 0


def cmd_run(args) -> int:
    options = _flow_options(args)
    return _run_campaign(args, args.flow, args.campaign, args.iteration, options)


def cmd_resume(args) -> int:
    from mlip_glass.store import StoreConfigError

    path = _campaign_file(args, args.campaign)
    if not path.is_file():
        raise StoreConfigError(f"--campaign {args.campaign!r} was never run from this project dir ({path} missing)")
    recipe = json.loads(path.read_text())
    args.flow = recipe["flow"]
    options = _validate_saved_options(recipe["flow"], recipe.get("options") or {})
    return _run_campaign(args, recipe["flow"], recipe["campaign"], int(recipe.get("iteration", 0)), options)


def _validate_saved_options(flow: str, options: dict) -> dict:
    from mlip_glass.flow_options import validate_options

    return validate_options(flow, options)


def cmd_demo(args) -> int:
    import time

    start = time.perf_counter()
    print(f"demo campaign {args.campaign!r} ({args.al_iterations} active-learning iteration(s)); "
          "one line per job below", flush=True)
    _run_campaign(args, "demo", args.campaign, 0, {"al_iterations": args.al_iterations})
    wall = time.perf_counter() - start
    print(f"demo flow finished in {wall:.0f} s (wall time)", flush=True)
    if not args.no_report:
        from mlip_glass.report import write_report

        folder = write_report(_job_store(args, read=True), args.campaign, args.report_dir)
        print(f"report: {folder / 'index.html'} (total wall time {time.perf_counter() - start:.0f} s)")
    return 0


def cmd_validate(args) -> int:
    """The validate campaign (and with --ablation the same campaign without swap-MC states), then the reports and
    the side-by-side ablation table (JSON next to the reports)."""
    import json
    import time

    from mlip_glass.report import write_report
    from mlip_glass.report.closed_loop import ablation_table

    start = time.perf_counter()
    campaigns = [(args.campaign, True)] + ([(f"{args.campaign}-noswap", False)] if args.ablation else [])
    for campaign, deep_swap in campaigns:
        print(f"validate campaign {campaign!r} (swap-MC states in training: {deep_swap})", flush=True)
        _run_campaign(args, "validate", campaign, 0, {"deep_swap": deep_swap})
        print(f"{campaign}: flow finished after {time.perf_counter() - start:.0f} s (wall time)", flush=True)
    store = _job_store(args, read=True)
    folders = [write_report(store, campaign) for campaign, _ in campaigns]
    for folder in folders:
        print(f"report: {folder / 'index.html'}")
    if args.ablation:
        rows = ablation_table(store, campaigns[0][0], campaigns[1][0])
        path = folders[0].parent / f"ablation_{args.campaign}.json"
        path.write_text(json.dumps(rows, indent=1))
        width = max(len(r["quantity"]) for r in rows)
        print(f"{'':{width}s}  {campaigns[0][0]:>16s}  {campaigns[1][0]:>16s}")
        for row in rows:
            print(f"{row['quantity']:{width}s}  {row[campaigns[0][0]]:>16s}  {row[campaigns[1][0]]:>16s}")
        print(f"ablation table: {path}")
    print(f"total wall time {time.perf_counter() - start:.0f} s")
    return 0


def cmd_report(args) -> int:
    from mlip_glass.report import write_report

    store = _job_store(args, read=True)
    folder = write_report(store, args.campaign, args.report_dir)
    print(f"report: {folder / 'index.html'}")
    return 0


def cmd_submit(args) -> int:
    from mlip_glass.store import get_launchpad

    lpad = get_launchpad(args.launchpad, args.project_dir)  # before fireworks is imported (embedded)
    from jobflow.managers.fireworks import flow_to_workflow

    from mlip_glass.campaign import campaign_salt
    from mlip_glass.job_ids import deterministic_flow
    from mlip_glass.store import EMBEDDED, STORE_URI_ENV, fireworks_job_store

    flow = _build_flow(args.flow, args.campaign, args.iteration, _flow_options(args))
    # the job uuids `mlip-glass run` gives the same campaign: documents comparable across managers
    flow, _ = deterministic_flow(flow, salt=campaign_salt(args.campaign, args.iteration))
    store, env_vars = _job_store(args), []
    if (args.store or os.environ.get(STORE_URI_ENV) or EMBEDDED) != EMBEDDED:  # servers may hold passwords
        store, env_vars = fireworks_job_store(args.store, args.project_dir)  # none written into Fireworks
    workflow = flow_to_workflow(flow, store=store)
    mapping = lpad.add_wf(workflow)
    print(f"submitted {len(workflow.fws)} fireworks of flow {args.flow!r} (campaign {args.campaign!r});")
    print(f"first fw_id {min(mapping.values())}; run them with `qlaunch rapidfire` or `rlaunch rapidfire`")
    if env_vars:
        print(f"workers need {', '.join(sorted(env_vars))} in their environment (store credentials)")
    return 0


def cmd_launch(args) -> int:
    from mlip_glass.campaign import CHECKPOINT_DIR_ENV
    from mlip_glass.store import get_launchpad, project_dir

    lpad = get_launchpad(args.launchpad, args.project_dir)  # before fireworks is imported (embedded)
    from fireworks.core.fworker import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    # checkpoints outside the launcher folders, so that a rerun Firework (same job uuid) finds them
    os.environ.setdefault(CHECKPOINT_DIR_ENV, str(project_dir(args.project_dir) / "checkpoints"))
    _rerun_lost(lpad, args)
    worker = FWorker.from_file(args.fworker) if args.fworker else FWorker()
    # one pass; FireWorks reads sleep_time=0 as "its default 60 s", so pass a tiny positive pause
    rapidfire(lpad, worker, nlaunches=args.nlaunches, max_loops=1, sleep_time=1e-3)
    running = lpad.fireworks.count_documents({"state": "RUNNING"})
    if running:
        print(f"{running} firework(s) still RUNNING: another worker's, or lost (a killed worker); "
              "`mlip-glass launch --no-live-workers` (no worker alive) or `--rerun-lost SECONDS` puts lost "
              "ones back to READY", file=sys.stderr)
    return 0


def cmd_queue(args) -> int:
    from mlip_glass.campaign import CHECKPOINT_DIR_ENV
    from mlip_glass.store import get_launchpad

    expiration = _lost_expiration(args)  # before connecting: bad options fail first
    lpad = get_launchpad(args.launchpad, args.project_dir)
    from fireworks.core.fworker import FWorker
    from fireworks.utilities.fw_serializers import load_object_from_file

    from mlip_glass.queue_loop import QueueLoop

    qadapter = load_object_from_file(args.qadapter)
    if CHECKPOINT_DIR_ENV not in str(qadapter.get("pre_rocket") or ""):
        print(f"warning: the pre_rocket of {args.qadapter} does not set {CHECKPOINT_DIR_ENV}: a rerun job cannot "
              "find the checkpoints of a lost one (docs/hpc.md)", file=sys.stderr)
    loop = QueueLoop(lpad, FWorker.from_file(args.fworker) if args.fworker else FWorker(), qadapter,
                     Path(args.launch_dir), max_jobs=args.max_jobs, sleep_s=args.sleep, reserve=args.reserve,
                     lost_after_s=expiration)
    passes = loop.run(args.passes, progress=lambda line: print(line, flush=True))
    print(f"queue loop left after {passes} pass(es); fireworks READY/RESERVED/RUNNING: {loop.active()}")
    return 0


def _lost_expiration(args) -> float | None:
    """``--rerun-lost SECONDS`` checked against FireWorks' ping interval (shorter would rerun live runs)."""
    expiration = args.rerun_lost
    if expiration is None:
        return None
    from fireworks.fw_config import PING_TIME_SECS  # only now: the embedded LaunchPad is chosen before the import

    if expiration < PING_TIME_SECS:
        raise ValueError(
            f"--rerun-lost {expiration} s is shorter than FireWorks' ping interval PING_TIME_SECS = "
            f"{PING_TIME_SECS} s: live runs would be rerun. Use >= {PING_TIME_SECS}, lower PING_TIME_SECS "
            "in FW_config.yaml, or --no-live-workers when no worker is alive"
        )
    return expiration


def _rerun_lost(lpad, args) -> None:
    """``--rerun-lost S`` / ``--no-live-workers``: FireWorks' ``detect_lostruns(rerun=True)`` first."""
    if args.no_live_workers:
        expiration: float | None = 0
    else:
        expiration = _lost_expiration(args)
    if expiration is None:
        return
    _, lost, _ = lpad.detect_lostruns(expiration_secs=expiration, rerun=True)
    print(f"lost runs put back to READY: {len(lost)}" + (f" (fw_ids {sorted(lost)})" if lost else ""))


def cmd_query(args) -> int:
    if args.name is not None:
        import re

        try:
            re.compile(args.name)
        except re.error as exc:
            raise ValueError(f"--name {args.name!r} is not a valid regular expression: {exc}") from None
    store = _job_store(args, read=True)
    from mlip_glass.queries import job_documents

    if _run_provenance_query(args, store):  # --model / --subset / --lineage / --learning-curve / --ensure-indexes
        return 0
    docs = job_documents(store, args.campaign, args.stage, args.iteration, args.name, args.limit,
                         full=bool(args.json and args.full))
    if args.json:
        from monty.json import jsanitize

        print(json.dumps(jsanitize(docs if args.full else [_summary(d) for d in docs], strict=False), indent=1))
        return 0
    rows = [_summary(d) for d in docs]
    _print_table(rows, ["uuid", "name", "campaign", "stage", "iteration", "completed_at"])
    print(f"{len(rows)} documents")
    return 0


def _summary(doc: dict) -> dict:
    meta = doc.get("metadata") or {}
    return {
        "uuid": doc.get("uuid"),
        "name": doc.get("name"),
        "campaign": meta.get("campaign"),
        "stage": meta.get("stage"),
        "iteration": meta.get("iteration"),
        "completed_at": str(doc.get("completed_at", ""))[:19],
    }


def _print_table(rows: list[dict], columns: list[str], cell=str) -> None:
    """``rows`` as a table of ``columns``, each value written by ``cell``."""
    widths = {c: max([len(c)] + [len(cell(r.get(c, ""))) for r in rows]) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(cell(row.get(c, "")).ljust(widths[c]) for c in columns))


def _cell(value) -> str:
    """A provenance-table value: floats to 4 digits, SHA-256 hashes to 12 characters, None empty."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str) and len(value) == 64:  # a sha256: short form
        return value[:12]
    return "" if value is None else str(value)


def _add_provenance_options(parser) -> None:
    """Provenance options of ``mlip-glass query`` (each needs ``--campaign``)."""
    group = parser.add_argument_group("provenance queries (need --campaign)")
    group.add_argument("--model", type=int, metavar="K", default=None,
                       help="the NEP model of iteration K with its dataset and error metrics")
    group.add_argument("--subset", default=None, help="every labelled frame of this subset (e.g. mlip_feedback) "
                       "with its producing job and engine; --iteration narrows it")
    group.add_argument("--lineage", metavar="HASH", default=None,
                       help="lineage of the frame with this structure hash back to its surrogate run")
    group.add_argument("--learning-curve", action="store_true", help="errors and dataset sizes per iteration")
    group.add_argument("--ensure-indexes", action="store_true", help="create the indexes these queries use")


def _run_provenance_query(args, store) -> bool:
    """Answer a provenance option of ``mlip-glass query`` (:mod:`mlip_glass.queries`); False if none was given."""
    from monty.json import jsanitize

    from mlip_glass import queries
    from mlip_glass.store import ensure_indexes

    wanted = [args.model is not None, bool(args.subset), bool(args.lineage), args.learning_curve]
    if args.ensure_indexes:
        print("indexed: " + ", ".join(ensure_indexes(store)))
        if not any(wanted):
            return True
    if not any(wanted):
        return False
    if not args.campaign:
        raise ValueError("--model/--subset/--lineage/--learning-curve need --campaign")
    if args.model is not None:
        result: Any = queries.model_of_iteration(store, args.campaign, args.model)
    elif args.subset:
        result = queries.frames_of_subset(store, args.campaign, args.subset, args.iteration)
    elif args.lineage:
        result = queries.lineage(store, args.campaign, args.lineage)
    else:
        result = queries.learning_curve(store, args.campaign)
    if args.json or args.model is not None:
        print(json.dumps(jsanitize(result, strict=False), indent=1))
    elif args.subset:
        _print_table(result, ["structure_hash", "parent_hash", "engine", "rejected", "iteration", "job_name",
                              "job_uuid"], _cell)
        print(f"{len(result)} frames")
    elif args.lineage:
        _print_table(result, ["kind", "structure_hash", "iteration", "job_name", "job_uuid", "method",
                              "cooling_length", "seed"], _cell)
    else:
        rows = []
        for row in result:
            rmse = row["rmse"]
            rows.append({**row, "force_rmse_train": queries.metric(rmse, ("train", "all", "rmse_force_meV_per_A")),
                         "force_rmse_test": queries.metric(rmse, ("test", "all", "rmse_force_meV_per_A")),
                         "energy_rmse_test": queries.metric(rmse, ("test", "all", "rmse_energy_meV_per_atom")),
                         "candidate_fraction": (row["fractions"] or {}).get("candidate")})
        _print_table(rows, ["iteration", "n_train", "n_test", "n_new_frames", "candidate_fraction",
                            "energy_rmse_test", "force_rmse_train", "force_rmse_test", "model_hash"], _cell)
        print("(RMSE: energy meV/atom, force meV/Å)")
    return True


def cmd_status(args) -> int:
    store = _job_store(args, read=True)
    from mlip_glass.queries import stage_counts

    counts = stage_counts(store, args.campaign)
    rows = [
        {"campaign": c, "stage": s, "completed jobs": n}
        for (c, s), n in sorted(counts.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
    ]
    _print_table(rows, ["campaign", "stage", "completed jobs"])
    if args.launchpad:
        from mlip_glass.store import get_launchpad

        lpad = get_launchpad(args.launchpad, args.project_dir)
        states = Counter(fw["state"] for fw in lpad.fireworks.find({}, {"state": 1}))
        print("fireworks: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())) if states else "fireworks: none")
    return 0


def build_parser(flow_names: bool = True) -> argparse.ArgumentParser:  # noqa: PLR0915 - argparse declarations: one statement per option, no branches
    """The argument parser of ``mlip-glass`` (every sub-command has ``--help``). ``flow_names=False``: the
    flow-building commands' help does not list the flows (read commands start without importing them)."""
    parser = argparse.ArgumentParser(
        prog="mlip-glass",
        description="Machine-learned potentials for metallic glasses via an LJ swap-MC surrogate "
        "(arXiv:2501.00589): run flows locally or on FireWorks, query provenance.",
    )
    parser.add_argument("--version", action="version", version=f"mlip_glass {__version__}")
    parser.add_argument("--verbose", action="store_true",
                        help="library logging and warnings, tracebacks of errors")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="library logging and warnings, tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", parents=[common], help="run a flow locally on the configured store; the same command again resumes it"
    )
    _add_flow_arguments(run, flow_names)
    _add_store_options(run)
    run.add_argument("--quiet", action="store_true", help="only errors and the final summary")
    run.set_defaults(func=cmd_run)

    resume = sub.add_parser(
        "resume", parents=[common],
        help="run a campaign again from where it stopped (same flow and options; finished jobs skipped)",
    )
    resume.add_argument("--campaign", required=True, help="campaign name given to `run`")
    _add_store_options(resume)
    resume.add_argument("--quiet", action="store_true", help="only errors and the final summary")
    resume.set_defaults(func=cmd_resume)

    demo = sub.add_parser(
        "demo", parents=[common], help="run the demo campaign (minutes, embedded store) and write its report"
    )
    _add_store_options(demo)
    demo.add_argument("--campaign", default="demo", help="campaign name")
    demo.add_argument("--al-iterations", type=int, default=1, help="active-learning iterations (>= 0)")
    demo.add_argument("--report-dir", default=None, help="report folder (default <project>/report_<campaign>)")
    demo.add_argument("--no-report", action="store_true", help="skip the report")
    demo.set_defaults(func=cmd_demo)

    validate = sub.add_parser(
        "validate", parents=[common],
        help="the validate campaign (≤ 60 min on 2 cores): larger grid and database, longer fits, closed-loop report",
    )
    _add_store_options(validate)
    validate.add_argument("--campaign", default="validate", help="campaign name")
    validate.add_argument("--ablation", action="store_true",
                          help="also run '<campaign>-noswap' without swap-MC states (same frames) and compare")
    validate.set_defaults(func=cmd_validate)

    report = sub.add_parser(
        "report", parents=[common], help="figures (Figs. 2-5) and a table from what the store holds"
    )
    _add_store_options(report)
    report.add_argument("--campaign", required=True, help="campaign name")
    report.add_argument("--report-dir", default=None, help="report folder (default <project>/report_<campaign>)")
    report.set_defaults(func=cmd_report)

    submit = sub.add_parser(
        "submit", parents=[common], help="submit a flow to a FireWorks LaunchPad (flow_to_workflow)"
    )
    _add_flow_arguments(submit, flow_names)
    _add_store_options(submit)
    _add_launchpad_option(submit)
    submit.set_defaults(func=cmd_submit)

    launch = sub.add_parser(
        "launch", parents=[common], help="run READY fireworks in this process (like `rlaunch rapidfire`)"
    )
    _add_launchpad_option(launch)
    launch.add_argument("--project-dir", default=None, help="project directory of the embedded LaunchPad")
    launch.add_argument("--fworker", default=None, help="my_fworker.yaml (category/query of this worker)")
    launch.add_argument("--nlaunches", type=int, default=0, help="max fireworks to run (0 = until none left)")
    lost = launch.add_mutually_exclusive_group()
    lost.add_argument("--rerun-lost", type=float, default=None, metavar="SECONDS",
                      help="first put RUNNING fireworks that did not ping for SECONDS back to READY "
                           "(lpad detect_lostruns --rerun; SECONDS >= FireWorks' PING_TIME_SECS)")
    lost.add_argument("--no-live-workers", action="store_true",
                      help="no worker is alive (e.g. after kill -9): every RUNNING firework is lost, rerun it")
    launch.set_defaults(func=cmd_launch)

    queue = sub.add_parser(
        "queue", parents=[common],
        help="submit READY fireworks to SLURM and re-queue those whose job died (TIMEOUT, scancel, dead node), "
             "pass after pass (qlaunch rapidfire that needs no human)",
    )
    _add_launchpad_option(queue)
    queue.add_argument("--project-dir", default=None, help="project directory of the embedded LaunchPad")
    queue.add_argument("--fworker", default=None, help="my_fworker.yaml (category/query of the fireworks)")
    queue.add_argument("--qadapter", required=True, help="queue adapter, e.g. my_qadapter_slurm.yaml")
    queue.add_argument("--launch-dir", default=".", help="folder of the launcher folders (one loop per folder)")
    queue.add_argument("--max-jobs", type=int, default=0, help="queue jobs kept at most (0 = no limit)")
    queue.add_argument("--sleep", type=float, default=60.0, help="seconds between passes")
    queue.add_argument("--passes", type=int, default=None, help="stop after this many passes (default: when no "
                       "firework is READY, RESERVED or RUNNING)")
    queue.add_argument("--reserve", action="store_true", help="reservation mode (qlaunch -r: per-firework "
                       "_queueadapter settings apply)")
    queue.add_argument("--rerun-lost", type=float, default=None, metavar="SECONDS",
                       help="also rerun fireworks without a ping for SECONDS (queues other than SLURM; "
                            ">= FireWorks' PING_TIME_SECS)")
    queue.set_defaults(func=cmd_queue)

    status = sub.add_parser(
        "status", parents=[common], help="completed jobs per campaign and stage; FireWorks states"
    )
    _add_store_options(status)
    _add_launchpad_option(status)
    status.add_argument("--campaign", default=None, help="only this campaign")
    status.set_defaults(func=cmd_status)

    query = sub.add_parser(
        "query", parents=[common], help="job documents by campaign / stage / iteration (table or JSON)"
    )
    _add_store_options(query)
    query.add_argument("--campaign", default=None)
    query.add_argument("--stage", default=None)
    query.add_argument("--iteration", type=int, default=None)
    query.add_argument("--name", default=None, help="regular expression on the job name")
    query.add_argument("--limit", type=int, default=0, help="at most this many documents (0 = all)")
    query.add_argument("--json", action="store_true", help="JSON instead of a table")
    query.add_argument("--full", action="store_true", help="with --json: whole documents incl. outputs")
    _add_provenance_options(query)
    query.set_defaults(func=cmd_query)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print one line naming the problem and exit with status 2
    (``--verbose``: with the traceback)."""
    try:
        _import_jobflow()  # before the parser, whose flow choices import jobflow
    except MLIPGlassError as exc:
        print(f"mlip-glass: error: {exc}", file=sys.stderr)
        return 2
    words = sys.argv[1:] if argv is None else argv
    command = next((w for w in words if not w.startswith("-")), None)
    parser = build_parser(flow_names=command not in READ_COMMANDS)  # status/query/report answer without flows
    args = parser.parse_args(argv)
    try:
        with _console(args):
            return args.func(args)
    except (MLIPGlassError, FileNotFoundError, ValueError) as exc:
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"mlip-glass {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mlip-glass {args.command}: interrupted; the same command again resumes a run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
