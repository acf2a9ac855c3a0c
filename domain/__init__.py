"""Community rules shared by handlers and scheduled jobs (deadlines, overdue reminders): no chat, no transport."""
