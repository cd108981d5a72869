"""mlip_glass: machine-learned interatomic potentials (NEP) for metallic glasses, made cheaply.

Follows Wadowski et al., arXiv:2501.00589 (CuZrAl): a Lennard-Jones swap-Monte-Carlo surrogate
generates glass structures over many decades of cooling, a reference engine labels them, a NEP is
fitted, validated with LAMMPS properties and improved by active learning. Every stage is a jobflow
``Maker``; see ``docs/`` for the user guide.
"""

__version__ = "0.1.0"
