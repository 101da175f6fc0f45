"""Reports: the terminal matrix and the results file. Each takes plain result dicts."""
