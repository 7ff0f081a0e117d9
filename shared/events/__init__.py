"""Events between services: the envelope, the catalogue of event data, outbox and consumers."""
