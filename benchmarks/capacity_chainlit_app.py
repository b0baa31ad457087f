"""The minimal Chainlit 2 app of bench_capacity.py: it streams the replay to its own clients
(socket.io), as the Chainlit docs show (``Message.stream_token``)."""

import asyncio
import sys
from pathlib import Path

import chainlit as cl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capacity_replay import GAP, TOKENS, token  # noqa: E402


@cl.on_message
async def answer(message: cl.Message) -> None:
    msg = cl.Message(content="")
    for i in range(TOKENS):
        await msg.stream_token(token(i))
        await asyncio.sleep(GAP)
    await msg.send()
