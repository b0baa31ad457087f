"""The rest of the API a program needs: list, rename and delete conversations; read one answer
(waiting for it, the non-streaming fallback of finstream.client); continue an unfinished answer
(JSON or SSE); share links (feedback: api/rest.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from finstream.api.backend import Backend, artifact_json
from finstream.api.errors import ApiError
from finstream.runs.options import RunOptions
from finstream.service.conversations import TITLE_MAX_CHARS
from finstream.store import Conversation, ShareLink

router = APIRouter()


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=TITLE_MAX_CHARS, description="The new title.")


class ContinueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    options: RunOptions | None = Field(None, description="This continuation's model and limits.")


def _b(request: Request) -> Backend:
    b: Backend = request.app.state.backend
    return b


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _conversation_json(conv: Conversation) -> dict[str, Any]:
    return {"conversation_id": conv.id, "title": conv.title, "created_at": _iso(conv.created_at),
            "updated_at": _iso(conv.updated_at), "active_message_id": conv.active_message_id}


async def answer_json(b: Backend, conversation_id: str, message_id: str) -> dict[str, Any]:
    """One answer as the non-streaming endpoint returns it (finstream.client's result)."""
    msg = await b.require_message(conversation_id, message_id)
    arts = await b.store.message_artifacts(message_id)
    return {
        "conversation_id": conversation_id, "message_id": message_id, "status": msg.status,
        "stop_reason": msg.stop_reason, "text": msg.text,
        "artifacts": [{k: v for k, v in artifact_json(a).items() if k != "message_id"} for a in arts],
        "usage": msg.usage or {}, "error": msg.error,
    }


@router.get("/api/conversations", summary="List conversations, most recently updated first")
async def list_conversations(
    request: Request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
) -> Any:
    convs = await _b(request).store.list_conversations(limit=limit, offset=offset)
    return {"conversations": [_conversation_json(c) for c in convs], "limit": limit, "offset": offset}


@router.patch("/api/conversation/{conversation_id}", summary="Rename a conversation")
async def rename_conversation(conversation_id: str, body: RenameIn, request: Request) -> Any:
    return _conversation_json(await _b(request).rename_conversation(conversation_id, body.title))


@router.delete("/api/conversation/{conversation_id}", status_code=204,
               summary="Delete a conversation with its messages, documents, events and share links")
async def delete_conversation(conversation_id: str, request: Request) -> Response:
    await _b(request).delete_conversation(conversation_id)
    return Response(status_code=204)


@router.get("/api/conversation/{conversation_id}/message/{message_id}", summary="One answer")
async def get_answer(
    conversation_id: str, message_id: str, request: Request,
    wait: bool = Query(False, description="true: wait until the answer has finished"),
) -> Any:
    b = _b(request)
    await b.require_message(conversation_id, message_id)
    if wait:
        await b.wait(message_id)
    return await answer_json(b, conversation_id, message_id)


async def _continue(b: Backend, conversation_id: str, message_id: str, options: RunOptions | None) -> int:
    """Start the continuation; returns the seq before its first event."""
    return await b.continue_message(conversation_id, message_id, options)


@router.post("/api/conversation/{conversation_id}/message/{message_id}/continue",
             summary="Continue an incomplete, interrupted, stopped or failed answer")
async def continue_answer(
    conversation_id: str, message_id: str, request: Request, body: ContinueIn | None = None,
    wait: bool = Query(True, description="false: 202 at once; stream it with ?message_id="),
) -> Any:
    b = _b(request)
    floor = await _continue(b, conversation_id, message_id, body.options if body else None)
    if not wait:
        return JSONResponse(
            {"conversation_id": conversation_id, "message_id": message_id, "status": "streaming",
             "stream_url": f"/api/conversation/{conversation_id}/message/stream?message_id={message_id}"
                           f"&after={floor}"},
            status_code=202)
    await b.wait(message_id)
    return await answer_json(b, conversation_id, message_id)


@router.post("/api/conversation/{conversation_id}/message/{message_id}/continue/stream",
             summary="Continue an answer and stream the continuation (SSE)")
async def continue_stream(
    conversation_id: str, message_id: str, request: Request, body: ContinueIn | None = None,
    accumulated: bool = Query(True, description="false drops accumulated_text from text_delta"),
) -> Response:
    from finstream.api.sse import _respond

    b = _b(request)
    floor = await _continue(b, conversation_id, message_id, body.options if body else None)
    events = b.tail(conversation_id, after=floor, message_id=message_id, only_message=True,
                    accumulated=accumulated)
    return _respond(request, events, accumulated)


# ---------------------------------------------------------------- share links


def _share_json(link: ShareLink) -> dict[str, Any]:
    return {"token": link.token, "conversation_id": link.conversation_id,
            "created_at": _iso(link.created_at), "revoked": link.revoked,
            "app_path": f"/?share={link.token}", "api_path": f"/api/share/{link.token}"}


@router.post("/api/conversation/{conversation_id}/share", status_code=201,
             summary="Create a read-only share link")
async def create_share(conversation_id: str, request: Request) -> Any:
    b = _b(request)
    await b.require_conversation(conversation_id)
    return _share_json(await b.store.create_share_link(conversation_id))


@router.get("/api/conversation/{conversation_id}/shares", summary="The conversation's share links")
async def list_shares(conversation_id: str, request: Request) -> Any:
    b = _b(request)
    await b.require_conversation(conversation_id)
    return {"shares": [_share_json(s) for s in await b.store.list_share_links(conversation_id)]}


@router.delete("/api/share/{token}", status_code=204, summary="Revoke a share link")
async def revoke_share(token: str, request: Request) -> Response:
    if not await _b(request).store.revoke_share_link(token):
        raise ApiError(404, "not_found", "share link: not found")
    return Response(status_code=204)


@router.get("/api/share/{token}", summary="What a share link shows: the conversation's artifacts")
async def read_share(token: str, request: Request) -> Any:
    b = _b(request)
    conv = await b.store.resolve_share_link(token)
    if conv is None:
        raise ApiError(404, "not_found", "share link: not found or revoked")
    arts = await b.store.list_artifacts(conv.id)
    return {"title": conv.title, "artifacts": [artifact_json(a) for a in arts]}
