"""Version numbers, in a module of their own so that any module can import them cheaply and without a cycle."""

__version__ = "0.1.0"
REPORT_SCHEMA_VERSION = 5  # the JSON report format (threatmodel/report/model.py); bump on incompatible changes
