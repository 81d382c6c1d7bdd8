"""The PerfDesk window (Qt only). Talks to app.services through app.gui.operations."""
