"""The feed: published posts by the users the caller follows."""
