"""Plain request/response endpoints: conversations, uploads, the non-streaming answer, stop,
the protocol schema and the health check."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from finstream import events as ev
from finstream.api.backend import Backend, refused_as_api_error
from finstream.api.errors import ApiError, error_body
from finstream.runs.options import RunOptions
from finstream.service import uploads
from finstream.service.conversations import TITLE_MAX_CHARS
from finstream.service.uploads import Rejected
from finstream.store.records import Feedback

router = APIRouter()


class MessageIn(BaseModel):
    """A question."""

    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="The question to ask about the conversation's filings.")
    options: RunOptions | None = Field(
        None, description="This answer's model and limits; omitted fields use the server's settings."
    )


class ConversationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field("", max_length=TITLE_MAX_CHARS, description="Optional title.")


_MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "title": {"type": "string"},
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/ConversationIn"}},
        }
    }
}


def backend(request: Request) -> Backend:
    b: Backend = request.app.state.backend
    return b


async def _uploads(request: Request) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """Files (name, bytes) and plain fields of a multipart body; a file over the limit is a 413."""
    settings = request.app.state.api_settings
    try:
        form = await request.form(max_files=100, max_fields=100)
    except ApiError:
        raise
    except Exception as exc:  # malformed multipart bodies raise parser-specific errors
        raise ApiError(400, "bad_request", f"multipart body: could not be parsed ({exc})") from None
    files: list[tuple[str, bytes]] = []
    fields: dict[str, str] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                name = value.filename or key
                with refused_as_api_error():
                    uploads.check_size(name, value.size or 0, settings.max_upload_bytes)
                files.append((name, await value.read()))
            else:
                fields[key] = value
    finally:
        await form.close()
    return files, fields


def _rejected_response(stored: list[dict], rejected: list[Rejected], conversation_id: str) -> JSONResponse:
    message = "; ".join(f"{r.filename}: {r.reason}" for r in rejected)
    return JSONResponse(
        error_body("bad_document", message, conversation_id=conversation_id, documents=stored,
                   rejected=[{"filename": r.filename, "reason": r.reason} for r in rejected]),
        status_code=422,
    )


@router.post("/api/conversation", status_code=201, openapi_extra=_MULTIPART_DOC,
             summary="Create a conversation (optionally with files)")
async def create_conversation(request: Request) -> Any:
    ctype = request.headers.get("content-type", "")
    files: list[tuple[str, bytes]] = []
    title = ""
    if ctype.startswith("multipart/"):
        files, fields = await _uploads(request)
        title = fields.get("title", "")
    else:
        raw = await request.body()
        if raw.strip():
            try:
                title = ConversationIn.model_validate_json(raw).title
            except ValueError as exc:
                raise ApiError(422 if raw.lstrip().startswith(b"{") else 400,
                               "invalid_request", f"request body: {_first_error(exc)}") from None
    conv = await backend(request).create_conversation(title)
    stored, rejected = await backend(request).add_documents(conv.id, files) if files else ([], [])
    if rejected:
        return _rejected_response(stored, rejected, conv.id)
    return {"conversation_id": conv.id, "title": conv.title, "documents": stored}


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        errs = errors()
        if errs:
            e = errs[0]
            loc = ".".join(str(p) for p in e.get("loc", ())) or "body"
            return f"{loc}: {e.get('msg')}"
    return str(exc)


@router.get("/api/conversation/{conversation_id}", summary="Conversation history")
async def get_conversation(conversation_id: str, request: Request) -> Any:
    return await backend(request).history(conversation_id)


@router.post("/api/conversation/{conversation_id}/documents", status_code=201,
             summary="Upload documents (multipart, field 'files')",
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "properties": {"files": {"type": "array", "items": {
                     "type": "string", "format": "binary"}}}}}}}})
async def upload_documents(conversation_id: str, request: Request) -> Any:
    await backend(request).require_conversation(conversation_id)
    if not request.headers.get("content-type", "").startswith("multipart/"):
        raise ApiError(415, "unsupported_media_type",
                       "upload documents as multipart/form-data with one or more 'files' fields")
    files, _ = await _uploads(request)
    if not files:
        raise ApiError(422, "invalid_request", "files: no file in the request")
    stored, rejected = await backend(request).add_documents(conversation_id, files)
    if rejected:
        return _rejected_response(stored, rejected, conversation_id)
    return {"conversation_id": conversation_id, "documents": stored}


@router.post("/api/conversation/{conversation_id}/message", summary="Ask and wait for the whole answer")
async def post_message(
    conversation_id: str,
    body: MessageIn,
    request: Request,
    wait: bool = Query(True, description="false: return 202 at once with the message_id to stream"),
) -> Any:
    b = backend(request)
    message_id, _ = await b.start(conversation_id, body.message, body.options)
    if not wait:
        return JSONResponse(
            {"conversation_id": conversation_id, "message_id": message_id, "status": "streaming",
             "stream_url": f"/api/conversation/{conversation_id}/message/stream?message_id={message_id}"},
            status_code=202,
        )
    # The run belongs to the manager: if this client goes away, the answer still completes.
    result = await b.wait(message_id)
    cited = (await b.store.message_citations([message_id])).get(message_id, [])  # footnotes
    return {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "status": result.get("status"),
        "stop_reason": result.get("stop_reason"),
        "text": result.get("text", ""),
        "artifacts": result.get("artifacts", []),
        "verification": result.get("verification", []),
        "citations": cited,
        "usage": result.get("usage") or {},
        "error": result.get("error"),
    }


@router.post("/api/conversation/{conversation_id}/stop", summary="Stop the streaming answer")
async def stop(conversation_id: str, request: Request) -> Any:
    stopped = await backend(request).stop(conversation_id)
    return {"conversation_id": conversation_id, "stopped": stopped}


class FeedbackIn(BaseModel):
    """A reader's verdict on one answer."""

    model_config = ConfigDict(extra="forbid")
    rating: Literal["up", "down"] | None = Field(description="Thumbs up or down; null clears it.")
    comment: str = Field("", max_length=4000, description="Optional: what was good or wrong.")


def _feedback_json(item: Feedback | None) -> dict[str, Any]:
    if item is None:
        return {"rating": None, "comment": ""}
    return {"message_id": item.message_id, "rating": "up" if item.rating else "down", "comment": item.comment,
            "updated_at": item.updated_at.isoformat()}


@router.put("/api/conversation/{conversation_id}/message/{message_id}/feedback",
            summary="Rate an answer (thumbs up/down, optional comment)")
async def put_feedback(conversation_id: str, message_id: str, body: FeedbackIn, request: Request) -> Any:
    rating = None if body.rating is None else int(body.rating == "up")
    return _feedback_json(await backend(request).set_feedback(conversation_id, message_id, rating, body.comment))


@router.get("/api/conversation/{conversation_id}/message/{message_id}/feedback",
            summary="An answer's feedback")
async def get_feedback(conversation_id: str, message_id: str, request: Request) -> Any:
    b = backend(request)
    await b.require_message(conversation_id, message_id)
    return _feedback_json((await b.store.list_feedback(conversation_id)).get(message_id))


@router.get("/api/protocol/schema", summary="JSON Schema of the stream's events")
async def protocol_schema() -> Any:
    return ev.json_schema()


@router.get("/healthz", summary="Liveness")
async def healthz() -> Any:
    return {"status": "ok"}
