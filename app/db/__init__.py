"""SQLAlchemy models, column types, engines and database-side security."""
