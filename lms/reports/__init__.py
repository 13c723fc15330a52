"""Dashboards for DSU leads, faculty and the region, and their spreadsheet downloads."""
