"""Follows: a user follows another; followers and following lists."""
