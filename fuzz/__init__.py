"""`make fuzz`: schemathesis over /openapi.json and /api/openapi.json against a served blog-api
(see __main__)."""
