"""Fonnte's device and account API refusals, explained for the admin (docs/ARCHITECTURE.md
"Fonnte's protocol"). Some carry a number of seconds; the explanation keeps it."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

# (pattern on the lower-cased reason, explanation with an optional {seconds}).
DEVICE_REASONS = [
    (r"^device already connect(ed)?$", _("The device is already connected to WhatsApp.")),
    (r"^device already disconnected$", _("The device is already disconnected.")),
    (r"^device not found$", _("Fonnte has no device with this token.")),
    (r"^invalid device$", _("Fonnte does not know this device (it may be deleted already).")),
    (r"^unknown user$", _("Fonnte refused the account token.")),
    (r"^webhook url", _("Fonnte refused a webhook address: it must be a public https URL.")),
    (
        r"^please wait (?P<seconds>\d+) seconds? before requesting new otp$",
        _("Fonnte sends a new code only every 10 minutes: wait {seconds} seconds and ask again."),
    ),
    (r"^otp haven'?t requested$", _("Ask Fonnte for a code first, then enter it.")),
    (
        r"^delete failed\. try again in (?P<seconds>\d+) seconds?$",
        _("Fonnte could not delete the device now: try again in {seconds} seconds."),
    ),
    (r"^incorrect otp$", _("The code is not the one Fonnte sent.")),
    (r"^too much free device$", _("The Fonnte account has the most free devices it may have.")),
    (r"^device already exist$", _("Fonnte already has a device with this number.")),
    (r"^error fetching rotator$|^no rotator yet$", _("Fonnte has no rotator for this device.")),
]
_COMPILED = [(re.compile(pattern), text) for pattern, text in DEVICE_REASONS]


def explain(reason: str) -> str | None:
    """The refusal in words (current language), or None for a reason Fonnte does not document."""
    lowered = reason.strip().lower()
    for pattern, text in _COMPILED:
        match = pattern.search(lowered)
        if match:
            return str(text).format(seconds=match.groupdict().get("seconds") or "")
    return None
