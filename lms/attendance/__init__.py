"""Attendance: registers, self check-in, online-meeting report import, completion."""

from lms.attendance.services import connect_feedback

connect_feedback()
