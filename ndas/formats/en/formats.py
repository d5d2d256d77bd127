"""The clinic's formats for English (en, en-gb): one way to show a date everywhere
(17 May 2023), DD/MM/YYYY to type one (ISO 2023-05-17 and 17 May 2023
accepted too), and 24-hour
times with their zone (14:05 GMT). Another locale (LANGUAGE_CODE) takes Django's
formats for it unless a module of its own is added beside this one."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i T"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday

# The first of each is how a form shows the value it holds.
DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 17/05/2023
    "%Y-%m-%d",  # 2023-05-17
    "%d.%m.%Y",  # 17.05.2023
    "%d-%m-%Y",  # 17-05-2023
    "%d %b %Y",  # 17 May 2023, as dates are shown
    "%d %B %Y",  # 17 September 2023
]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y",
    "%Y-%m-%d",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
