"""Accounts: registration, profiles, changes and deletion."""
