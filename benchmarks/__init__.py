"""`make bench`: the project's ingestion and reports measured against a plain-Python baseline.

Every measured variant runs in a fresh subprocess (`measure.run_child`), so its peak RSS is its
own (`os.wait4` rusage) and import costs are not shared. See `__main__.py` for the CLI.
"""
