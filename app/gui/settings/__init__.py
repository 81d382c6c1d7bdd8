"""Settings: where the data lives (local file or shared server) and office-wide choices."""
