"""Builders for the usual people and objects of a tenant."""

import hashlib

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User

PASSWORD = "Test-Parola-12345"


def totp_key_for(username: str, schema: str) -> str:
    return hashlib.sha1(f"test:{schema}:{username}".encode()).hexdigest()  # noqa: S324


def staff_create(*, schema: str, username: str, role: Role | str, with_device: bool = True) -> User:
    """A staff member of the current schema with a password and (optionally) an authenticator."""
    user = User(username=username, role=role, email=f"{username}@{schema}.example.com.tr")
    user.first_name, user.last_name = username.title(), schema.title()
    user.set_password(PASSWORD)
    user.save()
    if with_device:
        TOTPDevice.objects.create(
            user=user, name="test", key=totp_key_for(username, schema), confirmed=True
        )
    return user


def totp_now(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"
