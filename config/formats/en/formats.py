# English: "2 Dec 2026", "18:43", "2 Dec 2026, 18:43" (day before month, a 24-hour clock: how
# Sapa's agents in Indonesia read dates, whichever language they choose).
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
