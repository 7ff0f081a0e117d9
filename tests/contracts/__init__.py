"""Contract suites: one set of tests held against both implementations of a storage Protocol, the
in-memory fake the logic tests use and the DynamoDB one under the emulator."""
