"""Use cases over a database session. No Qt; results are plain dataclasses."""
