"""Fakes at the process boundary only: stand-ins for outside services, never for our own code."""
