"""The package's error base class.

Every domain error of :mod:`mlip_glass` subclasses :class:`MLIPGlassError` (and keeps a builtin second base
such as ``ValueError`` or ``RuntimeError``, so ``except ValueError`` in callers still works). The
``mlip-glass`` command catches it and prints one line naming the field and value, with exit status 2.
"""

from __future__ import annotations


class MLIPGlassError(Exception):
    """Base of every error raised on purpose by :mod:`mlip_glass`; its message names the field/value."""


class FlowOptionError(MLIPGlassError, ValueError):
    """An unknown flow name, or a ``-o KEY=VALUE`` flow option with an unknown name or a value of the wrong type."""


class ProtocolError(MLIPGlassError, ValueError):
    """A protocol field (AIMD, relaxation, elastic, AQS, RDF, feedback MD, held-out set) or a labelling option
    outside its accepted range; the message names the field, its value and the range."""


class MakerInputError(MLIPGlassError, ValueError):
    """A Maker's parameter (or its job's input) that cannot be used; the message names the field."""


class CampaignError(MLIPGlassError, RuntimeError):
    """A job of a campaign failed; the message names the job and the reason."""


class JobflowConfigError(MLIPGlassError, ValueError):
    """jobflow's configuration file (``JOBFLOW_CONFIG_FILE`` / ``~/.jobflow.yaml``) cannot be used."""
