"""The ``mlip-glass`` command: run or submit flows, watch their state, query the store."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from mlip_glass import __version__

DEFAULT_CAMPAIGN = "default"


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
    options = {}
    for item in args.option or []:
        if "=" not in item:
            raise ValueError(f"--option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _add_flow_arguments(parser: argparse.ArgumentParser) -> None:
    from mlip_glass.flows import available_flows

    parser.add_argument("flow", choices=available_flows(), help="which flow to build")
    parser.add_argument("--campaign", default=DEFAULT_CAMPAIGN, help="campaign name stamped on every job")
    parser.add_argument("--iteration", type=int, default=0, help="active-learning iteration (>= 0)")
    parser.add_argument(
        "--option", "-o", action="append", metavar="KEY=VALUE", help="flow option (JSON value), repeatable"
    )


# -- commands -------------------------------------------------------------------------------------------
def _runs_dir(args):
    """Working directories of locally run jobs: ``<project>/runs`` (one folder per job)."""
    from mlip_glass.store import project_dir

    path = project_dir(args.project_dir) / "runs"
    path.mkdir(exist_ok=True)
    return str(path)


def cmd_run(args) -> int:
    from jobflow import run_locally

    from mlip_glass.flows import build_flow
    from mlip_glass.store import get_job_store

    store = get_job_store(args.store, args.project_dir)
    flow = build_flow(args.flow, args.campaign, args.iteration, **_flow_options(args))
    responses = run_locally(flow, store=store, ensure_success=True, log=not args.quiet,
                            root_dir=_runs_dir(args), create_folders=True)
    print(f"ran {len(responses)} jobs of flow {args.flow!r} (campaign {args.campaign!r})")
    return 0


def cmd_demo(args) -> int:
    import time

    from jobflow import run_locally

    from mlip_glass.flows import build_flow
    from mlip_glass.store import get_job_store

    store = get_job_store(args.store, args.project_dir)
    start = time.perf_counter()
    flow = build_flow("demo", args.campaign, al_iterations=args.al_iterations)
    print(f"demo campaign {args.campaign!r}: {len(flow.jobs)} top-level jobs; progress below", flush=True)
    run_locally(flow, store=store, ensure_success=True, log=True, root_dir=_runs_dir(args), create_folders=True)
    wall = time.perf_counter() - start
    print(f"demo flow finished in {wall:.0f} s (wall time)", flush=True)
    if not args.no_report:
        from mlip_glass.report import write_report

        folder = write_report(store, args.campaign, args.report_dir)
        print(f"report: {folder / 'index.html'} (total wall time {time.perf_counter() - start:.0f} s)")
    return 0


def cmd_report(args) -> int:
    from mlip_glass.report import write_report
    from mlip_glass.store import get_job_store

    store = get_job_store(args.store, args.project_dir)
    folder = write_report(store, args.campaign, args.report_dir)
    print(f"report: {folder / 'index.html'}")
    return 0


def cmd_submit(args) -> int:
    from mlip_glass.store import get_job_store, get_launchpad

    lpad = get_launchpad(args.launchpad, args.project_dir)  # before fireworks is imported (embedded)
    from jobflow.managers.fireworks import flow_to_workflow

    from mlip_glass.flows import build_flow

    store = get_job_store(args.store, args.project_dir)
    flow = build_flow(args.flow, args.campaign, args.iteration, **_flow_options(args))
    workflow = flow_to_workflow(flow, store=store)
    mapping = lpad.add_wf(workflow)
    print(f"submitted {len(workflow.fws)} fireworks of flow {args.flow!r} (campaign {args.campaign!r});")
    print(f"first fw_id {min(mapping.values())}; run them with `qlaunch rapidfire` or `rlaunch rapidfire`")
    return 0


def cmd_launch(args) -> int:
    from mlip_glass.store import get_launchpad

    lpad = get_launchpad(args.launchpad, args.project_dir)  # before fireworks is imported (embedded)
    from fireworks.core.fworker import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    worker = FWorker.from_file(args.fworker) if args.fworker else FWorker()
    rapidfire(lpad, worker, nlaunches=args.nlaunches, max_loops=1, sleep_time=0)
    return 0


def _query_docs(store, campaign=None, stage=None, iteration=None, name=None, limit=0):
    criteria = {}
    if campaign:
        criteria["metadata.campaign"] = campaign
    if stage:
        criteria["metadata.stage"] = stage
    if iteration is not None:
        criteria["metadata.iteration"] = iteration
    if name:
        criteria["name"] = {"$regex": name}
    properties = ["uuid", "index", "name", "metadata", "completed_at", "output"]
    docs = list(store.query(criteria, properties=properties, sort={"completed_at": 1}, limit=limit))
    return docs


def cmd_query(args) -> int:
    from mlip_glass.store import get_job_store

    store = get_job_store(args.store, args.project_dir)
    store.connect()
    from mlip_glass.queries import run_cli_query

    if run_cli_query(args, store):  # --model / --subset / --lineage / --learning-curve / --ensure-indexes
        return 0
    docs = _query_docs(store, args.campaign, args.stage, args.iteration, args.name, args.limit)
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


def _print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))


def cmd_status(args) -> int:
    from mlip_glass.store import get_job_store

    store = get_job_store(args.store, args.project_dir)
    store.connect()
    criteria = {"metadata.campaign": args.campaign} if args.campaign else {}
    counts = Counter(
        ((d.get("metadata") or {}).get("campaign"), (d.get("metadata") or {}).get("stage"))
        for d in store.query(criteria, properties=["metadata"])
    )
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlip-glass`` (every sub-command has ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="mlip-glass",
        description="Machine-learned potentials for metallic glasses via an LJ swap-MC surrogate "
        "(arXiv:2501.00589): run flows locally or on FireWorks, query provenance.",
    )
    parser.add_argument("--version", action="version", version=f"mlip_glass {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a flow locally (jobflow run_locally) on the configured store")
    _add_flow_arguments(run)
    _add_store_options(run)
    run.add_argument("--quiet", action="store_true", help="less logging")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="run the demo campaign (minutes, embedded store) and write its report")
    _add_store_options(demo)
    demo.add_argument("--campaign", default="demo", help="campaign name")
    demo.add_argument("--al-iterations", type=int, default=1, help="active-learning iterations (>= 0)")
    demo.add_argument("--report-dir", default=None, help="report folder (default <project>/report_<campaign>)")
    demo.add_argument("--no-report", action="store_true", help="skip the report")
    demo.set_defaults(func=cmd_demo)

    report = sub.add_parser("report", help="figures (Figs. 2-5) and a table from what the store holds")
    _add_store_options(report)
    report.add_argument("--campaign", required=True, help="campaign name")
    report.add_argument("--report-dir", default=None, help="report folder (default <project>/report_<campaign>)")
    report.set_defaults(func=cmd_report)

    submit = sub.add_parser("submit", help="submit a flow to a FireWorks LaunchPad (flow_to_workflow)")
    _add_flow_arguments(submit)
    _add_store_options(submit)
    _add_launchpad_option(submit)
    submit.set_defaults(func=cmd_submit)

    launch = sub.add_parser("launch", help="run READY fireworks in this process (like `rlaunch rapidfire`)")
    _add_launchpad_option(launch)
    launch.add_argument("--project-dir", default=None, help="project directory of the embedded LaunchPad")
    launch.add_argument("--fworker", default=None, help="my_fworker.yaml (category/query of this worker)")
    launch.add_argument("--nlaunches", type=int, default=0, help="max fireworks to run (0 = until none left)")
    launch.set_defaults(func=cmd_launch)

    status = sub.add_parser("status", help="completed jobs per campaign and stage; FireWorks states")
    _add_store_options(status)
    _add_launchpad_option(status)
    status.add_argument("--campaign", default=None, help="only this campaign")
    status.set_defaults(func=cmd_status)

    query = sub.add_parser("query", help="job documents by campaign / stage / iteration (table or JSON)")
    _add_store_options(query)
    query.add_argument("--campaign", default=None)
    query.add_argument("--stage", default=None)
    query.add_argument("--iteration", type=int, default=None)
    query.add_argument("--name", default=None, help="regular expression on the job name")
    query.add_argument("--limit", type=int, default=0, help="at most this many documents (0 = all)")
    query.add_argument("--json", action="store_true", help="JSON instead of a table")
    query.add_argument("--full", action="store_true", help="with --json: whole documents incl. outputs")
    from mlip_glass.queries import add_cli_options

    add_cli_options(query)
    query.set_defaults(func=cmd_query)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print one line naming the problem and exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from mlip_glass.store import StoreConfigError

    try:
        return args.func(args)
    except (StoreConfigError, FileNotFoundError, ValueError) as exc:
        print(f"mlip-glass {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
