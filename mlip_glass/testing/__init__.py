"""Test doubles shipped with the package (like ``atomate2.utils.testing``); production modules never import them.

- :mod:`~mlip_glass.testing.structures`: random Cu-Zr-Al packings and surrogate-like documents;
- :mod:`~mlip_glass.testing.fake_vasp`: VASP output files written from another engine's labels;
- :mod:`~mlip_glass.testing.synthetic`: small EAM-labelled datasets for the NEP stage;
- :mod:`~mlip_glass.testing.toy_jobs`, :mod:`~mlip_glass.testing.al_standins`: importable toy jobs and flows.
"""
