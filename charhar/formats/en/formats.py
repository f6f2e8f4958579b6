"""English date formats in the institute's house style: “June 09, 2022”."""

DATE_FORMAT = "F d, Y"
DATETIME_FORMAT = "F d, Y, H:i"
SHORT_DATE_FORMAT = "M d, Y"
