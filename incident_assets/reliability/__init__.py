"""Reliability reports: SQL tables computed inside the destination, plus an HTML report."""
