"""Serve an in-memory MongoDB wire-protocol server (``mongoeco[wire]``, Python >= 3.13) on 127.0.0.1.

Usage: ``python3.13 mongoeco_launcher.py PORT``. Prints ``READY <uri>`` once listening; runs until killed.
Run by ``tests/wire_server.py``; this file must not import mlip_glass.
"""

import asyncio
import signal
import sys


async def serve(port: int) -> None:
    from mongoeco.wire import AsyncMongoEcoProxyServer

    server = AsyncMongoEcoProxyServer(host="127.0.0.1", port=port)
    address = await server.start()
    print(f"READY {address.uri}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
