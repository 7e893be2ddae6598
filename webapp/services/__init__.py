"""Business logic: functions that take a session, flush, and raise named errors."""
