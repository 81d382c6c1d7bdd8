"""Analytics: daily performance snapshots, ROI by lead source, benchmarks (SPEC §10)."""
