"""Drives the official Python SDK (`openrouter`) through the five Files operations against the
emulator and fails on any SDK validation error, crash or mismatch.

Environment: BASE_URL, API_KEY, API_VERSION (2026-07-19 or 2026-08-22), SEED_ID and SEED_SIZE
(a downloadable file the emulator seeded with its xorshift filler), UPLOAD_LIMIT.
"""
import os
import sys

from openrouter import OpenRouter, errors

BASE_URL = os.environ["BASE_URL"]
API_KEY = os.environ["API_KEY"]
CURRENT = os.environ["API_VERSION"] == "2026-08-22"
SEED_ID = os.environ["SEED_ID"]
SEED_SIZE = int(os.environ["SEED_SIZE"])
UPLOAD_LIMIT = int(os.environ["UPLOAD_LIMIT"])
WS = "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        raise AssertionError(what)


def expect_error(kind, call, what):
    try:
        call()
    except kind as e:
        check(True, what)
        return e
    except errors.ResponseValidationError:
        raise
    raise AssertionError(f"{what}: no {kind.__name__}")


def filler(n):
    """The bytes examples/emulator.rs seeds a file with."""
    mask = (1 << 64) - 1
    state = 0x2545_F491_4F6C_DD1D
    out = bytearray()
    for _ in range(n):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        out.append(state & 0xFF)
    return bytes(out)


def shape(model):
    return getattr(model, "shape", None)


sdk = OpenRouter(api_key=API_KEY, server_url=BASE_URL)
files = sdk.files

# Upload: metadata as the API reports it.
uploaded = []
for i in range(7):
    content = f"line {i}\nsecond line\n".encode()
    meta = files.upload(file={"file_name": f"note-{i}.txt", "content": content, "content_type": "text/plain"})
    check(meta.filename == f"note-{i}.txt", f"upload filename {meta.filename!r}")
    check(meta.size_bytes == len(content), "upload size")
    check(meta.mime_type == "text/plain", f"upload type {meta.mime_type}")
    check(meta.downloadable is False, "uploads are not downloadable")
    check(meta.id.startswith("or_file_" if CURRENT else "file_"), f"id {meta.id}")
    if CURRENT:
        check(shape(meta) == "openrouter", f"shape {shape(meta)}")
    uploaded.append(meta.id)

# List, page by page with the SDK's own pagination helper.
seen = []
pages = 0
page = files.list(limit=3)
while page is not None:
    pages += 1
    result = page.result
    if CURRENT:
        check(shape(result) == "openrouter", f"list shape {shape(result)}")
    seen.extend(f.id for f in result.data)
    page = page.next()
check(seen == [SEED_ID] + uploaded, f"pagination saw {seen}")
check(pages == 3, f"{pages} pages")

# Retrieve.
meta = files.retrieve(file_id=uploaded[0])
check(meta.id == uploaded[0] and meta.filename == "note-0.txt", "retrieve")

# Workspaces scope every operation.
in_ws = files.upload(file={"file_name": "ws.txt", "content": b"in a workspace"}, workspace_id=WS)
check([f.id for f in files.list(workspace_id=WS).result.data] == [in_ws.id], "workspace list")
check(files.retrieve(file_id=in_ws.id, workspace_id=WS).id == in_ws.id, "workspace retrieve")
expect_error(errors.NotFoundResponseError, lambda: files.retrieve(file_id=in_ws.id), "other workspace 404")

# Download: byte-exact for a server-created file, 400 for an upload.
body = files.download(file_id=SEED_ID)
check(body.read() == filler(SEED_SIZE), "download bytes")
body.close()
expect_error(errors.BadRequestResponseError, lambda: files.download(file_id=uploaded[0]), "download of an upload")

# Errors: 400, 401, 404, 413, each in the spec's shape.
e = expect_error(errors.BadRequestResponseError, lambda: files.list(cursor="not-a-cursor"), "bad cursor 400")
check(e.data.error.code == 400, "400 body")
bad = OpenRouter(api_key="sk-or-wrong", server_url=BASE_URL)
e = expect_error(errors.UnauthorizedResponseError, lambda: bad.files.list(), "wrong key 401")
check(e.data.error.code == 401, "401 body")
e = expect_error(errors.NotFoundResponseError, lambda: files.retrieve(file_id="or_file_missing"), "404")
check(e.data.error.code == 404, "404 body")
e = expect_error(
    errors.PayloadTooLargeResponseError,
    lambda: files.upload(file={"file_name": "big.txt", "content": b"x" * (UPLOAD_LIMIT + 1)}),
    "413",
)
check(e.data.error.code == 413, "413 body")

# Provider storage answers in the provider's shape (current version only).
if CURRENT:
    for provider in ["openai", "anthropic"]:
        meta = files.upload(file={"file_name": f"{provider}.txt", "content": b"abc"}, provider=provider)
        check(shape(meta) == provider, f"{provider} upload shape {shape(meta)}")
        listed = files.list(provider=provider).result
        check(shape(listed) == provider and [f.id for f in listed.data] == [meta.id], f"{provider} list")
        check(shape(files.retrieve(file_id=meta.id, provider=provider)) == provider, f"{provider} retrieve")
        gone = files.delete(file_id=meta.id, provider=provider)
        check(shape(gone) == provider and gone.id == meta.id, f"{provider} delete")
    openai_meta = files.upload(file={"file_name": "o.txt", "content": b"abc"}, provider="openai")
    check(openai_meta.bytes_ == 3 and openai_meta.purpose == "user_data", "openai fields")

# Delete, then 404.
gone = files.delete(file_id=uploaded[0])
check(gone.id == uploaded[0], "delete")
expect_error(errors.NotFoundResponseError, lambda: files.retrieve(file_id=uploaded[0]), "deleted 404")
expect_error(errors.NotFoundResponseError, lambda: files.delete(file_id=uploaded[0]), "deleted twice 404")

print(f"python openrouter: {checks} checks passed against API {os.environ['API_VERSION']}")
sys.exit(0)
