"""``-o KEY=VALUE`` options: parsed as JSON / Python literals, checked against the flow's Maker fields."""

import pytest

from mlip_glass.errors import FlowOptionError, MLIPGlassError
from mlip_glass.flow_options import accepted_options, parse_options, parse_value, validate_options


@pytest.mark.parametrize(
    "text, value",
    [("100", 100), ("1e3", 1000.0), ("[100, 1000]", [100, 1000]), ("(1, 2)", (1, 2)), ("true", True),
     ("None", None), ("null", None), ('{"a": 1}', {"a": 1}), ("Cu", "Cu"), ("1e2,1e3", (100.0, 1000.0))],
)
def test_values_are_json_then_python_literals_then_text(text, value):
    assert parse_value(text) == value


def test_surrogate_options_are_converted_to_the_maker_types():
    options = validate_options("surrogate", parse_options(["swap_sweeps=[100, 1e3]", "md_times=[5, 10]",
                                                           "n_samples=1", "seed=7"]))
    assert options == {"swap_sweeps": (100, 1000.0), "md_times": (5, 10), "n_samples": 1, "seed": 7}
    assert isinstance(options["swap_sweeps"], tuple)


def test_demo_accepts_al_iterations_and_null_for_optional_stages():
    assert validate_options("demo", {"al_iterations": 0, "properties": None, "property_structures": 2}) == {
        "al_iterations": 0, "properties": None, "property_structures": 2}
    assert "al_iterations" not in accepted_options("paper")


@pytest.mark.parametrize(
    "flow, options, message",
    [("surrogate", {"n_samples": 1.5}, "option n_samples expects int, got float 1.5"),
     ("surrogate", {"n_samples": True}, "option n_samples expects int, got bool True"),
     ("demo", {"property_structures": "all"}, "option property_structures expects int or null"),
     ("demo", {"fit": {"steps": 3}}, "option fit is a Maker and cannot be set with -o"),
     ("paper", {"al_iterations": 1}, "unknown option 'al_iterations' for flow 'paper'")],
)
def test_wrong_names_and_types_are_named(flow, options, message):
    with pytest.raises(FlowOptionError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        validate_options(flow, options)


def test_repeated_key_is_refused_and_the_error_is_a_value_error():
    with pytest.raises(FlowOptionError, match="n_samples given twice") as exc:
        parse_options(["n_samples=1", "n_samples=2"])
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, MLIPGlassError)
