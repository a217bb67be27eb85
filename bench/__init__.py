"""`make bench`: blog-api against a minimal reference app, on PostgreSQL or SQLite.

Run it with `make bench` (or `.venv/bin/python -m bench` once the bench extras are installed).
See bench/README.md for what it measures and the knobs it takes.
"""
