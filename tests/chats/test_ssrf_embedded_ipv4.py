"""The SSRF filter looks through IPv6 addresses that lead to an IPv4 one (docs/SECURITY.md):
NAT64 `64:ff9b::7f00:1` reaches 127.0.0.1 through a NAT64 gateway, yet Python counts it as a
global address. Both the agent's attachment link and the copy of an incoming file use it."""

from __future__ import annotations

import pytest

from chats.media import UnsafeURL, url_check_fetchable


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::7f00:1]/a.pdf",  # NAT64 → 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 → 169.254.169.254
        "http://[64:ff9b::c0a8:101]/a.pdf",  # NAT64 → 192.168.1.1
        "http://[64:ff9b:1::a00:1]/a.pdf",  # NAT64 local-use prefix
        "http://[2002:7f00:1::1]/a.pdf",  # 6to4 → 127.0.0.1
        "http://[::127.0.0.1]/a.pdf",  # IPv4-compatible → 127.0.0.1
        "http://[::ffff:10.0.0.1]/a.pdf",  # IPv4-mapped → 10.0.0.1
    ],
)
def test_ipv6_addresses_leading_to_private_ipv4_are_refused(url):
    with pytest.raises(UnsafeURL) as refused:
        url_check_fetchable(url, allow_private=False)
    assert refused.value.code == "blocked_address"


def test_nat64_address_of_a_public_ipv4_is_allowed():
    url_check_fetchable("http://[64:ff9b::5db8:d70e]/a.pdf", allow_private=False)
