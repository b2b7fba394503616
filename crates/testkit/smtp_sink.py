"""A real SMTP server for tests: stores every message it receives as a file.

Usage: python3 smtp_sink.py PORT DIRECTORY
Prints "ready" once it listens on 127.0.0.1:PORT. Each message becomes DIRECTORY/<n>.eml,
written to a temporary name first and renamed, so a reader never sees half a message.
"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller

port, directory = int(sys.argv[1]), sys.argv[2]
counter = itertools.count(1)


class Store:
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        tmp = os.path.join(directory, f".{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            f.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(directory, f"{n}.eml"))
        return "250 Message accepted for delivery"


controller = Controller(Store(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
try:
    asyncio.get_event_loop().run_forever()
finally:
    controller.stop()
