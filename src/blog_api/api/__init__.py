"""The HTTP layer: routers, dependencies, problem responses."""
