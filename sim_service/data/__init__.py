"""Price datasets: the bundled default series, folders of per-token files, in-memory arrays."""
