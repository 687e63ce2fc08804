"""Workshop domain: layout and tasks."""
