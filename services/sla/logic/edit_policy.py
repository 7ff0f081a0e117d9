"""Reading and changing the SLA policy. Everyone signed in may read it (agents see the targets
they work to); only admins change it. A change is a new version, in force from the moment it is
saved: open timers keep the time they have run and count under the new targets from then on."""

from __future__ import annotations

from services.sla.logic.dependencies import Dependencies, StalePolicy
from services.sla.logic.policy import PolicyHistory, PolicyRules, PolicyVersion
from shared.errors import Conflict, Forbidden
from shared.identity import Caller


def policy_history(deps: Dependencies) -> PolicyHistory:
    return PolicyHistory(deps.policies.versions())


def change_policy(rules: PolicyRules, caller: Caller, deps: Dependencies) -> PolicyVersion:
    if not caller.is_admin:
        raise Forbidden("Only admins change SLA policies.")
    current = policy_history(deps).current
    version = PolicyVersion(
        version=current.version + 1,
        rules=rules,
        effective_from=deps.clock.now(),
        changed_by=caller.email,
    )
    try:
        deps.policies.add(version)
    except StalePolicy:
        raise Conflict("The policy changed at the same time; read it again and retry.") from None
    return version
