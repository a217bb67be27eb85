"""Favorites: a user marks a post."""
