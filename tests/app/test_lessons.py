"""Lessons: every shipped lesson validates and opens real pages; the API lists and serves them;
malformed lesson data is rejected."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from layerlab.app.lessons import LESSON_DIR, Lesson, lessons, load_lesson, step_url

SHIPPED = sorted(LESSON_DIR.glob("*.json"))
GOOD = {
    "id": "tiny",
    "order": 1,
    "title": "Tiny",
    "summary": "One step.",
    "steps": [
        {
            "page": "/pool?step=1",
            "title": "A window",
            "narration": "Max pooling keeps the largest value.",
            "focus": ["#window-view"],
            "predict": {"question": "What is kept?", "cover": ["#output-view"], "answer": "2"},
        }
    ],
}


def test_eleven_lessons_ship_each_with_three_to_seven_steps() -> None:
    assert len(SHIPPED) == 11
    for path in SHIPPED:
        lesson = load_lesson(path)
        assert 3 <= len(lesson.steps) <= 7, path.name


def test_most_lessons_have_a_predict_step() -> None:
    with_predict = [x.id for x in lessons().values() if any(s.predict for s in x.steps)]
    assert len(with_predict) >= 6


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_step_opens_a_real_page(client, path: Path) -> None:
    for step in load_lesson(path).steps:
        res = client.get(urlsplit(step.page).path)
        assert res.status_code == 200, step.page


def test_the_api_lists_every_lesson_with_its_first_step(client) -> None:
    cards = client.get("/api/lessons").json()
    assert [c["id"] for c in cards] == list(lessons())
    pool = next(c for c in cards if c["id"] == "pooling")
    assert pool["num_steps"] == len(lessons()["pooling"].steps)
    assert pool["first"].endswith("lesson=pooling&ls=1")


def test_one_lesson_is_served_whole(client) -> None:
    body = client.get("/api/lessons/pooling").json()
    assert body == json.loads((LESSON_DIR / "pooling.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lesson_id", ["no-such-lesson", "Pooling", "pool_ing"])
def test_an_unknown_or_malformed_id_is_a_404_with_a_message(client, lesson_id: str) -> None:
    res = client.get(f"/api/lessons/{lesson_id}")
    assert res.status_code == 404
    assert "lesson" in res.json()["message"]


def test_step_urls_keep_the_fragment_last() -> None:
    lesson = Lesson.model_validate(
        {**GOOD, "steps": [{**GOOD["steps"][0], "page": "/attention?step=5#sqrtdk"}]}
    )
    assert step_url(lesson, 0) == "/attention?step=5&lesson=tiny&ls=1#sqrtdk"


def _broken(change) -> dict:
    data = copy.deepcopy(GOOD)
    change(data)
    return data


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["steps"][0].update(page="/nowhere"),
        lambda d: d["steps"][0].update(page="https://example.com/pool"),
        lambda d: d["steps"][0].update(page="/pool?lesson=x&ls=2"),
        lambda d: d["steps"][0].pop("narration"),
        lambda d: d["steps"][0].update(extra="field"),
        lambda d: d["steps"][0].pop("focus"),
        lambda d: d["steps"][0].update(focus=[]),
        lambda d: d["steps"][0].update(focus="#window-view"),
        lambda d: d["steps"][0].update(focus=[""]),
        lambda d: d["steps"][0].update(focus=["#a{b}"]),
        lambda d: d["steps"][0]["predict"].update(cover=[]),
        lambda d: d["steps"][0]["predict"].update(cover=["<script>"]),
        lambda d: d["steps"][0]["predict"].pop("answer"),
        lambda d: d.update(steps=[]),
        lambda d: d.update(id="Has Spaces"),
    ],
    ids=[
        "unknown-page",
        "other-host",
        "reserved-keys",
        "no-narration",
        "unknown-field",
        "no-focus",
        "empty-focus",
        "focus-not-a-list",
        "empty-focus-selector",
        "bad-focus-selector",
        "nothing-covered",
        "bad-selector",
        "no-answer",
        "no-steps",
        "bad-id",
    ],
)
def test_malformed_lessons_are_rejected(change) -> None:
    Lesson.model_validate(GOOD)  # the unbroken lesson is fine
    with pytest.raises(ValidationError):
        Lesson.model_validate(_broken(change))


def test_a_lesson_file_with_a_step_without_focus_stops_the_app_starting(tmp_path: Path) -> None:
    data = _broken(lambda d: d["steps"][0].pop("focus"))
    (tmp_path / "tiny.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError, match="focus"):
        lessons.__wrapped__(tmp_path)


def test_every_shipped_step_names_its_subject() -> None:
    for lesson in lessons().values():
        for step in lesson.steps:
            assert step.focus and all(sel.strip() for sel in step.focus), (lesson.id, step.title)


def test_a_file_named_otherwise_than_its_id_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    with pytest.raises(ValueError, match="not the file's name"):
        load_lesson(path)
