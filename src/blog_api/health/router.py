from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from blog_api.kit.deps import DatabaseAnswersDep
from blog_api.kit.openapi import problem_responses
from blog_api.kit.problems import problem
from blog_api.kit.routing import PathRouter

router = PathRouter(tags=["health"])


class Liveness(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    status: str = "ok"
    database: str = "ok"


@router.get("/health", summary="Liveness: the process is up (no database call)")
async def health() -> Liveness:
    return Liveness()


@router.get(
    "/health/ready",
    summary="Readiness: the database answers",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def readiness(database_answers: DatabaseAnswersDep) -> Readiness | JSONResponse:
    if not database_answers:
        return problem(503, "The database is not answering", headers={"Retry-After": "5"})
    return Readiness()
