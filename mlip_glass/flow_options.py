"""``-o KEY=VALUE`` options of the command line: parsed as JSON / Python literals and checked against the
options the named flow's builder accepts (the fields of its Maker), before any job is built."""

from __future__ import annotations

import ast
import dataclasses
import json
import types
import typing
from typing import Any

from mlip_glass.errors import FlowOptionError


def parse_value(text: str) -> Any:
    """A JSON value, else a Python literal (``(1, 2)``, ``None``, ``True``), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_options(items: list[str] | None) -> dict[str, Any]:
    """``["KEY=VALUE", ...]`` → ``{KEY: value}``; a repeated KEY is an error."""
    options: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise FlowOptionError(f"--option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise FlowOptionError(f"--option {item!r}: empty KEY")
        if key in options:
            raise FlowOptionError(f"--option {key} given twice")
        options[key] = parse_value(value)
    return options


def _flow_maker(flow: str):
    """The Maker class whose fields a flow builder's ``**options`` go to (None: not known here)."""
    if flow == "surrogate":
        from mlip_glass.surrogate.jobs import SurrogateCoolingFlowMaker

        return SurrogateCoolingFlowMaker
    if flow in ("demo", "paper", "validate"):
        from mlip_glass.flows import GlassMLIPFlowMaker

        return GlassMLIPFlowMaker
    return None


def accepted_options(flow: str) -> dict[str, Any] | None:
    """Option name → type hint for the named flow: the builder's own keyword parameters (e.g. the demo's
    ``al_iterations``) and, for its ``**options``, the fields of the flow's Maker. None: any name (a builder
    whose Maker is not known here); a builder's ``**_options`` (underscore) takes none."""
    import inspect

    from mlip_glass.flows import flow_builder

    builder = flow_builder(flow)
    hints = typing.get_type_hints(builder)
    accepted: dict[str, Any] = {}
    for name, param in list(inspect.signature(builder).parameters.items())[1:]:  # after ``campaign``
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            if name.startswith("_"):
                continue
            maker = _flow_maker(flow)
            if maker is None:
                return None
            types_ = typing.get_type_hints(maker)
            fields = [f.name for f in dataclasses.fields(maker) if f.name != "name"]
            accepted.update({name_: types_.get(name_, Any) for name_ in fields})
        elif param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            accepted[name] = hints.get(name, Any)
    return accepted


def _type_name(hint: Any) -> str:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", str(hint))


#: what :func:`_convert` returns for a value that does not fit the type hint
_NOT_CONVERTED = object()


def _convert(value: Any, hint: Any, origin: Any) -> Any:
    """``value`` as a plain type ``hint`` (int → float, list → tuple), or :data:`_NOT_CONVERTED`."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is type(None):
        fits = value is None
    elif hint is bool:
        fits = isinstance(value, bool)
    elif hint is float:
        return float(value) if number else _NOT_CONVERTED
    elif hint is int:
        fits = number and isinstance(value, int)
    elif hint is str:
        fits = isinstance(value, str)
    elif hint is tuple or origin is tuple:
        return tuple(value) if isinstance(value, (list, tuple)) else _NOT_CONVERTED
    elif hint is list or origin is list:
        return list(value) if isinstance(value, (list, tuple)) else _NOT_CONVERTED
    elif hint is dict or origin is dict:
        fits = isinstance(value, dict)
    else:  # a type this check does not know: the Maker checks it
        fits = True
    return value if fits else _NOT_CONVERTED


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """``value`` converted to ``hint`` (int → float, list → tuple) or :class:`FlowOptionError`."""
    from jobflow import Maker

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is not None and any(isinstance(a, type) and issubclass(a, Maker) for a in args):
            raise FlowOptionError(f"option {key} is a Maker and cannot be set with -o; use the Python API")
        for arg in args:
            try:
                return _coerce(key, value, arg)
            except FlowOptionError:
                continue
        raise FlowOptionError(f"option {key} expects {_type_name(hint)}, got {type(value).__name__} {value!r}")
    if hint is Any:
        return value
    if isinstance(hint, type) and issubclass(hint, Maker):
        raise FlowOptionError(f"option {key} is a {hint.__name__} and cannot be set with -o; use the Python API")
    converted = _convert(value, hint, origin)
    if converted is not _NOT_CONVERTED:
        return converted
    example = " (a list, e.g. [100, 1000])" if hint in (tuple, list) or origin in (tuple, list) else ""
    raise FlowOptionError(
        f"option {key} expects {_type_name(hint)}{example}, got {type(value).__name__} {value!r}"
    )


def validate_options(flow: str, options: dict[str, Any]) -> dict[str, Any]:
    """Check ``options`` against :func:`accepted_options` of ``flow``; returns them converted.

    An unknown name is refused with the list of valid names; a value of the wrong type names the option,
    the expected type and the value given.
    """
    accepted = accepted_options(flow)
    if accepted is None:
        return dict(options)
    checked = {}
    for key, value in options.items():
        if key not in accepted:
            valid = ", ".join(sorted(accepted)) or "none"
            raise FlowOptionError(f"unknown option {key!r} for flow {flow!r}; valid options: {valid}")
        checked[key] = _coerce(key, value, accepted[key])
    return checked
