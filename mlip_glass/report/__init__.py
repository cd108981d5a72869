"""The campaign report: Figs. 2a–5b and a "paper vs this campaign" table, from the job store only.

``write_report(store, campaign)`` reads the campaign's documents (never local files), redraws every
figure with the stages' own plotting functions and writes ``index.html`` + ``summary.json`` + PNGs.
Deleting the folder and running ``mlip-glass report --campaign NAME`` again gives the same table.
"""

from mlip_glass.report.build import collect_campaign, paper_comparison, write_report

__all__ = ["collect_campaign", "paper_comparison", "write_report"]
