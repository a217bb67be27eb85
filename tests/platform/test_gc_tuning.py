"""A served app tunes Python's garbage collector when it starts (GC_TUNING, on by default)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from blog_api.config import Settings
from blog_api.main import create_app


@pytest.fixture
def pristine_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("pristine_gc")
async def test_start_up_freezes_what_it_built_and_collects_young_objects_less_often(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"gc_tuning": True}))
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 10_000


@pytest.mark.usefixtures("pristine_gc")
async def test_gc_tuning_off_keeps_pythons_collector_as_it_was(settings: Settings) -> None:
    before = gc.get_threshold()
    app = create_app(settings.model_copy(update={"gc_tuning": False}))
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == before


def test_gc_tuning_is_on_unless_the_environment_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")  # CI runs the suite from a production shell
    monkeypatch.delenv("GC_TUNING", raising=False)
    assert Settings(_env_file=None).gc_tuning is True
    monkeypatch.setenv("GC_TUNING", "false")
    assert Settings(_env_file=None).gc_tuning is False
