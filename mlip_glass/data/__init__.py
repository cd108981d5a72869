"""Package data: the Cheng-Ma-Sheng CuZrAl EAM and other small files shipped offline."""

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    """Absolute path of a file shipped in ``mlip_glass/data``."""
    return Path(str(files("mlip_glass.data").joinpath(*parts)))


def cheng_ma_sheng_eam() -> Path:
    """Path of ``ZrCuAl2011.eam.alloy`` (Cheng, Ma, Sheng, PRL 102, 245501 (2009)); file order Zr Cu Al."""
    return data_path("potentials", "ZrCuAl2011.eam.alloy")
