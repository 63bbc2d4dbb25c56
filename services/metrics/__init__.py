"""Support metrics computed from the conversation event log (docs/metrics.md has every definition).

Why a package of its own, reading only the log (plus the handoff and chat rows the log points at): the log is the
one record of what happened, written in the same transaction as every status change, so a figure computed from
it cannot disagree with what agents and customers saw. One module per job:

* :mod:`~services.metrics.query`    — what a report asks for (period, filters, toggles), validated;
* :mod:`~services.metrics.store`    — reading the events of the conversations a period touches;
* :mod:`~services.metrics.calendar` — durations in wall-clock time or in a team's business hours;
* :mod:`~services.metrics.timeline` — a conversation's events cut into contacts and handoff episodes;
* :mod:`~services.metrics.definitions` — each metric as a list of samples (one measurement each);
* :mod:`~services.metrics.aggregate` — samples to figures (medians, rates, NPS);
* :mod:`~services.metrics.report`   — filters, the previous period, the tables;
* :mod:`~services.metrics.csv_export`, :mod:`~services.metrics.api`, :mod:`~services.metrics.feature` — the
  JSON API for BI tools and the CSV export of every table.
"""
