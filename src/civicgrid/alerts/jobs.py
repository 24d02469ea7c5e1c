"""Periodic work of this app, run by ``civicgrid tick`` and every minute by ``civicgrid serve``."""

PERIODIC_COMMANDS = ["alerts_send"]
