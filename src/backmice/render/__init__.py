"""Assessment → text for people: JSON, terminal (Rich), clinician note (Markdown), patient wording.

Shared by the CLI and the web pages; no I/O here, every function returns a value.
"""
