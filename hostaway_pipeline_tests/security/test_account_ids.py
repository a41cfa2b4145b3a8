"""One canonical spelling of an account id wherever it enters: CLI, partition key, sensor."""

from __future__ import annotations

import pytest

from hostaway_pipeline.accounts.ids import AccountIdError, account_key, parse_account_id
from hostaway_pipeline.cli import main

NON_CANONICAL = ["0012", "+12", "1_2", "١٢", "12\u00a0", " 12", "12 ", "-12", "0", "", "1e3", "²",
                 "12.0", "0x1f", "9" * 19, "9" * 20, "\uff11\uff12"]  # fmt: skip


@pytest.mark.parametrize("value", NON_CANONICAL)
def test_non_canonical_spellings_are_refused_with_a_message_naming_them(value: str) -> None:
    with pytest.raises(AccountIdError) as err:
        parse_account_id(value)
    message = str(err.value)
    assert repr(value) in message
    assert "positive integer" in message and "ASCII digits" in message


@pytest.mark.parametrize("value", ["1", "12", "10001", "9223372036854775807"])
def test_canonical_ids_round_trip(value: str) -> None:
    assert account_key(parse_account_id(value)) == value


@pytest.mark.parametrize("value", [0, -1, True, 2**63, 1.0, None])
def test_non_positive_or_non_int_values_are_refused(value: object) -> None:
    with pytest.raises(AccountIdError):
        parse_account_id(value)


@pytest.mark.parametrize("value", ["0012", "+12", "1_2", "١٢", " 12"])
def test_the_cli_refuses_them_before_touching_anything(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["accounts", "enable", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert repr(value) in err and "positive integer" in err
