from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TagCount(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    post_count: int
