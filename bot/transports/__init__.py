"""Transports: one protocol, several implementations (memory, webchat, wechaty, webhook)."""
