from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TagCount(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    post_count: int = Field(description="How many published posts carry the tag")
