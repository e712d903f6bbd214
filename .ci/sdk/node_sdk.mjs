// Drives the official TypeScript SDK (`@openrouter/sdk`) through the five Files operations
// against the emulator and fails on any SDK validation error, crash or mismatch.
//
// Environment: BASE_URL, API_KEY, API_VERSION (2026-07-19 or 2026-08-22), SEED_ID and SEED_SIZE
// (a downloadable file the emulator seeded with its xorshift filler), UPLOAD_LIMIT.
import { OpenRouter } from "@openrouter/sdk";
import * as errors from "@openrouter/sdk/models/errors";

const env = process.env;
const CURRENT = env.API_VERSION === "2026-08-22";
const SEED_SIZE = Number(env.SEED_SIZE);
const UPLOAD_LIMIT = Number(env.UPLOAD_LIMIT);
const WS = "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7";
let checks = 0;

function check(condition, what) {
  checks += 1;
  if (!condition) throw new Error(`mismatch: ${what}`);
}

async function expectError(kind, call, what) {
  try {
    await call();
  } catch (e) {
    if (e instanceof errors.ResponseValidationError || e instanceof errors.SDKValidationError) throw e;
    check(e instanceof kind, `${what}: got ${e?.constructor?.name}: ${e}`);
    return e;
  }
  throw new Error(`${what}: no ${kind.name}`);
}

/** The bytes examples/emulator.rs seeds a file with. */
function filler(n) {
  const mask = (1n << 64n) - 1n;
  let state = 0x2545f4914f6cdd1dn;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    state ^= (state << 13n) & mask;
    state ^= state >> 7n;
    state ^= (state << 17n) & mask;
    out[i] = Number(state & 0xffn);
  }
  return out;
}

async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const text = (s) => new TextEncoder().encode(s);
const sdk = new OpenRouter({ apiKey: env.API_KEY, serverURL: env.BASE_URL });
const files = sdk.files;
const upload = (fileName, content, extra = {}) =>
  files.upload({ requestBody: { file: { fileName, content } }, ...extra });

// Upload: metadata as the API reports it.
const uploaded = [];
for (let i = 0; i < 7; i++) {
  const content = text(`line ${i}\nsecond line\n`);
  const meta = await upload(`note-${i}.txt`, content);
  check(meta.filename === `note-${i}.txt`, `upload filename ${meta.filename}`);
  check(meta.sizeBytes === content.length, "upload size");
  check(meta.mimeType === "text/plain", `upload type ${meta.mimeType}`);
  check(meta.downloadable === false, "uploads are not downloadable");
  check(meta.id.startsWith(CURRENT ? "or_file_" : "file_"), `id ${meta.id}`);
  if (CURRENT) check(meta.shape === "openrouter", `shape ${meta.shape}`);
  uploaded.push(meta.id);
}

// List, page by page with the SDK's own async iterator.
const seen = [];
let pages = 0;
for await (const page of await files.list({ limit: 3 })) {
  pages += 1;
  if (CURRENT) check(page.result.shape === "openrouter", `list shape ${page.result.shape}`);
  seen.push(...page.result.data.map((f) => f.id));
}
check(JSON.stringify(seen) === JSON.stringify([env.SEED_ID, ...uploaded]), `pagination saw ${seen}`);
check(pages === 3, `${pages} pages`);

// Retrieve.
const one = await files.retrieve({ fileId: uploaded[0] });
check(one.id === uploaded[0] && one.filename === "note-0.txt", "retrieve");

// Workspaces scope every operation.
const inWs = await upload("ws.txt", text("in a workspace"), { workspaceId: WS });
const wsList = await files.list({ workspaceId: WS });
check(JSON.stringify(wsList.result.data.map((f) => f.id)) === JSON.stringify([inWs.id]), "workspace list");
check((await files.retrieve({ fileId: inWs.id, workspaceId: WS })).id === inWs.id, "workspace retrieve");
await expectError(errors.NotFoundResponseError, () => files.retrieve({ fileId: inWs.id }), "other workspace 404");

// Download: byte-exact for a server-created file, 400 for an upload.
const bytes = await readAll(await files.download({ fileId: env.SEED_ID }));
check(Buffer.compare(bytes, Buffer.from(filler(SEED_SIZE))) === 0, "download bytes");
await expectError(errors.BadRequestResponseError, () => files.download({ fileId: uploaded[0] }), "download of an upload");

// Errors: 400, 401, 404, 413, each in the spec's shape.
let e = await expectError(errors.BadRequestResponseError, () => files.list({ cursor: "not-a-cursor" }), "bad cursor 400");
check(e.error.code === 400, "400 body");
const bad = new OpenRouter({ apiKey: "sk-or-wrong", serverURL: env.BASE_URL });
e = await expectError(errors.UnauthorizedResponseError, () => bad.files.list(), "wrong key 401");
check(e.error.code === 401, "401 body");
e = await expectError(errors.NotFoundResponseError, () => files.retrieve({ fileId: "or_file_missing" }), "404");
check(e.error.code === 404, "404 body");
e = await expectError(
  errors.PayloadTooLargeResponseError,
  () => upload("big.txt", new Uint8Array(UPLOAD_LIMIT + 1).fill(120)),
  "413",
);
check(e.error.code === 413, "413 body");

// Provider storage answers in the provider's shape (current version only).
if (CURRENT) {
  for (const provider of ["openai", "anthropic"]) {
    const meta = await upload(`${provider}.txt`, text("abc"), { provider });
    check(meta.shape === provider, `${provider} upload shape ${meta.shape}`);
    const listed = (await files.list({ provider })).result;
    check(listed.shape === provider && listed.data.length === 1 && listed.data[0].id === meta.id, `${provider} list`);
    check((await files.retrieve({ fileId: meta.id, provider })).shape === provider, `${provider} retrieve`);
    const gone = await files.delete({ fileId: meta.id, provider });
    check(gone.shape === provider && gone.id === meta.id, `${provider} delete`);
  }
  const openai = await upload("o.txt", text("abc"), { provider: "openai" });
  check(openai.bytes === 3 && openai.purpose === "user_data" && typeof openai.createdAt === "number", "openai fields");
}

// Delete, then 404.
const gone = await files.delete({ fileId: uploaded[0] });
check(gone.id === uploaded[0], "delete");
await expectError(errors.NotFoundResponseError, () => files.retrieve({ fileId: uploaded[0] }), "deleted 404");
await expectError(errors.NotFoundResponseError, () => files.delete({ fileId: uploaded[0] }), "deleted twice 404");

console.log(`node @openrouter/sdk: ${checks} checks passed against API ${env.API_VERSION}`);
