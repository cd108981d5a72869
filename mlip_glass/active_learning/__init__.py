"""MLIP feedback and active learning across iterations (SPEC §5 item 7; docs/active_learning.md).

- :mod:`.feedback` — equilibration + fast-quench MD with any LAMMPS potential (NEP via calorine);
- :mod:`.selection` — committee force deviation, trust levels, MaxVol extrapolation grade, hash dedupe;
- :mod:`.jobs` — Makers: ``FeedbackMaker``, ``SelectCandidatesMaker``, ``feedback_label_maker()`` (a
  ``reference.jobs.LabelMaker``), ``loop_assemble_maker()`` (a ``datasets.jobs.AssembleDatasetMaker``) and the
  dynamic loop ``ActiveLearningMaker`` that reads dataset k / model k from the JobStore;
- :mod:`.resources` — per-Maker FireWorks resources (worker category, cores, wall time);
- :mod:`.constants` — every default number of this stage, in one place.
"""
