"""The analytics pages: trends from the daily snapshots, ROI by lead source, benchmarks."""
