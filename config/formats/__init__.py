"""Date and time formats per language (FORMAT_MODULE_PATH): one way of writing a date, a time
and a date with time in each language, used by every date Sapa shows (the workspace's
`chats_dates` filters, the admin, socket pushes). Django's own locales mix several (English
"12/02/2026 6:43 p.m." beside "Dec. 2, 2026"; Indonesian "02-12-2026 18.46" beside
"2 Des. 2026"). Only the display formats are set here; input formats stay Django's."""
