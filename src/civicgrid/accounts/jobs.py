"""Periodic work of this app, run by ``civicgrid tick`` and every minute by ``civicgrid serve``."""

PERIODIC_COMMANDS = ["login_attempts_prune"]
