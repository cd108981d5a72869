"""The composed campaign flow: the paper preset is built (not run) with the paper's numbers everywhere."""

import pytest
from jobflow.managers.fireworks import flow_to_workflow

from mlip_glass.flows import GlassMLIPFlowMaker, available_flows, build_flow
from mlip_glass.reference.vasp_sets import (
    PaperMDSetGenerator,
    PaperRelaxSetGenerator,
    PaperStaticSetGenerator,
)
from mlip_glass.surrogate import random_liquid

#: SPEC.md §4, typed out independently of the package constants
SPEC_INCAR = {"ENCUT": 450, "KSPACING": 0.162, "EDIFF": 1e-6, "ISPIN": 1}


@pytest.fixture(scope="module")
def paper_flow():
    return GlassMLIPFlowMaker.paper().make(campaign="paper-check")


def _all_jobs(flow):
    return [job for job, _ in flow.iterflow()]


def test_paper_preset_has_the_papers_grid_and_settings(paper_flow):
    maker = GlassMLIPFlowMaker.paper()
    names = [job.name for job in _all_jobs(paper_flow)]
    swap_jobs = [n for n in names if n.startswith("swap-MC")]
    md_jobs = [n for n in names if n.startswith("MD ")]
    sweeps = {float(n.split()[1]) for n in swap_jobs}
    assert sweeps == {1e4, 1e5, 1e6, 1e7, 1e8, 1e9}  # 1e4 … 1e9 sweeps
    assert len(swap_jobs) == 6 * maker.surrogate.n_samples and len(md_jobs) == 4 * maker.surrogate.n_samples
    assert maker.database.engine == "vasp"
    settings = maker.fit.settings
    assert (settings.version, settings.zbl, tuple(settings.cutoff), tuple(settings.basis_size), settings.neuron,
            settings.generation) == (4, 1.8, (6.5, 4.0), (8, 8), 30, 100000)
    rdf = maker.properties.rdf_maker
    assert (rdf.n_atoms, rdf.n_runs, rdf.cooling_rate_k_per_ns, rdf.t_high, rdf.t_low) == (1500, 80, 100.0, 2000.0, 300.0)
    assert maker.active_learning.n_feedback_runs == 138
    # every job of the flow carries the campaign and its stage
    for job in _all_jobs(paper_flow):
        assert job.metadata["campaign"] == "paper-check"
        assert job.metadata["iteration"] == 0
    stages = {job.metadata.get("stage") for job in _all_jobs(paper_flow)}
    assert {"surrogate", "reference", "dataset", "nep", "properties", "active_learning"} <= stages


def test_paper_flow_converts_to_a_fireworks_workflow(paper_flow):
    workflow = flow_to_workflow(paper_flow)
    assert len(workflow.fws) == len(_all_jobs(paper_flow))


@pytest.mark.parametrize("generator", [PaperStaticSetGenerator, PaperRelaxSetGenerator, PaperMDSetGenerator])
def test_paper_vasp_inputs_match_spec(generator):
    structure = random_liquid(150, seed=3)
    incar = generator().get_input_set(structure, potcar_spec=True).incar
    for key, value in SPEC_INCAR.items():
        assert incar[key] == pytest.approx(value), key
    assert incar["ISMEAR"] in (1, 2) and 0.05 <= incar["SIGMA"] <= 0.2  # metal smearing
    if generator is PaperRelaxSetGenerator:
        assert incar["ISIF"] == 3 and incar["EDIFFG"] == pytest.approx(-0.01)
    if generator is PaperMDSetGenerator:
        assert (incar["MDALGO"], incar["ISIF"], incar["POTIM"]) == (3, 3, 1)
        assert incar["LANGEVIN_GAMMA_L"] == pytest.approx(5)
        assert all(g == pytest.approx(20) for g in incar["LANGEVIN_GAMMA"])
        assert incar["TEEND"] == pytest.approx(2000)


def test_demo_preset_is_the_same_flow_shrunk():
    demo = GlassMLIPFlowMaker.demo()
    paper = GlassMLIPFlowMaker.paper()
    assert demo.database.engine == "eam"
    assert demo.fit.wall_time is not None and paper.fit.wall_time is None
    # the physics of the NEP model is the paper's in both presets
    assert demo.fit.settings.as_dict() == paper.fit.settings.as_dict()
    flow = demo.make("demo-check")
    names = [j.name for j in flow.jobs]
    assert names == ["surrogate cooling grid", "reference database", "nep fit", "held-out reference frames",
                     "model validation", "al step", "property suite", "model validation"]
    # the closed-loop check validates the best model after the properties; properties use the best model
    assert flow.jobs[-1].function_kwargs.get("model") is None
    assert flow.jobs[6].function_kwargs["iteration"] == "best"
    # the paper preset has no held-out reference MD (VASP labels): its properties use the last model
    paper_flow = paper.make("paper-check")
    assert "held-out reference frames" not in [j.name for j in paper_flow.jobs]


def test_validate_preset_and_its_ablation_differ_only_in_the_surrogate_grid():
    with_swap, without = GlassMLIPFlowMaker.validate(), GlassMLIPFlowMaker.validate(deep_swap=False)
    n_states = lambda m: m.surrogate.n_samples * (len(m.surrogate.swap_sweeps) + len(m.surrogate.md_times))
    assert n_states(with_swap) == n_states(without)  # same number of surrogate frames
    assert with_swap.surrogate.swap_sweeps and not without.surrogate.swap_sweeps
    assert with_swap.fit.wall_time == without.fit.wall_time and with_swap.database == without.database
    assert with_swap.heldout.protocol.deep_glasses > 0
    # warm-started refits load the previous model: its descriptor orders must be the refits' (else neppo refuses)
    assert with_swap.fit.settings.n_max == with_swap.active_learning.fit.settings.n_max == (6, 6)
    assert GlassMLIPFlowMaker.demo().fit.settings.n_max == (4, 4)  # the demo keeps the paper preset's orders
    # the first fit starts at the higher learning rate; warm-started refits continue at the annealed one
    assert with_swap.fit.trainer_settings().learning_rate == (2e-2, 1e-4)
    assert with_swap.active_learning.fit.trainer_settings(warm_start="model").learning_rate == (1e-3, 1e-4)
    assert GlassMLIPFlowMaker.demo().fit.trainer_settings().learning_rate == (1e-2, 1e-4)


def test_unknown_flow_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="demo"):
        build_flow("nonsense", "c")
    assert {"demo", "paper", "surrogate"} <= set(available_flows())


def test_module_function_flow_names_are_imported():
    flow = build_flow("mlip_glass.testing.toy_jobs:toy_flow", "c", n=3)
    assert [j.name for j in flow.jobs] == ["add", "power_series", "total"]
    assert all(j.metadata["campaign"] == "c" for j in flow.jobs)
    with pytest.raises(ValueError, match="cannot be imported"):
        build_flow("mlip_glass.testing.toy_jobs:nothing", "c")


def test_negative_al_iterations_is_named():
    with pytest.raises(ValueError, match="al_iterations"):
        GlassMLIPFlowMaker.demo(al_iterations=-1)
