"""Tags and their published-post counts."""
