"""Adapters to the outside world: SMS (Twilio), email (SMTP), and the development outbox.

Each kind of provider has one small interface (``ports``); provider errors are translated into
two of ours, retryable and permanent, so the sender decides what to do without knowing whose
error it was.
"""
