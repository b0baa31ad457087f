"""Bugs a hand mutation review planted in core modules and the suite did not catch.

Each test states the outside rule it holds the code to (Anthropic's tool_result contract, strict
JSON, how analysts write money), so a plausible wrong implementation fails here.
"""

import pytest

from finstream.agent import Turn, run_turn
from finstream.assembler import Assembler, parse_tool_input
from finstream.formatting import compact_number, format_value
from finstream.providers.base import BlockStop, Finish, ToolInputDelta, ToolUseStart
from finstream.providers.scripted import ScriptedProvider, text_step, tool_step
from tests.core.test_agent_loop import TOOLBOX  # the echo tool (fails on 'boom') + output tools

# --- strict JSON at block end -------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw",
    ['{"a": 1} junk', '{"a": 1}}', '{"a": 1} {"b": 2}', '{"a": 1},', '{"a": NaN}', "{'a': 1}"],
)
def test_tool_input_with_trailing_or_non_json_content_is_refused(raw):
    value, error = parse_tool_input(raw)
    assert value is None and error


def test_assembler_refuses_trailing_junk_split_over_fragments():
    asm = Assembler()
    asm.feed(ToolUseStart(0, "toolu_1", "echo"))
    for frag in ["", '{"word": ', '"hi"}', " trailing"]:
        asm.feed(ToolInputDelta(0, frag))
    [action] = asm.feed(BlockStop(0))
    assert action.call.input is None and "not valid JSON" in action.call.error
    # What goes back to the API must still be an object, as tool_use input has to be.
    assert asm.assistant_content()[-1]["input"] == {}


def test_whitespace_around_a_complete_object_is_fine():
    assert parse_tool_input('  {"a": [1, 2]}\n') == ({"a": [1, 2]}, None)


# --- is_error on every failed tool call ---------------------------------------------------------



async def test_every_failed_tool_result_is_marked_is_error_for_the_model():
    """Anthropic's contract: a tool that failed returns ``is_error: true`` (broken JSON, input that
    violates the schema, an unknown tool, a tool that crashed), and a good call never does."""
    provider = ScriptedProvider([
        tool_step(
            ("echo", '{"word": "x"'),            # broken JSON
            ("echo", {"word": 5}),               # schema violation
            ("no_such_tool", {}),                # unknown tool
            ("echo", {"word": "boom"}),          # the tool crashes
            ("echo", {"word": "ok"}),            # fine
        ),
        text_step("done"),
    ])
    turn = Turn("conv", "msg", [{"role": "user", "content": "q"}])
    events = [e async for e in run_turn(provider, TOOLBOX, turn)]
    assert events[-1].success
    results = provider.requests[1].messages[-1]["content"]
    assert [r["type"] for r in results] == ["tool_result"] * 5
    assert [bool(r.get("is_error")) for r in results] == [True, True, True, True, False]
    assert [r["tool_use_id"] for r in results] == [f"toolu_{i:02d}" for i in range(5)]
    # The model is shown what it sent, so it can correct itself.
    assert '{"word": "x"' in results[0]["content"]
    assert "kaput" in results[3]["content"]


async def test_tool_results_go_first_in_the_next_user_message_one_per_tool_use():
    provider = ScriptedProvider([tool_step(("echo", {"word": "a"}), ("echo", {"word": "b"})), text_step("ok")])
    turn = Turn("conv", "msg", [{"role": "user", "content": "q"}])
    [e async for e in run_turn(provider, TOOLBOX, turn)]
    messages = provider.requests[1].messages
    assistant, user = messages[-2], messages[-1]
    assert assistant["role"] == "assistant" and user["role"] == "user"
    tool_ids = [b["id"] for b in assistant["content"] if b["type"] == "tool_use"]
    assert [b["tool_use_id"] for b in user["content"]] == tool_ids


# --- money as analysts write it -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (-5_000_000_000, "USD", "-$5.0B"),
        (1e9, "USD", "$1.0B"),
        (999_999_999, "USD", "$1,000.0M"),  # rounds within its own scale, never jumps a suffix
        (391_035_000_000, "USD", "$391.0B"),
        (-1_234_000, "USD", "-$1.2M"),
        (2.5e12, "USD", "$2.5T"),
        (6.11, "USD/shares", "$6.11"),
        (46.2, "%", "46.2%"),
        (None, "USD", "n/a"),
    ],
)
def test_money_formatting(value, unit, expected):
    assert format_value(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1e9, "1.0B"), (1e6, "1.0M"), (1e3, "1.0K"), (-1e9, "-1.0B"), (999, "999"), (12.5, "12.50"),
     (float("nan"), "n/a")],
)
def test_compact_number_thresholds(value, expected):
    assert compact_number(value) == expected


def test_negative_money_never_puts_the_sign_after_the_dollar():
    for v in (-1.0, -999.0, -5e3, -5e6, -5e9, -5e12):
        text = format_value(v, "USD")
        assert text.startswith("-$") and "$-" not in text


# --- a finished message is never left open ------------------------------------------------------

def test_finish_closes_every_open_block_as_truncated():
    asm = Assembler()
    asm.feed(ToolUseStart(1, "toolu_a", "echo"))
    asm.feed(ToolInputDelta(1, '{"word": "complete"}'))
    actions = asm.feed(Finish("max_tokens", {}))
    assert len(actions) == 1 and "cut off" in actions[0].call.error
    assert actions[0].call.input is None


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("USD", "$2.5B"), ("usd", "$2.5B"), ("$", "$2.5B"), ("Dollars", "$2.5B"), (" USD ", "$2.5B"),
        ("USD/shares", "$2,500,000,000.00"), ("USD per share", "$2,500,000,000.00"),
        ("usd/share", "$2,500,000,000.00"), ("EPS", "$2,500,000,000.00"),
        ("%", "2,500,000,000.0%"), ("percent", "2,500,000,000.0%"), ("PCT", "2,500,000,000.0%"),
        ("", "2.5B"), (None, "2.5B"), ("pure", "2.5B"), ("Ratio", "2.5B"), ("x", "2.5B"),
        ("shares", "2.5B shares"), ("EUR", "2.5B EUR"),
    ],
)
def test_every_unit_spelling_formats_the_same_way(unit, expected):
    assert format_value(2.5e9, unit) == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0, "USD", "$0"), (0.5, "USD", "$0.50"), (-0.5, "USD", "-$0.50"),
        (0, "", "0.00"), (999.5, "ratio", "999.50"), (1000, "ratio", "1.0K"), (-1000, "", "-1.0K"),
        (1.5, "x", "1.50"), (12.345, None, "12.35"), (1500, "shares", "1.5K shares"),
    ],
)
def test_small_values_and_the_thousand_threshold(value, unit, expected):
    assert format_value(value, unit) == expected


@pytest.mark.parametrize(("value", "expected"), [(0, "0"), (0.5, "0.50"), (-0.5, "-0.50"), (-0.0, "0")])
def test_compact_number_near_zero(value, expected):
    assert compact_number(value) == expected


def test_broken_input_is_echoed_in_full_up_to_the_limit_then_shortened():
    from finstream.assembler import RAW_ECHO_LIMIT, echo_raw

    exact = "x" * RAW_ECHO_LIMIT
    assert echo_raw(exact) == exact
    longer = "y" * (RAW_ECHO_LIMIT + 7)
    assert echo_raw(longer) == "y" * RAW_ECHO_LIMIT + "... (7 more characters)"


def test_assembler_keeps_the_calls_and_the_text_it_saw():
    asm = Assembler()
    from finstream.providers.base import TextPart

    asm.feed(TextPart("Revenue "))
    asm.feed(TextPart("grew."))
    asm.feed(ToolUseStart(1, "toolu_9", "echo"))
    asm.feed(ToolInputDelta(1, '{"word": "a"}'))
    asm.feed(BlockStop(1))
    assert asm.text == "Revenue grew."
    assert [(c.tool_id, c.name, c.input) for c in asm.tool_calls] == [("toolu_9", "echo", {"word": "a"})]
    _, error = parse_tool_input("[NaN]")
    assert error and "NaN" in error


# --- the demo analyst asks for what the question asks -------------------------------------------

async def test_a_quarterly_question_gets_quarterly_figures_from_the_demo_analyst():
    """Apple's companyfacts hold both fiscal years and quarters: a question about quarters must
    be answered with quarters (three-month periods labelled Qn), never with the annual series."""
    from finstream.filings.ingest import ingest
    from finstream.providers.demo import DemoAnalyst
    from finstream.samples import sample_paths
    from finstream.tools import default_toolbox

    path = sample_paths()[0]
    apple = ingest(path.name, path.read_bytes())
    turn = Turn("c", "m", [{"role": "user", "content": "Show Apple's quarterly revenue"}], [apple])
    events = [e async for e in run_turn(DemoAnalyst(delay=0), default_toolbox(), turn)]
    assert events[-1].success
    data_calls = [e for e in events if e.type == "tool_complete" and e.tool_name == "get_financial_data"]
    assert data_calls and all(e.input["period_type"] == "quarterly" for e in data_calls)
    periods = [p["period"] for e in data_calls for p in e.result["points"]]
    assert periods and all(p.split()[0] in {"Q1", "Q2", "Q3", "Q4"} for p in periods), periods
    chart = next(e for e in events if e.type == "chart_ready").chart_data
    assert all(label.split()[0] in {"Q1", "Q2", "Q3", "Q4"} for label in chart["spec"]["x"])
