// The official TypeScript SDK's side of `cargo bench --bench many`: a promise pool.
//
// usage: node many.mjs many BASE KEY FILES CONCURRENCY PATH   (upload, retrieve, delete)
//        node many.mjs list BASE KEY LIMIT                    (prints the count)
// SDK_DIR names the directory whose node_modules holds @openrouter/sdk.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const sdkPath = `${process.env.SDK_DIR}/node_modules/@openrouter/sdk/esm/index.js`;
const { OpenRouter } = await import(pathToFileURL(sdkPath).href);

async function pool(items, concurrency, work) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

const [mode, base, key] = process.argv.slice(2, 5);
const sdk = new OpenRouter({ apiKey: key, serverURL: base });
if (mode === "many") {
  const files = Number(process.argv[5]);
  const concurrency = Number(process.argv[6]);
  const data = new Uint8Array(readFileSync(process.argv[7]));
  const names = Array.from({ length: files }, (_, i) => `f${String(i).padStart(4, "0")}.txt`);
  const uploaded = await pool(names, concurrency, (name) =>
    sdk.files.upload({ requestBody: { file: { fileName: name, content: data } } }));
  const ids = uploaded.map((f) => f.id);
  await pool(ids, concurrency, (id) => sdk.files.retrieve({ fileId: id }));
  await pool(ids, concurrency, (id) => sdk.files.delete({ fileId: id }));
} else {
  let count = 0;
  for await (const page of await sdk.files.list({ limit: Number(process.argv[5]) })) {
    count += page.result.data.length;
  }
  console.log(count);
}
