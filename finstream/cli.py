"""python -m finstream ask | inspect | serve"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from finstream import events as ev


def _summary(event: ev.Event) -> str | None:
    if isinstance(event, ev.ChartReady):
        spec = event.chart_data.get("spec", {})
        points = len(spec.get("x", []))
        return f"[chart {event.chart_index}] {spec.get('title', '')} ({spec.get('chart_type')}, {len(spec.get('series', []))} series x {points} points)"
    if isinstance(event, ev.TableReady):
        data = event.table_data
        return f"[table {event.table_index}] {data.get('title', '')} ({len(data.get('rows', []))} rows)"
    if isinstance(event, ev.MetricReady):
        m = event.metric_data
        delta = f" ({m['delta_display']})" if m.get("delta_display") else ""
        return f"[metric {event.metric_index}] {m.get('label')}: {m.get('display')}{delta}"
    if isinstance(event, ev.ToolComplete) and event.error:
        return f"[tool {event.tool_name} failed] {event.error}"
    if isinstance(event, ev.Status):
        return f"[status] {event.message}"
    if isinstance(event, ev.Error):
        return f"[error {event.code}] {event.message}"
    if isinstance(event, ev.MessageComplete):
        u = event.usage
        total_in = u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens
        if not total_in and not u.output_tokens:
            return None
        cached = f", {u.cache_read_input_tokens:,} from cache" if u.cache_read_input_tokens else ""
        cost = f", ${u.cost_usd:.4f}" if u.cost_usd is not None else ""
        return f"[usage] {total_in:,} tokens in{cached}, {u.output_tokens:,} out{cost}"
    return None


async def _ask(args: argparse.Namespace) -> int:
    from finstream.agent import Turn, run_turn
    from finstream.filings.ingest import ingest_path
    from finstream.filings.model import FilingError
    from finstream.providers import make_provider
    from finstream.runs.tail import with_accumulated_text
    from finstream.settings import get_settings
    from finstream.tools import default_toolbox

    settings = get_settings()
    filings = []
    for name in args.file or []:
        try:
            filings.append(
                await asyncio.to_thread(ingest_path, name, max_bytes=settings.max_upload_mb * 2**20)
            )
        except FilingError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    turn = Turn(
        conversation_id=f"cli-{uuid.uuid4().hex[:8]}",
        message_id=f"msg-{uuid.uuid4().hex[:8]}",
        messages=[{"role": "user", "content": args.question}],
        filings=filings,
    )
    provider = make_provider(settings)
    success = False
    dim = sys.stdout.isatty()
    thinking = False  # in the middle of a run of reasoning
    async for event in with_accumulated_text(run_turn(
        provider,
        default_toolbox(),
        turn,
        max_tokens=settings.max_tokens,
        max_rounds=settings.max_tool_rounds,
        model=args.model,
        effort=args.effort,
    )):
        if args.jsonl:
            if ev.wanted(event, thinking=not args.no_thinking):
                print(ev.event_to_json(event, accumulated=not args.no_accumulated), flush=True)
        elif isinstance(event, ev.ThinkingDelta):
            if not args.no_thinking:  # reasoning, dimmed (plain when not a terminal)
                sys.stdout.write(("\x1b[2m" if dim and not thinking else "") + event.text)
                sys.stdout.flush()
                thinking = True
            continue
        elif isinstance(event, ev.TextDelta):
            if thinking:
                sys.stdout.write(("\x1b[0m" if dim else "") + "\n\n")
                thinking = False
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif (line := _summary(event)) is not None:
            if thinking:
                sys.stdout.write("\x1b[0m" if dim else "")
                thinking = False
            stream = sys.stderr if isinstance(event, ev.Error) else sys.stdout
            print(f"\n{line}", file=stream, flush=True)
        if isinstance(event, ev.MessageComplete):
            success = event.success
            if not args.jsonl:
                print()
    return 0 if success else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finstream", description="Ask questions about financial filings.")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="stream an answer to the terminal")
    ask.add_argument("question")
    ask.add_argument("--file", action="append", help="a filing to load (repeatable)")
    ask.add_argument("--jsonl", action="store_true", help="print each protocol event as a JSON line")
    ask.add_argument("--no-accumulated", action="store_true", help="leave out accumulated_text")
    ask.add_argument("--no-thinking", action="store_true", help="leave out Claude's reasoning")
    ask.add_argument("--model", default=None, help="Claude model (default FINSTREAM_MODEL)")
    ask.add_argument("--effort", default=None, choices=["low", "medium", "high", "xhigh", "max"],
                     help="how deeply Claude thinks (default FINSTREAM_EFFORT)")

    inspect = sub.add_parser("inspect", help="show what finstream understood of a filing")
    inspect.add_argument("path")
    inspect.add_argument("--json", action="store_true", dest="as_json")

    serve = sub.add_parser("serve", help="run the HTTP streaming API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-format", choices=("text", "json"), default=None,
                       help="json: one JSON object per log line (default: FINSTREAM_LOG_FORMAT or text)")

    args = parser.parse_args(argv)
    if args.command == "ask":
        try:
            return asyncio.run(_ask(args))
        except KeyboardInterrupt:
            return 130
    if args.command == "inspect":
        from finstream.filings.inspect import inspect_command

        return inspect_command(args.path, as_json=args.as_json)
    from finstream.api.server import serve as run_server

    return run_server(host=args.host, port=args.port, log_format=args.log_format)
