"""The agent report window ("View full report" on a dashboard card).

Only ``model`` is light; ``dialog`` imports pyqtgraph and is imported when a report opens.
"""
