from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class TagCount(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    # Read from the Tag's trigger-kept count; shown as post_count.
    post_count: int = Field(
        validation_alias=AliasChoices("published_posts", "post_count"),
        description="How many published posts carry the tag",
    )
