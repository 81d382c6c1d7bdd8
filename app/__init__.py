"""PerfDesk: a brokerage's performance desk."""

APP_NAME = "PerfDesk"
ORG_NAME = "PerfDesk"
__version__ = "0.1.0"
