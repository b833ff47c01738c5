#!/usr/bin/env python3
"""An SMTP server for quell's e-mail tests: STARTTLS with a given certificate, AUTH, and each
received message written to a directory. Usage:
  smtp-sink.py --cert CERT.pem --key KEY.pem --out DIR [--user U --password P] [--no-tls]
Prints `port <N>` on stdout once it listens on 127.0.0.1:<N>; runs until killed.
With a certificate the server requires STARTTLS before MAIL and AUTH (aiosmtpd's
require_starttls and auth_require_tls), as a relay that carries confidential mail must.
"""
import argparse
import os
import socket
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(self.out, f"{self.n:04d}.eml")
        tls = "tls" if session.ssl is not None else "plain"
        data = session.auth_data
        user = data.login.decode() if isinstance(data, LoginPassword) else ""
        with open(path + ".tmp", "wb") as f:
            f.write(f"X-Sink-Transport: {tls}\r\nX-Sink-Login: {user}\r\nX-Sink-Rcpt: {','.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--out", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    context = None
    if a.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.cert, a.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user \
            and auth_data.password.decode() == a.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    kwargs = {}
    if a.user:
        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=context is not None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Store(a.out), hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=context is not None, ready_timeout=30, **kwargs)
    controller.start()
    print(f"port {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
