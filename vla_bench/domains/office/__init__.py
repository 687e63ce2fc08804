"""Office domain: layout and tasks."""
