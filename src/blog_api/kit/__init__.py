"""What every domain shares: the engine and units of work, BaseRepository, the list kit,
problem responses, middleware, the OpenAPI rules and the request dependencies."""
