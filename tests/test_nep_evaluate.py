"""calorine CPUNEP evaluation of a trained nep.txt agrees with the trainer's own parity and loss files."""

import numpy as np
import pytest

from mlip_glass.datasets.extxyz import write_extxyz
from mlip_glass.nep.evaluate import (
    error_metrics,
    error_table,
    parity_table,
    predict,
    read_loss_curve,
    read_parity,
    reference,
    split_table,
)
from mlip_glass.nep.fit import compare_with_parity
from mlip_glass.nep.neppo_driver import train
from mlip_glass.nep.settings import CPUTrainerSettings, NEPSettings, write_nep_in
from mlip_glass.testing.synthetic import eam_dataset_frames

#: parity files are written with 6 significant digits (%g): per-value agreement to 1e-5 (eV/atom, eV/Å)
PARITY_VALUE_TOL = 1e-5
#: resulting agreement of RMSE/MAE between calorine and the trainer files (meV/atom, meV/Å)
RMSE_TOL_MEV = 0.01


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    frames = eam_dataset_frames(n_frames=20, n_atoms=24, seed=11, quench_steps=800)
    train_frames, test_frames = frames[:16], frames[16:]
    run = tmp_path_factory.mktemp("nep_eval")
    write_extxyz(train_frames, run / "train.xyz")
    write_extxyz(test_frames, run / "test.xyz")
    settings = NEPSettings(species=["Cu", "Zr", "Al"], neuron=10, n_max=(3, 3), basis_size=(5, 5))
    (run / "nep.in").write_text(write_nep_in(settings, CPUTrainerSettings(batch=4, output_interval=10), generation=30))
    train(run, threads=1)
    return run, train_frames, test_frames


@pytest.mark.parametrize("split", ["train", "test"])
def test_calorine_predictions_match_trainer_parity_files(trained, split):
    run, train_frames, test_frames = trained
    frames = train_frames if split == "train" else test_frames
    diff = compare_with_parity(run / "nep.txt", run, split, frames)
    for q in ("energy", "force", "virial"):
        scale = max(1.0, float(np.nanmax(np.abs(read_parity(run, split)[q][0]))))
        assert diff[q] <= PARITY_VALUE_TOL * scale, (q, diff[q])
        # and the trainer's targets are the dataset labels (virial = -stress V, per atom, GPUMD Voigt order)
        assert diff[f"{q}_target"] <= PARITY_VALUE_TOL * scale, (q, diff[f"{q}_target"])


def test_rmse_table_matches_trainer_files_and_loss_out(trained):
    run, train_frames, test_frames = trained
    table = error_table(run / "nep.txt", {"train": train_frames, "test": test_frames})
    curve = read_loss_curve(run)
    for split, frames in (("train", train_frames), ("test", test_frames)):
        ours = table[split]["all"]
        files = parity_table(run, split, frames)["all"]
        for key in ("rmse_energy_meV_per_atom", "rmse_force_meV_per_A", "rmse_virial_meV_per_atom",
                    "mae_energy_meV_per_atom", "mae_force_meV_per_A", "mae_virial_meV_per_atom"):
            assert ours[key] == pytest.approx(files[key], abs=RMSE_TOL_MEV), key
        # loss.out (5 decimals, eV) holds the trainer's RMSE of the final model
        assert ours["rmse_energy_meV_per_atom"] == pytest.approx(curve[f"RMSE_E_{split}"][-1] * 1e3, abs=0.01)
        assert ours["rmse_force_meV_per_A"] == pytest.approx(curve[f"RMSE_F_{split}"][-1] * 1e3, abs=0.01)
        assert ours["rmse_virial_meV_per_atom"] == pytest.approx(curve[f"RMSE_V_{split}"][-1] * 1e3, abs=0.01)


def test_subset_rmse_combine_to_overall(trained):
    """Mean squares are additive: the count-weighted mean of subset MSEs is the overall MSE."""
    run, train_frames, _ = trained
    table = error_table(run / "nep.txt", {"train": train_frames})["train"]
    subsets = [k for k in table if k != "all"]
    assert len(subsets) >= 2
    for key, count in (("rmse_energy_meV_per_atom", "n_structures"), ("rmse_force_meV_per_A", "n_atoms")):
        total = sum(table[s][count] for s in subsets)
        combined = np.sqrt(sum(table[s][key] ** 2 * table[s][count] for s in subsets) / total)
        assert combined == pytest.approx(table["all"][key], rel=1e-9)


def test_error_metrics_of_a_known_shift():
    """A prediction offset by exactly 2 meV/atom, 30 meV/Å, 5 meV/atom gives those RMSE and MAE."""
    ref = {"energy": np.array([-5.0, -4.9]), "force": np.zeros((4, 3)), "virial": np.zeros((2, 6))}
    pred = {"energy": ref["energy"] + 0.002, "force": ref["force"] - 0.03, "virial": ref["virial"] + 0.005}
    m = error_metrics(pred, ref)
    assert m["rmse_energy_meV_per_atom"] == pytest.approx(2.0)
    assert m["mae_force_meV_per_A"] == pytest.approx(30.0)
    assert m["rmse_virial_meV_per_atom"] == pytest.approx(5.0)
    t = split_table(pred, ref, ["a", "b"], [2, 2])
    assert t["a"]["n_atoms"] == 2 and t["b"]["rmse_energy_meV_per_atom"] == pytest.approx(2.0)


def test_reference_virial_is_per_atom_voigt(trained):
    _, train_frames, _ = trained
    frame = train_frames[0]
    ref = reference([frame])
    w = frame.info["virial"].reshape(3, 3) / len(frame)
    np.testing.assert_allclose(ref["virial"][0], [w[0, 0], w[1, 1], w[2, 2], w[0, 1], w[1, 2], w[2, 0]])
    pred = predict(trained[0] / "nep.txt", [frame])
    assert pred["force"].shape == (len(frame), 3)
