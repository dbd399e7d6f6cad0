"""The reliability reports as Dagster sees them: one asset per report table, the HTML report,
the regression checks with their alerts, and the previews shown in the UI."""
