"""nep.in from typed settings: paper defaults, every keyword explicit, validation, round trip."""

import math

import pytest

from mlip_glass.nep.settings import (
    GPUMD_KEYWORDS,
    CPUTrainerSettings,
    NEPInputError,
    NEPSettings,
    auto_regularization,
    parse_nep_in,
    write_nep_in,
)

SPECIES = ["Cu", "Zr", "Al"]


def _keywords(text):
    out = {}
    for line in text.splitlines():
        tokens = line.split("#", 1)[0].split()
        if tokens:
            out[tokens[0]] = tokens[1:]
    return out


def test_nep_in_has_paper_values_and_every_gpumd_keyword():
    kw = _keywords(write_nep_in(NEPSettings(species=SPECIES)))
    assert list(kw) == list(GPUMD_KEYWORDS)  # all keywords, none left to a (version-dependent) default
    assert kw["version"] == ["4"]
    assert kw["type"] == ["3", "Cu", "Zr", "Al"]
    assert kw["zbl"] == ["1.8"]
    assert [float(x) for x in kw["cutoff"]] == [6.5, 4.0]
    assert kw["basis_size"] == ["8", "8"]
    assert kw["neuron"] == ["30"]
    assert kw["generation"] == ["100000"]
    assert kw["n_max"] == ["4", "4"] and kw["l_max"] == ["4", "2", "0"]
    assert kw["batch"] == ["1000"] and kw["population"] == ["50"]
    assert [float(kw[k][0]) for k in ("lambda_e", "lambda_f", "lambda_v", "lambda_shear")] == [1.0, 1.0, 0.1, 1.0]


def test_auto_regularization_matches_gpumd_parameter_count():
    # independent count for the paper model, 3 species: descriptor dim = 5 radial + 5 * (4 + 1) angular = 30;
    # ANN (30 + 2) * 30 per species + 1 bias; descriptor coefficients 9 pairs * (5*9 + 5*9)
    n_par = (30 + 2) * 30 * 3 + 1 + 9 * (5 * 9 + 5 * 9)
    assert n_par == 3691
    assert auto_regularization(3) == pytest.approx(math.sqrt(n_par * 1e-6 / 3))
    kw = _keywords(write_nep_in(NEPSettings(species=SPECIES)))
    assert float(kw["lambda_1"][0]) == pytest.approx(math.sqrt(n_par * 1e-6 / 3))


def test_round_trip_write_parse_write_is_identity():
    settings = NEPSettings(species=SPECIES, zbl=None, cutoff=(6.0, 3.5), n_max=(5, 3), lambda_v=0.3,
                           type_weight=[1.0, 2.0, 0.5], generation=77)
    text = write_nep_in(settings)
    parsed, cpu = parse_nep_in(text)
    assert cpu is None
    expected = settings.as_dict()
    expected["lambda_1"], expected["lambda_2"] = settings.resolved_lambdas()
    assert parsed.as_dict() == expected
    assert write_nep_in(parsed) == text


def test_round_trip_with_cpu_trainer_keywords():
    cpu = CPUTrainerSettings(batch=6, learning_rate=(3e-3, 2e-5), seed=7, output_interval=11, loss_form="rmse")
    text = write_nep_in(NEPSettings(species=SPECIES), cpu, generation=123)
    kw = _keywords(text)
    assert "population" not in kw  # SNES-only keyword dropped for the gradient trainer
    assert kw["batch"] == ["6"] and kw["generation"] == ["123"] and kw["optimizer"] == ["adamw"]
    parsed, parsed_cpu = parse_nep_in(text)
    assert parsed_cpu.batch == 6 and parsed_cpu.learning_rate == (3e-3, 2e-5) and parsed_cpu.seed == 7
    assert parsed_cpu.loss_form == "rmse" and parsed.generation == 123
    assert write_nep_in(parsed, parsed_cpu) == text


def test_neppo_reads_our_nep_in_as_the_paper_model(tmp_path):
    from neppo.nep_in import get_model, get_stages, read_nep_in

    (tmp_path / "nep.in").write_text(write_nep_in(NEPSettings(species=SPECIES), CPUTrainerSettings()))
    settings = read_nep_in(tmp_path / "nep.in")
    model = get_model(settings, tmp_path)
    assert tuple(model.types) == tuple(SPECIES)
    assert model.zbl is not None
    assert get_stages(settings)[0]["generation"] == ["100000"]
    n_par = sum(p.numel() for p in model.parameters())
    # same trainable parameters as GPUMD counts them (ANN + descriptor coefficients)
    assert n_par == 3691


@pytest.mark.parametrize(
    "field, value",
    [
        ("cutoff", (3.0, 4.0)),  # angular > radial
        ("cutoff", (12.0, 4.0)),
        ("zbl", 5.0),
        ("neuron", 0),
        ("l_max", (4, 1, 0)),
        ("lambda_v", -0.1),
        ("generation", 0),
        ("species", ["Cu", "Xx"]),
        ("version", 3),
    ],
)
def test_out_of_range_setting_raises_named_error(field, value):
    kwargs = {"species": SPECIES, field: value}
    with pytest.raises(NEPInputError, match=field):
        NEPSettings(**kwargs)


def test_unknown_or_repeated_keyword_in_nep_in_is_rejected():
    text = write_nep_in(NEPSettings(species=SPECIES))
    with pytest.raises(NEPInputError, match="unknown keyword 'fancy'"):
        parse_nep_in(text + "fancy 1\n")
    with pytest.raises(NEPInputError, match="given twice"):
        parse_nep_in(text + "neuron 20\n")
    with pytest.raises(NEPInputError, match="cutoff"):
        parse_nep_in(text.replace("cutoff          6.5 4", "cutoff          6.5 9"))


def test_cpu_trainer_settings_validation():
    with pytest.raises(NEPInputError, match="batch"):
        CPUTrainerSettings(batch=0)
    with pytest.raises(NEPInputError, match="loss_form"):
        CPUTrainerSettings(loss_form="huber")
    with pytest.raises(NEPInputError, match="unknown NEP setting"):
        NEPSettings.from_dict({"species": SPECIES, "neurons": 30})
