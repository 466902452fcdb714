"""Imports fine, but the entry point names something that is not a command."""

not_a_command = "I am a string, not a click command"
