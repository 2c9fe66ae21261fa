"""Lessons: the list for the index, and one lesson for the player (see app/lessons.py)."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException

from layerlab.app.lessons import ID_PATTERN, Lesson, LessonCard, cards, lessons

router = APIRouter(prefix="/api/lessons", tags=["lessons"])

lessons()  # validate every lesson file when the app starts


@router.get("", response_model=list[LessonCard])
def listing() -> list[LessonCard]:
    """Every lesson: id, title, summary, step count and its first step's link."""
    return cards()


@router.get(
    "/{lesson_id}",
    response_model=Lesson,
    response_model_exclude_none=True,
    responses={404: {"description": "No such lesson"}},
)
def lesson(lesson_id: str) -> Lesson:
    """One lesson with all its steps."""
    if not re.fullmatch(ID_PATTERN, lesson_id):
        raise HTTPException(404, "lesson ids are lower-case letters, digits and hyphens")
    found = lessons().get(lesson_id)
    if found is None:
        raise HTTPException(404, f"no lesson {lesson_id!r}; the lessons are: {', '.join(lessons())}")
    return found
