"""Steps the browser journeys share: numbered screenshots, and a staff log-in with TOTP."""

import itertools
import shutil
from pathlib import Path

from django_otp.oath import totp

from tests.factories import PASSWORD, totp_key_for


class Screenshots:
    """Full-page screenshots numbered in the order taken, in a folder emptied first."""

    def __init__(self, folder: Path):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self._numbers = itertools.count(1)

    def __call__(self, page, name: str) -> None:
        path = self.folder / f"{next(self._numbers):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)

    def taken(self) -> list[str]:
        return sorted(path.name[:2] for path in self.folder.glob("*.png"))


def totp_code(username: str, schema: str, *, ahead: int = 0) -> str:
    """The user's authenticator code now (``ahead``: that many 30-second steps later)."""
    return f"{totp(bytes.fromhex(totp_key_for(username, schema)), drift=ahead):06d}"


def staff_log_in(page, base: str, username: str, schema: str, *, login_path: str) -> None:
    """Log in on the controller's host with the password and the current TOTP code."""
    page.goto(f"{base}{login_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-primary")
    page.fill("#id_token", totp_code(username, schema))
    page.click("button[type=submit].btn-primary")
