"""Conversation flows: the report dialog and its interruptions."""
