"""Kitchen domain: layout and tasks."""
