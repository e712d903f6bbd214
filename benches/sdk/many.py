"""The official Python SDK's side of `cargo bench --bench many`: asyncio with a semaphore.

usage: many.py many BASE KEY FILES CONCURRENCY PATH   (upload, retrieve, delete FILES files)
       many.py list BASE KEY LIMIT                    (list every file; prints the count)
"""
import asyncio
import sys

from openrouter import OpenRouter


async def bounded(sem, make):
    async with sem:
        return await make()


async def many(sdk, files, concurrency, path):
    data = open(path, "rb").read()
    sem = asyncio.Semaphore(concurrency)
    uploaded = await asyncio.gather(*(
        bounded(sem, lambda i=i: sdk.files.upload_async(
            file={"file_name": f"f{i:04}.txt", "content": data}))
        for i in range(files)))
    ids = [f.id for f in uploaded]
    await asyncio.gather(*(bounded(sem, lambda i=i: sdk.files.retrieve_async(file_id=i)) for i in ids))
    await asyncio.gather(*(bounded(sem, lambda i=i: sdk.files.delete_async(file_id=i)) for i in ids))


async def list_all(sdk, limit):
    count = 0
    page = await sdk.files.list_async(limit=limit)
    while page is not None:
        count += len(page.result.data)
        page = await page.next()
    print(count)


async def main():
    mode, base, key = sys.argv[1:4]
    async with OpenRouter(api_key=key, server_url=base) as sdk:
        if mode == "many":
            await many(sdk, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
        else:
            await list_all(sdk, int(sys.argv[4]))


asyncio.run(main())
