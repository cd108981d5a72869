"""One error base class for the package; named errors for a bad nep.txt header; ASE Atoms into Makers."""

import importlib
import inspect
import pkgutil

import pytest
from pymatgen.core import Structure

import mlip_glass
from mlip_glass.errors import MLIPGlassError

BUILTIN_BASES = (ValueError, RuntimeError, LookupError)


def _package_exceptions():
    found = {}
    for info in pkgutil.walk_packages(mlip_glass.__path__, "mlip_glass."):
        if ".testing" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == info.name:
                found[f"{info.name}.{name}"] = obj
    return found


def test_every_domain_error_has_the_package_base_and_keeps_its_builtin_base():
    errors = _package_exceptions()
    assert len(errors) >= 12  # the nine stage errors, options, campaign, jobflow config, NEP model
    for name, cls in errors.items():
        if cls is MLIPGlassError:
            continue
        assert issubclass(cls, MLIPGlassError), name
        assert issubclass(cls, BUILTIN_BASES), name


@pytest.mark.parametrize(
    "header, message",
    [("nep4 x Cu Zr Al\ncutoff 6 4 30 30\n", "the number of types must be an integer"),
     ("nep4 3 Cu Zr\ncutoff 6 4 30 30\n", "3 types but species ['Cu', 'Zr']"),
     ("nep4 1 Cu\ncutoff six 4\n", "cutoffs must be numbers"),
     ("hello\n", "does not start with")],
)
def test_bad_nep_header_is_a_named_error_before_calorine_reads_it(header, message, tmp_path):
    from mlip_glass.nep.evaluate import predict
    from mlip_glass.properties.potentials import NEPModelError, NEPPotential

    path = tmp_path / "nep.txt"
    path.write_text(header)
    with pytest.raises(NEPModelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        NEPPotential.from_file(str(path))
    with pytest.raises(NEPModelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        predict(path, [])


def test_elastic_maker_takes_ase_atoms_and_runs():
    """The stage decorator converts Atoms to Structures: the job serialises and computes C of fcc Cu."""
    from ase.build import bulk
    from jobflow import run_locally

    from mlip_glass.properties.jobs import ElasticMaker
    from mlip_glass.properties.potentials import cheng_ma_sheng
    from mlip_glass.store import memory_job_store

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    job = ElasticMaker.demo(n_workers=1).make(cheng_ma_sheng(), [atoms])
    assert isinstance(job.function_args[1][0], Structure)
    store = memory_job_store()
    run_locally(job, store=store, ensure_success=True, log=False)
    out = store.query_one({"uuid": job.uuid}, load=True)["output"]
    assert out["n_ok"] == 1
    assert 120 < out["mean"]["B"] < 160  # GPa; fcc Cu with this EAM: ~136 (experiment ~140)


def _bad_inputs():
    """(call that must fail, domain error): a user's wrong protocol field, Maker field or flow option."""
    from mlip_glass.active_learning.jobs import ActiveLearningMaker
    from mlip_glass.active_learning.protocols import FeedbackMDProtocol
    from mlip_glass.datasets.jobs import ReferenceDatabaseMaker
    from mlip_glass.errors import FlowOptionError, MakerInputError, ProtocolError
    from mlip_glass.flows import build_flow
    from mlip_glass.nep.jobs import NEPFitMaker
    from mlip_glass.nep.settings import NEPInputError
    from mlip_glass.properties.jobs import RDFMaker
    from mlip_glass.properties.protocols import AQSProtocol, RDFProtocol
    from mlip_glass.reference.jobs import LabelMaker
    from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol
    from mlip_glass.validation.heldout import HeldOutProtocol

    return [
        (lambda: AIMDProtocol(timestep_fs=50.0), ProtocolError, "timestep_fs"),
        (lambda: RelaxProtocol(keep="some"), ProtocolError, "keep"),
        (lambda: AQSProtocol(plane="xx"), ProtocolError, "plane"),
        (lambda: FeedbackMDProtocol(quench_steps=0), ProtocolError, "quench_steps"),
        (lambda: HeldOutProtocol(n_runs=0), ProtocolError, "n_runs"),
        (lambda: RDFProtocol(t_low=2500.0), ProtocolError, "t_low"),
        (lambda: LabelMaker(subset="nonsense"), ProtocolError, "subset"),
        (lambda: ReferenceDatabaseMaker(rescale="density"), MakerInputError, "rescale"),
        (lambda: ActiveLearningMaker(n_feedback_runs=0), MakerInputError, "n_feedback_runs"),
        (lambda: RDFMaker(n_runs=0), MakerInputError, "n_runs"),
        (lambda: NEPFitMaker(backend="cuda"), NEPInputError, "backend"),
        (lambda: build_flow("no-such-flow", "c"), FlowOptionError, "unknown flow"),
    ]


@pytest.mark.parametrize("case", range(12))
def test_bad_user_input_is_a_named_domain_error_that_is_still_a_value_error(case):
    call, error, field = _bad_inputs()[case]
    with pytest.raises(error, match=field) as info:
        call()
    assert isinstance(info.value, MLIPGlassError) and isinstance(info.value, ValueError)


def test_protocols_are_frozen_values_that_round_trip_through_their_dict():
    """A protocol passed whole cannot be changed behind a Maker's back; its dict (a deserialised Maker, a -o
    option) gives the same protocol."""
    import dataclasses

    from mlip_glass.properties.protocols import RDFProtocol
    from mlip_glass.validation.heldout import HeldOutProtocol

    for protocol in (HeldOutProtocol(n_runs=3), RDFProtocol(sample_frames=4)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(protocol, dataclasses.fields(protocol)[0].name, 1)
        again = type(protocol).from_any({"@module": "x", **dataclasses.asdict(protocol)})
        assert again == protocol and hash(again) == hash(protocol)
