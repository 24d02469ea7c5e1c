"""The API's own refusals (the schema's bounds and types, a body that is not JSON, a request without a session)
in the reader's language, quoting the value refused, as the services' refusals do. Ninja drops the value and
words its own refusals in English; ``config.api`` puts the value back and words them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.platform.relief_support import client_for

pytestmark = [pytest.mark.django_db]
CONFIRM = "/api/relief/rounds/confirm"
LATIN = re.compile(r"[A-Za-z]")


def _confirm(client: Client, body: Any) -> Any:
    return client.post(CONFIRM, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("path", "english", "chinese"), [
    ("/api/relief/tasks/0", "must be at least 1, got 0", "至少为 1，收到的是 0"),
    ("/api/relief/tasks/99999999999999999999999", "must be at most 9223372036854775807, got 99999999999999999999999",
     "最多为 9223372036854775807，收到的是 99999999999999999999999"),
    ("/api/relief/tasks/abc", "must be a whole number", "必须是整数"),
])
def test_a_path_value_out_of_bounds_is_named_with_the_value_sent(path: str, english: str, chinese: str) -> None:
    for language, words in (("en", english), ("zh-hans", chinese)):
        answer = client_for("volunteer", language).get(path)
        assert answer.status_code == 400 and answer.json() == {"detail": {"task_id": [words]}}, answer.content


def test_a_bad_body_is_refused_field_by_field_in_the_readers_language() -> None:
    body = {"places": [0], "items": [], "days": "three", "policy": 5, "seed": 2**62, "fingerprint": "",
            "needs_up_to": -2}
    english = _confirm(client_for("director"), body)
    assert english.status_code == 400
    assert english.json()["detail"] == {
        "places": ["must be at least 1, got 0"], "items": ["at least 1 item"], "days": ["must be a whole number"],
        "policy": ["must be text"], "seed": ["must be below 4611686018427387904, got 4611686018427387904"],
        "fingerprint": ["at least 1 character"], "needs_up_to": ["must be at least 1, got -2"]}
    chinese = _confirm(client_for("director", "zh-hans"), body)
    assert chinese.status_code == 400
    reasons = chinese.json()["detail"]
    assert set(reasons) == set(english.json()["detail"])  # the fields keep their API names
    assert reasons["needs_up_to"] == ["至少为 1，收到的是 -2"] and reasons["days"] == ["必须是整数"]
    assert not [r for words in reasons.values() for r in words if LATIN.search(r)], reasons
    # a long value is quoted shortened (it is the client's own)
    huge = _confirm(client_for("director"), {**body, "seed": 10**60})
    assert huge.json()["detail"]["seed"] == [f"must be below 4611686018427387904, got {'1' + '0' * 38}…"]


@pytest.mark.parametrize("value", [True, "12", 12.0])
def test_the_newest_need_is_a_whole_number_not_something_that_reads_as_one(value: Any) -> None:
    body = {"places": [1], "items": ["t"], "days": 1, "seed": 1, "fingerprint": "f", "policy": "equity",
            "needs_up_to": value}
    answer = _confirm(client_for("director"), body)
    assert answer.status_code == 400 and answer.json()["detail"]["needs_up_to"] == ["must be a whole number"]


def test_a_choice_outside_its_values_lists_them_without_english_in_chinese() -> None:
    answer = client_for("grid", "zh-hans").post("/api/relief/needs", json.dumps({
        "household_id": 1, "item": "t-food", "quantity": 1, "idempotency_key": "k" * 20, "urgency": "whenever"}),
        content_type="application/json")
    assert answer.status_code == 400
    (reason,) = answer.json()["detail"]["urgency"]
    assert reason == "不是允许的取值之一：'critical', 'urgent', 'normal'，收到的是 \"whenever\"", reason


@pytest.mark.parametrize(("language", "words"), [
    ("en", "The request lacks its security token: reload the page and try again (an API client sends the "
           "csrftoken cookie's value as the X-CSRFToken header)."),
    ("zh-hans", "请求缺少安全令牌：请刷新页面后重试（接口客户端须把 csrftoken Cookie 的值放在 X-CSRFToken 请求头中发送）。")])
def test_a_write_without_its_csrf_token_is_a_403_that_says_so(language: str, words: str) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(username="director", password="civicgrid-demo")
    answer = client.post(CONFIRM, "{}", content_type="application/json")
    assert answer.status_code == 403 and answer.json() == {"detail": words}
    anonymous = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language).post(
        CONFIRM, "{}", content_type="application/json")
    assert anonymous.status_code == 403 and anonymous.json() == {"detail": words}


@pytest.mark.parametrize(("language", "words"), [("en", "The request's body is not valid JSON."),
                                                 ("zh-hans", "请求内容不是有效的 JSON。")])
def test_a_body_that_is_not_json_is_a_400_in_the_readers_language(language: str, words: str) -> None:
    answer = _confirm(client_for("director", language), '{"places": [1')
    assert answer.status_code == 400 and answer.json() == {"detail": words}


@pytest.mark.parametrize(("language", "words"), [("en", "Sign in first."), ("zh-hans", "请先登录。")])
def test_a_request_without_a_session_is_a_401_in_the_readers_language(language: str, words: str) -> None:
    answer = Client(HTTP_ACCEPT_LANGUAGE=language).get("/api/relief/needs")
    assert answer.status_code == 401 and answer.json() == {"detail": words}
