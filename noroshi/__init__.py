"""Composition root: settings, CLI and job wiring. Imported by nobody."""
