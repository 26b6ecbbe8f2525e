"""Where the master key comes from, and the clear refusals when it is not usable."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.platform.privacy.master import (
    LocalMasterKey,
    MasterKeyError,
    UnwrapFailed,
    master_key_from_environment,
    new_master_key,
)


def test_a_key_from_the_environment_or_a_file_wraps_and_unwraps(tmp_path: Path) -> None:
    text = new_master_key()
    (tmp_path / "key").write_text(text + "\n")
    from_env = master_key_from_environment({"CRM_MASTER_KEY": text})
    from_file = master_key_from_environment({"CRM_MASTER_KEY_FILE": str(tmp_path / "key")})
    wrapped = from_env.wrap(b"k" * 32, "subject-1")
    assert from_file.unwrap(wrapped, "subject-1") == b"k" * 32
    with pytest.raises(UnwrapFailed):  # bound to its subject
        from_file.unwrap(wrapped, "subject-2")


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "is not set"),
        ({"CRM_MASTER_KEY": "   "}, "is not set"),
        ({"CRM_MASTER_KEY": "c2hvcnQ"}, "must hold 32 bytes"),
        ({"CRM_MASTER_KEY_FILE": "/nonexistent/master.key"}, "No such file"),
        ({"CRM_KEY_PROVIDER": "no.such.module:factory"}, "failed"),
    ],
)
def test_an_unusable_master_key_is_a_clear_error(env: dict[str, str], says: str) -> None:
    with pytest.raises(MasterKeyError, match=says):
        master_key_from_environment(env)


def test_another_master_key_does_not_open_a_wrapped_key() -> None:
    wrapped = master_key_from_environment({"CRM_MASTER_KEY": new_master_key()}).wrap(b"k" * 32, "s")
    other = master_key_from_environment({"CRM_MASTER_KEY": new_master_key()})
    assert isinstance(other, LocalMasterKey)
    with pytest.raises(UnwrapFailed):
        other.unwrap(wrapped, "s")
