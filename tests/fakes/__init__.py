"""Local servers that behave like the external services Noroshi talks to."""
