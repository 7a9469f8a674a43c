"""End-to-end tests: a package, so a test module imported by another (tests.e2e.test_telegram) is the
same module pytest runs, with one set of id counters."""
