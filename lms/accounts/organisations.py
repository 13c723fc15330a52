"""The organisations of the Midlands region that people belong to."""

from __future__ import annotations

# (code, name, kind). The codes are the ICB short names used in NHS data.
ORGANISATIONS: list[tuple[str, str, str]] = [
    ("BSOL", "Birmingham and Solihull", "ics"),
    ("BC", "The Black Country", "ics"),
    ("CW", "Coventry and Warwickshire", "ics"),
    ("HW", "Herefordshire and Worcestershire", "ics"),
    ("STW", "Shropshire, Telford and Wrekin", "ics"),
    ("SSOT", "Staffordshire and Stoke-on-Trent", "ics"),
    ("DDER", "Derby and Derbyshire", "ics"),
    ("LLR", "Leicester, Leicestershire and Rutland", "ics"),
    ("LINCS", "Lincolnshire", "ics"),
    ("NHANTS", "Northamptonshire", "ics"),
    ("NOTTS", "Nottingham and Nottinghamshire", "ics"),
    ("NHSE-MIDS", "NHS England Midlands regional team", "region"),
    ("SU", "The Strategy Unit", "strategy_unit"),
    ("OTHER", "Other or external", "other"),
]
