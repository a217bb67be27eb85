"""Signing in, sessions (refresh tokens), and who is calling: password hashing, access
tokens, the current-user dependencies."""
