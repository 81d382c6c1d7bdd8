"""The toolbar's notification bell, its list, and a broker's notification settings (SPEC §3)."""
