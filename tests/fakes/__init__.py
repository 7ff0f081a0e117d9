"""Fakes of third-party services that the tests talk to over real HTTP on loopback, and of the
services' storage in memory for the logic tests."""
