"""Messaging: who is told what, the safety rules, the outbox, and delivery through providers.

In floors (docs/architecture.md, "Layers"): writing messages (``outbox``, ``templates``,
``policy``, ``quiet_hours``, ``fallback``, ``reminders``, ``one_time_links``) below the domain,
which calls ``outbox.notify`` inside its transaction; sending (``dispatch``, ``actors``,
``scheduler`` and its jobs, ``delivery_status``, ``replies``) above it; ``runtime`` on top.
Nothing is sent until the domain's transaction commits and a worker claims the row.
"""
