"""Figures over submitted results: the rows each result leaves, campaign and
national aggregates, the medians shown to members, and the CSV export.

Used by the journey, the associations' pages and the staff's pages, so that
none of them reaches into another's internals.
"""
