"""The emulator as provisioning leaves it, kept once per settings and put back before each test.

Provisioning every stack costs more than most tests that need it; putting back what it left
(every moto backend's state, pickled) costs a few milliseconds, and nothing a test did survives.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import threading
import warnings
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend

from local_stack.provision import LOCAL_MAIL_DOMAIN, provision
from shared.aws import client
from shared.settings import Settings

# Where a state was taken from: the service's backends, an account, a region.
Place = tuple[BackendDict[Any], str, str]


class _Snapshot:
    def __init__(self) -> None:
        self.places: list[Place] = [
            (backends, account, region)
            for backends in BackendDict._instances  # type: ignore[misc]
            for account, regional in backends.items()
            for region in regional
        ]
        backends = [backends[account][region] for backends, account, region in self.places]
        self._index = {id(backend): i for i, backend in enumerate(backends)}
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
        # moto's queues hold a lock; a restored queue gets a new one
        pickler.dispatch_table = {
            **copyreg.dispatch_table,
            type(threading.Lock()): lambda _: (threading.Lock, ()),
            type(threading.RLock()): lambda _: (threading.RLock, ()),
        }
        pickler.persistent_id = self._backend_id  # type: ignore[method-assign]
        pickler.dump([backend.__dict__ for backend in backends])
        self._states = buffer.getvalue()

    def _backend_id(self, value: object) -> int | None:
        """A model that refers to a backend must refer to the live one once restored."""
        return self._index[id(value)] if isinstance(value, BaseBackend) else None

    def restore(self) -> None:
        """Onto an emulator no request reached since its reset."""
        backends = [backends[account][region] for backends, account, region in self.places]
        unpickler = pickle.Unpickler(io.BytesIO(self._states))  # noqa: S301 - taken above
        unpickler.persistent_load = backends.__getitem__  # type: ignore[method-assign]
        for backend, state in zip(backends, unpickler.load(), strict=True):
            backend.__dict__ = state


_provisioned: dict[Settings, _Snapshot] = {}


def provisioned(settings: Settings) -> None:
    """Bring the emulator, just reset, to what provisioning the stacks for `settings` leaves: by
    provisioning the first time these settings are seen in this process (a test may change them),
    then from what that left. If a request reached the emulator since its reset, it is provisioned
    for real, keeping what the request made, as provisioning does."""
    untouched = not BackendDict._instances  # type: ignore[misc]
    if untouched and settings in _provisioned:
        _provisioned[settings].restore()
        return
    with warnings.catch_warnings():  # resources moto's CloudFormation skips
        warnings.simplefilter("ignore")
        provision(settings)
    client("ses").verify_domain_identity(Domain=LOCAL_MAIL_DOMAIN)  # as the local stack does
    if untouched:
        _provisioned[settings] = _Snapshot()
