"""Root test configuration: shared server and database fixtures; suites add their own."""

pytest_plugins = ["tests.servers.fixtures", "tests.plugins.db"]
