"""Pydantic shapes of what goes in and out over HTTP."""
