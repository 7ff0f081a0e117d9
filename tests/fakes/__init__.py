"""Fakes of third-party services that the tests talk to over real HTTP on loopback."""
