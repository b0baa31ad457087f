"""The settings panel's per-conversation model and limits reach the runs the page starts
(AppTest on a real runtime; the scripted provider sees each model call's request)."""

from __future__ import annotations

from finstream.providers.scripted import text_step, tool_step
from finstream.settings import get_settings

METRIC = {"label": "Revenue FY2024", "value": 391035000000, "unit": "USD",
          "sources": [{"document": "aapl-20240928.htm", "period": "FY2024"}]}


def recording(seen: list, step: list):  # noqa: ANN201
    """A scripted step that notes the request's model and max_tokens (the provider's own copy of
    each request keeps neither the model nor the original object)."""

    def run(request):  # noqa: ANN001, ANN202
        seen.append((request.model, request.max_tokens))
        return step

    return run


def open_conversation(app_test, rt):  # noqa: ANN001, ANN201
    conv = rt.store.create_conversation("")
    at = app_test()
    at.query_params["c"] = conv.id
    at.run()
    assert not at.exception
    return conv, at


def test_demo_analyst_limits_reach_the_run_and_model_is_not_offered(ui_runtime, app_test):
    rt, provider = ui_runtime
    conv, at = open_conversation(app_test, rt)
    assert at.text_input(key="settings-model").value == "demo"
    assert at.text_input(key="settings-model").disabled
    assert any("Claude only" in c.value for c in at.caption)
    at.number_input(key=f"settings-max-tokens-{conv.id}").set_value(1000).run()
    at.number_input(key=f"settings-rounds-{conv.id}").set_value(1).run()
    seen: list = []
    provider.add(recording(seen, tool_step(("create_metric", METRIC), text="Looking.")))
    at.chat_input(key="prompt").set_value("Revenue?").run()
    assert not at.exception
    assert seen == [(None, 1000)]  # demo: no model override
    message = rt.store.list_messages(conv.id)[-1]
    assert message.stop_reason == "max_rounds" and message.error["code"] == "max_rounds"

    # Another conversation keeps the server's defaults.
    other, at2 = open_conversation(app_test, rt)
    assert at2.number_input(key=f"settings-rounds-{other.id}").value == get_settings().max_tool_rounds
    seen.clear()
    provider.add(recording(seen, text_step("Fine.")))
    at2.chat_input(key="prompt").set_value("Again?").run()
    assert seen == [(None, get_settings().max_tokens)]
    assert rt.store.list_messages(other.id)[-1].status == "complete"


def test_with_claude_the_chosen_model_reaches_every_model_call(ui_runtime, app_test, monkeypatch):
    rt, provider = ui_runtime  # the runtime keeps the scripted provider; the page sees Claude
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-not-a-key")
    get_settings.cache_clear()
    assert get_settings().use_claude
    conv, at = open_conversation(app_test, rt)
    box = at.selectbox(key=f"settings-model-{conv.id}")
    assert box.value == get_settings().model and "claude-haiku-5-5" in box.options
    box.set_value("claude-haiku-5-5").run()
    at.number_input(key=f"settings-rounds-{conv.id}").set_value(3).run()
    seen: list = []
    provider.add(recording(seen, tool_step(("create_metric", METRIC), text="Looking.")),
                 recording(seen, text_step("Revenue was $391.0B.")))
    at.chat_input(key="prompt").set_value("Revenue?").run()
    assert not at.exception
    assert seen == [("claude-haiku-5-5", get_settings().max_tokens)] * 2
    assert rt.store.list_messages(conv.id)[-1].status == "complete"
