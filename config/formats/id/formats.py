# Indonesian: "2 Des 2026", "18.43", "2 Des 2026, 18.43" (the time written with a dot, as
# Indonesian does).
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H.i"
DATETIME_FORMAT = "j M Y, H.i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H.i"
MONTH_DAY_FORMAT = "j M"
