"""wonotify (Waziper lineage): its API client, webhook parser and adapter."""
