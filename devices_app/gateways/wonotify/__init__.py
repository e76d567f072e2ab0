"""wonotify (Waziper lineage, PROTOCOLS.md §10)."""

from .adapter import WonotifyGateway

__all__ = ["WonotifyGateway"]
