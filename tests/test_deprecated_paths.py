"""Old import paths of moved modules keep working (with a DeprecationWarning where the module moved)."""

import importlib
import sys

import pytest

MOVED = {
    "mlip_glass.reference.fake_vasp": ("run_fake_vasp", "mlip_glass.testing.fake_vasp"),
    "mlip_glass.reference.testing": ("random_cuzral", "mlip_glass.testing.structures"),
    "mlip_glass.nep.synthetic": ("eam_label", "mlip_glass.testing.synthetic"),
    "mlip_glass.properties.lammps_session": ("LammpsSession", "mlip_glass.utils.lammps_session"),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_moved_module_warns_and_reexports(old):
    name, new = MOVED[old]
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_moved_names_stay_importable_from_their_old_modules():
    from mlip_glass.datasets.extxyz import EV_PER_A3_TO_GPA, labelled_atoms
    from mlip_glass.datasets.schemas import SubsetDocument
    from mlip_glass.properties.potentials import CUZRAL_SPECIES, EAMPotential, cheng_ma_sheng, nep_model_hash
    from mlip_glass.queries import INDEXED_FIELDS
    from mlip_glass.reference.engines import RELAX_FMAX_EV_PER_A, ReferenceEngine, parse_keep, to_structure
    from mlip_glass.reference.schemas import SubsetDocument as moved_subset
    from mlip_glass.store import INDEXED_FIELDS as store_fields
    from mlip_glass.units import EV_PER_A3_TO_GPA as units_gpa

    assert SubsetDocument is moved_subset and INDEXED_FIELDS is store_fields and EV_PER_A3_TO_GPA == units_gpa
    assert CUZRAL_SPECIES == ("Cu", "Zr", "Al") and RELAX_FMAX_EV_PER_A == 0.01
    assert all(callable(f) for f in (labelled_atoms, cheng_ma_sheng, nep_model_hash, parse_keep, to_structure))
    assert EAMPotential().species == CUZRAL_SPECIES and ReferenceEngine.__name__ == "ReferenceEngine"
