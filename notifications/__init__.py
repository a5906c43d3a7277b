"""Messaging: who is told what, the safety rules, the outbox, and delivery through providers.

Domain code calls ``notifications.outbox.notify`` inside its transaction; nothing is sent until
that transaction commits and a worker claims the row.
"""
