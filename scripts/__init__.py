"""Developer scripts; a package so that tests and the benchmarks import scripts.benchlib alike."""
