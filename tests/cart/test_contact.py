"""What a checkout's contact fields accept (cart/orders/contact.py)."""

from __future__ import annotations

import pytest

from cart.orders.contact import ContactProblem, read_contact


@pytest.mark.parametrize("phone", ["\u0661\u0662\u0663 456", "01632 \u00b2", "\uff10\uff11"])
def test_a_phone_number_in_other_digits_is_the_forms_message(phone: str) -> None:
    # str.isdigit() is true for each of these; a phone number we pass on has ASCII digits.
    with pytest.raises(ContactProblem, match="digits"):
        read_contact("Ada", "ada@example.org", phone)


def test_a_phone_number_keeps_its_spaces_and_signs() -> None:
    contact = read_contact("Ada", "ada@example.org", " +44 (0)1632-960.123 ")
    assert contact is not None and contact.phone == "+44 (0)1632-960.123"
