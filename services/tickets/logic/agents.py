"""Agents: everyone signed in may list them (to pick an assignee); admins invite them, disable and
enable them, and grant or take back the admin role. The helpdesk always keeps an active admin."""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.tickets.logic.agent_directory import Agent, AgentExists, UnknownAgent
from services.tickets.logic.dependencies import Dependencies
from shared.errors import Conflict, Forbidden, not_found
from shared.identity import Caller
from shared.storage import Page


@dataclass(frozen=True)
class Invitation:
    email: str
    name: str | None = None
    admin: bool = False


@dataclass(frozen=True)
class AgentChange:
    """Only what is not None changes."""

    disabled: bool | None = None
    admin: bool | None = None


def _admin_only(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("Only admins manage agents.")


def list_agents(deps: Dependencies, limit: int, cursor: str | None) -> Page[Agent]:
    return deps.agents.page(limit, cursor)


def invite_agent(invitation: Invitation, caller: Caller, deps: Dependencies) -> Agent:
    _admin_only(caller)
    email = invitation.email.lower()
    try:
        agent = deps.agents.invite(email, invitation.name)
    except AgentExists:
        raise Conflict(f"An agent with email {email!r} exists already.") from None
    if invitation.admin:
        deps.agents.set_admin(email, True)
        agent = replace(agent, admin=True)
    return agent


def change_agent(email: str, change: AgentChange, caller: Caller, deps: Dependencies) -> Agent:
    _admin_only(caller)
    agent = deps.agents.agent(email.lower())
    if agent is None:
        raise not_found("agent", email)
    changed = replace(
        agent,
        enabled=agent.enabled if change.disabled is None else not change.disabled,
        admin=agent.admin if change.admin is None else change.admin,
    )
    if _is_active_admin(agent) and not _is_active_admin(changed):
        _keep_another_active_admin(agent, deps)
    try:
        if changed.enabled != agent.enabled:
            deps.agents.set_enabled(agent.email, changed.enabled)
            if not changed.enabled:
                # They can no longer sign in to say they are away: out of the turns too.
                deps.repository.set_available(agent.email, False)
        if changed.admin != agent.admin:
            deps.agents.set_admin(agent.email, changed.admin)
    except UnknownAgent:  # removed from the pool since it was read
        raise not_found("agent", email) from None
    return changed


def _is_active_admin(agent: Agent) -> bool:
    return agent.admin and agent.status == "active"


def _keep_another_active_admin(agent: Agent, deps: Dependencies) -> None:
    # Read just before the change, not in one transaction with it (the user pool has none): two
    # admins taking each other's role at the same instant could both pass.
    if not any(_is_active_admin(a) and a.email != agent.email for a in deps.agents.admins()):
        raise Conflict(
            f"{agent.email} is the last active admin: make another agent an admin first, "
            "then disable this one or take back their role."
        )
