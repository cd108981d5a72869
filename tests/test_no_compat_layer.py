"""Nothing was released: the old names of moved modules, merged Makers and protocol keywords are gone, not aliased."""

import importlib

import pytest

from mlip_glass.active_learning.jobs import FeedbackMaker
from mlip_glass.datasets.jobs import AIMDSubsetMaker, CrystalSubsetMaker, RelaxedSubsetMaker
from mlip_glass.properties.jobs import AQSShearMaker, ElasticMaker

REMOVED_MODULES = [
    "mlip_glass.reference.fake_vasp",  # → mlip_glass.testing.fake_vasp
    "mlip_glass.reference.testing",  # → mlip_glass.testing.structures
    "mlip_glass.nep.synthetic",  # → mlip_glass.testing.synthetic
    "mlip_glass.properties.lammps_session",  # → mlip_glass.utils.lammps_session
    "mlip_glass.utils.deprecation",
]
REMOVED_NAMES = [
    ("mlip_glass.active_learning.jobs", "LabelMaker"),  # → feedback_label_maker()
    ("mlip_glass.active_learning.jobs", "AssembleMaker"),  # → loop_assemble_maker()
    ("mlip_glass.active_learning.jobs", "resolve_engine"),  # → reference.engines.get_engine
    ("mlip_glass.datasets.jobs", "MLIPFeedbackMaker"),  # → reference.jobs.LabelMaker(subset="mlip_feedback")
    ("mlip_glass.reference.jobs", "VaspLabelMaker"),  # → reference.vasp_jobs
    ("mlip_glass.reference.jobs", "PaperStaticMaker"),  # → reference.vasp_jobs
    ("mlip_glass.reference.protocols", "fold_protocol"),
    ("mlip_glass.reference.protocols", "UNSET"),
    ("mlip_glass.reference.protocols", "_merge"),
]
#: Maker → the keywords now only set through its ``protocol``
PROTOCOL_KEYWORDS = [
    (RelaxedSubsetMaker, {"keep": 10}),
    (CrystalSubsetMaker, {"fmax": 0.1}),
    (AIMDSubsetMaker, {"nsteps": 5}),
    (FeedbackMaker, {"t_equil": 1500.0}),
    (ElasticMaker, {"fmax": 1e-3}),
    (AQSShearMaker, {"max_strain": 0.02}),
]


@pytest.mark.parametrize("module", REMOVED_MODULES)
def test_moved_module_is_gone(module):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(module)


@pytest.mark.parametrize(("module", "name"), REMOVED_NAMES)
def test_old_name_is_gone(module, name):
    assert not hasattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("maker", "keywords"), PROTOCOL_KEYWORDS, ids=lambda x: getattr(x, "__name__", ""))
def test_protocol_fields_are_not_maker_keywords(maker, keywords):
    with pytest.raises(TypeError, match="unexpected keyword"):
        maker(**keywords)
