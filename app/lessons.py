"""Lessons: short scripted sequences of page views with a sentence or two of narration each.

Each lesson is one JSON file in app/lessons/ (data, not code), named after its id. Every file is
validated when this module is imported, so a broken lesson stops the app from starting."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from layerlab.app.operations import OPERATIONS

LESSON_DIR = Path(__file__).resolve().parent / "lessons"
ID_PATTERN = r"^[a-z0-9-]+$"
PAGES = frozenset(op["href"] for op in OPERATIONS if op["live"])  # the pages a step may open
RESERVED = frozenset({"lesson", "ls", "present", "hide"})  # query keys the lesson player and presenter own

Text = Annotated[str, Field(min_length=1, max_length=600)]
Selector = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^<>{};]+$")]


class Predict(BaseModel):
    """Predict-then-reveal: `cover` stays hidden behind the question until the class has guessed."""

    model_config = ConfigDict(extra="forbid")

    question: Text
    cover: list[Selector] = Field(min_length=1, max_length=8)  # CSS selectors of what to hide
    answer: Text


class Step(BaseModel):
    """One view: the page URL that opens it exactly, what to say about it and what it is about."""

    model_config = ConfigDict(extra="forbid")

    page: str = Field(min_length=1, max_length=4000)  # path and query, e.g. /pool?step=1
    title: Annotated[str, Field(min_length=1, max_length=120)]
    narration: Text  # plain text; **bold** and `code` are the only markup
    # CSS selectors of the narration's subject: the player scrolls them into view and rings them
    focus: list[Selector] = Field(min_length=1, max_length=8)
    predict: Predict | None = None

    @field_validator("page")
    @classmethod
    def _known_page(cls, page: str) -> str:
        parts = urlsplit(page)
        if parts.scheme or parts.netloc:
            raise ValueError(f"a step opens one of this app's pages by its path, not {page!r}")
        if parts.path not in PAGES:
            raise ValueError(f"unknown page {parts.path!r}; the pages are {', '.join(sorted(PAGES))}")
        reserved = RESERVED & {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
        if reserved:
            raise ValueError(f"the query may not set {', '.join(sorted(reserved))}: the player adds them")
        return page


class Lesson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
    order: int = Field(ge=1)  # where the index lists it
    title: Annotated[str, Field(min_length=1, max_length=120)]
    summary: Text
    steps: list[Step] = Field(min_length=1, max_length=12)


class LessonCard(BaseModel):
    """A lesson as the index lists it."""

    id: str
    title: str
    summary: str
    num_steps: int
    first: str  # the first step's URL, the lesson keys included


def step_url(lesson: Lesson, index: int) -> str:
    """Step `index` (0-based) as a link: its page with lesson=<id>&ls=<1-based step>."""
    parts = urlsplit(lesson.steps[index].page)
    query = "&".join(filter(None, [parts.query, f"lesson={lesson.id}&ls={index + 1}"]))
    return urlunsplit(parts._replace(query=query))


def load_lesson(path: Path) -> Lesson:
    """One lesson file, validated; its id must be its file name."""
    lesson = Lesson.model_validate(json.loads(path.read_text(encoding="utf-8")))
    if lesson.id != path.stem:
        raise ValueError(f"{path.name}: the id {lesson.id!r} is not the file's name")
    return lesson


@cache
def lessons(directory: Path = LESSON_DIR) -> dict[str, Lesson]:
    """Every lesson in `directory`, by id, in their `order`."""
    found = sorted(map(load_lesson, directory.glob("*.json")), key=lambda x: (x.order, x.id))
    return {lesson.id: lesson for lesson in found}


def cards() -> list[LessonCard]:
    return [
        LessonCard(id=x.id, title=x.title, summary=x.summary, num_steps=len(x.steps), first=step_url(x, 0))
        for x in lessons().values()
    ]
