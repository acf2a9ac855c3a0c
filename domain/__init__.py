"""Community rules shared by handlers, scheduled jobs and the app's start (deadlines, overdue
reminders, notices, finding a named person, seeding from config): no chat, no transport."""
