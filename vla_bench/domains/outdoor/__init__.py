"""Outdoor domain: layout and tasks."""
