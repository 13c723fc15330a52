"""Events: webinars, network series, the INSIGHT festival; calendars and reminders."""
