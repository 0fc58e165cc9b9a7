"""Persistence: SQLAlchemy models, engine/session helpers and shared queries (imports nothing of ours)."""
