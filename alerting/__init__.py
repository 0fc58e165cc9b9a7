"""Signals → incidents → notifications: lifecycle, muting, notify policy, channels, runbooks, summaries."""
