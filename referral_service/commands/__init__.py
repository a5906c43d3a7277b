"""Subcommands of the ``referrals`` console script, one module per subject."""
