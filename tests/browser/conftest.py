"""Fixtures of the browser tests: a portal whose e-mail goes to an SMTP sink in this process,
so codes are read from the messages as an applicant would read them."""

import email
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, service_env
from tests.requests.esign_ca import pki


class Sink:
    """An SMTP server keeping each message it receives."""

    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"

    def code_for(self, address: str, after: int) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for message in self.messages[after:]:
                if address in message["To"]:
                    body = message.get_payload(decode=True).decode()
                    return re.search(r": (\d{6})\b", body).group(1)
            time.sleep(0.1)
        raise AssertionError(f"no code for {address}")


@pytest.fixture(scope="module")
def mail_sink():
    from aiosmtpd.controller import Controller

    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def mailing_portal(django_db_setup, mail_sink):
    """The portal on a port of its own, mailing to the sink; yields its port."""
    _handler, smtp_port = mail_sink
    port = free_port()
    log_path = ROOT / ".run" / "test-intake-web.log"
    # The test CA's root as the trust anchor, so the e-signature page shows its form.
    anchors = ROOT / ".run" / "test-esign-anchors.pem"
    anchors.write_text(pki().root.pem)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env={
                **service_env(),
                "EMAIL_PORT": str(smtp_port),
                "INTAKE_SUBMITS_PER_IDENTITY_HOUR": "2",
                "INTAKE_SUBMITS_PER_IP_HOUR": "100",
                "ESIGN_TRUST_ANCHORS_FILE": str(anchors),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(Path(log_path).read_text())
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.2)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=30)
