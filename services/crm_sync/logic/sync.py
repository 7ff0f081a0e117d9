"""The sync engine: reads a CRM through its connector and tells the helpdesk what changed.

It owns what connectors do not: matching (by CRM id; on first sight, by address, and only when
one helpdesk contact holds the addresses), the order of things (a record is announced only when
its CRM change time moves forward, so a replayed or late change never rolls a contact back),
checkpoints (saved after every page, so a crash or an outage resumes where it stopped), and
waiting out rate limits. What it decides leaves as events, through the outbox, in the same
write as the link that remembers it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from services.crm_sync.logic.connector import (
    Change,
    CrmError,
    CrmRecord,
    CrmUnavailable,
    RateLimited,
)
from services.crm_sync.logic.dependencies import Connector, SyncRepository
from services.crm_sync.logic.repository import (
    Ambiguity,
    Checkpoint,
    Counts,
    Link,
    LinkWrite,
    Run,
    StaleLink,
    Window,
)
from shared.clock import Clock, isoformat
from shared.events.catalogue import CrmContactDeleted, CrmContactMerged, CrmContactUpserted
from shared.events.envelope import EventData, OutgoingEvent
from shared.storage import retry_on_stale

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_WAIT_SECONDS = 10.0  # a longer Retry-After stops the run; the next one resumes
MAX_WAITS = 3  # per call
DAILY_LIMIT_PAUSE = timedelta(hours=1)  # when the CRM does not say how long
SMALLEST_WINDOW = timedelta(milliseconds=1)  # the CRM's time resolution: no split below it
WRITE_RETRIES = 3
# Longer than any run may last (a function runs at most 30 s); a run that dies holding the lease
# holds up the next ones no longer than this.
RUN_LEASE = timedelta(minutes=2)
RECORDS_PER_WRITE = 50  # a transaction holds 100 items: a record's link and its event


@dataclass(frozen=True)
class SyncSettings:
    overlap: timedelta = timedelta(minutes=5)
    page_budget: int = 10  # pages read per run; a run that has more to do says so


class SyncEngine:
    def __init__(
        self,
        connector: Connector,
        repository: SyncRepository,
        clock: Clock,
        sleep: Callable[[float], None],
        settings: SyncSettings = SyncSettings(),
    ) -> None:
        self._crm = connector
        self._repository = repository
        self._clock = clock
        self._sleep = sleep
        self._settings = settings
        self._provider = connector.provider

    # --- runs ---------------------------------------------------------------------------------

    def run(self, full: bool = False) -> Run:
        """One bounded run: the full pass while it is unfinished, then the changes since the
        checkpoint. `outcome` is `more` when the page budget ran out before the work did, and
        `busy` when another run was under way (two would read the same pages and save each
        other's checkpoints over one another); a busy run reads and saves nothing."""
        now = self._clock.now()
        run = Run(kind="full" if full else "sync", started_at=now)
        holder = uuid.uuid4().hex
        if not self._repository.take_lease(self._provider, holder, now + RUN_LEASE):
            run.outcome, run.finished_at = "busy", now
            logger.info("another crm sync run is under way; this one stands down")
            return run
        try:
            return self._run(run, full)
        finally:
            self._repository.release_lease(self._provider, holder)

    def _run(self, run: Run, full: bool) -> Run:
        now = run.started_at
        checkpoint = self._repository.checkpoint(self._provider)
        if checkpoint.resume_after is not None and now < checkpoint.resume_after and not full:
            run.outcome, run.error = "daily_limit", "waiting for the CRM's daily limit to reset"
            return self._finish(run)
        checkpoint = replace(checkpoint, resume_after=None)
        if full or checkpoint.pass_started_at is None:
            checkpoint = replace(checkpoint, phase="live", cursor=None, pass_started_at=now)
        budget = self._settings.page_budget
        try:
            checkpoint, budget = self._full_pass(checkpoint, budget, run.counts)
            if checkpoint.phase == "done":
                checkpoint, budget = self._incremental(checkpoint, budget, run.counts)
            done = checkpoint.phase == "done" and checkpoint.window is None
            run.outcome = "ok" if done else "more"
        except RateLimited as limited:
            run.outcome, run.error = (
                ("daily_limit" if limited.daily else "rate_limited"),
                str(limited),
            )
            if limited.daily:
                pause = timedelta(seconds=limited.retry_after) or DAILY_LIMIT_PAUSE
                checkpoint = self._repository.checkpoint(self._provider)
                self._repository.save_checkpoint(
                    self._provider, replace(checkpoint, resume_after=self._clock.now() + pause)
                )
        except CrmUnavailable as outage:
            run.outcome, run.error = "unavailable", str(outage)
        except CrmError as error:
            logger.exception("the CRM answered what we cannot use")
            run.outcome, run.error = "failed", str(error)
        return self._finish(run)

    def _finish(self, run: Run) -> Run:
        run.finished_at = self._clock.now()
        self._repository.save_run(self._provider, run)
        logger.info(
            "crm sync run",
            extra={"outcome": run.outcome, "counts": vars(run.counts), "error": run.error},
        )
        return run

    def _full_pass(
        self, checkpoint: Checkpoint, budget: int, counts: Counts
    ) -> tuple[Checkpoint, int]:
        """Every record, then every archived one, a page at a time from the stored cursor."""
        while checkpoint.phase != "done" and budget > 0:
            archived = checkpoint.phase == "archived"
            page = self._call(partial(self._crm.list_contacts, checkpoint.cursor, archived))
            budget -= 1
            counts.pages += 1
            self.apply_records(page.records, counts)
            if page.next_cursor is not None:
                checkpoint = replace(checkpoint, cursor=page.next_cursor)
            elif not archived:
                checkpoint = replace(checkpoint, phase="archived", cursor=None)
            else:
                # Whatever changed while the pass ran is read by the incremental polls.
                started = checkpoint.pass_started_at
                mark = started if checkpoint.mark is None or started is None else checkpoint.mark
                checkpoint = replace(checkpoint, phase="done", cursor=None, mark=mark)
            self._repository.save_checkpoint(self._provider, checkpoint)
        return checkpoint, budget

    def _incremental(
        self, checkpoint: Checkpoint, budget: int, counts: Counts
    ) -> tuple[Checkpoint, int]:
        """The records changed since the mark (less the overlap), in windows small enough for
        the CRM's cap on one query's results."""
        if checkpoint.window is None:
            now = self._clock.now()
            assert checkpoint.mark is not None  # set when the full pass finished
            start = checkpoint.mark - self._settings.overlap
            checkpoint = replace(checkpoint, window=Window(start, now), target=now)
        window, target = checkpoint.window, checkpoint.target
        assert window is not None
        assert target is not None
        while budget > 0:
            page = self._call(partial(self._crm.changes, window.start, window.end, window.cursor))
            budget -= 1
            counts.pages += 1
            too_many = (page.total or 0) > self._crm.window_limit
            if window.cursor is None and too_many and window.end - window.start > SMALLEST_WINDOW:
                window = Window(window.start, window.start + (window.end - window.start) / 2)
                continue  # read nothing of it: the first half is asked for instead
            if too_many and window.cursor is None:
                logger.warning(
                    "more changes in one instant than the CRM can list; the next full pass "
                    "reads the rest",
                    extra={"at": isoformat(window.start), "total": page.total},
                )
            self.apply_records(page.records, counts)
            if page.next_cursor is not None:
                # Saved as "from the last record read": a cursor is an offset into a result
                # that may shift before the next run, a change time is not.
                window = Window(window.start, window.end, page.next_cursor)
                saved = Window(page.records[-1].updated_at, window.end) if page.records else window
                checkpoint = replace(checkpoint, window=saved)
            elif window.end < target:
                window = Window(window.end, target)
                checkpoint = replace(checkpoint, window=window, mark=window.start)
            else:
                checkpoint = replace(checkpoint, window=None, target=None, mark=window.end)
            self._repository.save_checkpoint(self._provider, checkpoint)
            if checkpoint.window is None:
                break
        return checkpoint, budget

    def _call(self, request: Callable[[], T]) -> T:
        """A request to the CRM, waiting out short rate limits; longer ones stop the run."""
        for attempt in range(MAX_WAITS + 1):
            try:
                return request()
            except RateLimited as limited:
                if limited.daily or limited.retry_after > MAX_WAIT_SECONDS or attempt == MAX_WAITS:
                    raise
                logger.info("rate limited by the CRM", extra={"wait": limited.retry_after})
                self._sleep(limited.retry_after)
        raise AssertionError("unreachable")

    # --- webhooks -----------------------------------------------------------------------------

    def apply_changes(self, changes: Sequence[Change]) -> Counts:
        """Apply what webhooks announced. Records are read as they now are, so the order the
        announcements arrive in does not matter."""
        counts = Counts()
        to_read: list[str] = []
        for change in changes:
            if change.kind == "delete":
                self.delete(change.crm_id, change.occurred_at, counts)
                continue
            if change.kind == "merge":
                for merged_id in change.merged_ids:
                    if merged_id != change.crm_id:
                        self._merge(merged_id, change.crm_id, change.occurred_at, counts)
            to_read.append(change.crm_id)
        wanted = list(dict.fromkeys(to_read))
        found = self._call(lambda: self._crm.get_contacts(wanted)) if wanted else {}
        for crm_id in wanted:
            record = found.get(crm_id)
            if record is None:
                continue  # gone since: its deletion is announced (or reconciled) on its own
            if record.crm_id != crm_id:  # merged away meanwhile: the survivor answered
                self._merge(crm_id, record.crm_id, record.updated_at, counts)
        self.apply_records(list({r.crm_id: r for r in found.values()}.values()), counts)
        return counts

    # --- applying records ---------------------------------------------------------------------

    def apply_records(self, records: Sequence[CrmRecord], counts: Counts) -> None:
        """Apply a page: the plain updates are written together (a few writes per page, not one
        per record); a batch that raced with another writer is applied record by record."""
        known = self._repository.links(self._provider, [r.crm_id for r in records])
        batch: list[tuple[CrmRecord, Link | None]] = []
        for record in records:
            for merged_id in record.merged_ids:
                self._merge(merged_id, record.crm_id, record.updated_at, counts)
            link = known.get(record.crm_id)
            if record.archived:
                self.delete(record.crm_id, record.updated_at, counts)
            elif link is not None and record.updated_at <= link.updated_at:
                counts.unchanged += 1
            elif link is None and self._ambiguous(record):
                counts.ambiguous += 1
            else:
                batch.append((record, link))
        for start in range(0, len(batch), RECORDS_PER_WRITE):
            chunk = batch[start : start + RECORDS_PER_WRITE]
            now = self._clock.now()
            writes = [
                LinkWrite(
                    Link(r.crm_id, r.updated_at, _next_version(link)),
                    link,
                    [OutgoingEvent.of(self._upserted(r), now)],
                )
                for r, link in chunk
            ]
            try:
                self._repository.save_links(self._provider, writes)
                counts.upserted += len(chunk)
            except StaleLink:
                for record, _ in chunk:
                    self._upsert(record, counts)

    def _upserted(self, record: CrmRecord) -> CrmContactUpserted:
        return CrmContactUpserted(
            provider=self._provider,
            crm_id=record.crm_id,
            url=record.url or self._crm.record_url(record.crm_id),
            emails=list(record.emails),
            name=record.name,
            phone=record.phone,
            organisation=record.organisation,
            updated_at=isoformat(record.updated_at),
        )

    def _upsert(self, record: CrmRecord, counts: Counts) -> None:
        """Apply one record on its link as stored now (someone else wrote it meanwhile)."""

        def attempt() -> None:
            link = self._link(record.crm_id)
            if link is not None and record.updated_at <= link.updated_at:
                counts.unchanged += 1
                return
            if link is None and self._ambiguous(record):
                counts.ambiguous += 1
                return
            new = Link(record.crm_id, record.updated_at, _next_version(link))
            self._save(new, link, self._upserted(record))
            counts.upserted += 1

        self._retry_on_stale(attempt, record.crm_id)

    def delete(self, crm_id: str, at: datetime, counts: Counts) -> None:
        """The record was deleted in the CRM at `at`: the link is archived (the contact stays)."""

        def attempt() -> None:
            link = self._link(crm_id)
            if link is not None and (link.archived or at < link.updated_at):
                counts.unchanged += 1  # deleted already, or restored and changed since
                return
            # Unknown here: only remembered, so a late announcement of its past is not applied.
            event = (
                None
                if link is None
                else CrmContactDeleted(
                    provider=self._provider, crm_id=crm_id, deleted_at=isoformat(at)
                )
            )
            self._save(Link(crm_id, at, _next_version(link), archived=True), link, event)
            counts.deleted += event is not None

        self._retry_on_stale(attempt, crm_id)

    def _merge(self, merged_id: str, survivor_id: str, at: datetime, counts: Counts) -> None:
        """`merged_id` became part of `survivor_id`: its link is re-pointed."""

        def attempt() -> None:
            link = self._link(merged_id)
            if link is not None and link.merged_into == survivor_id:
                return
            event = (
                None
                if link is None
                else CrmContactMerged(
                    provider=self._provider,
                    crm_id=merged_id,
                    surviving_crm_id=survivor_id,
                    merged_at=isoformat(at),
                )
            )
            new = Link(
                merged_id,
                max(at, link.updated_at) if link else at,
                _next_version(link),
                archived=True,
                merged_into=survivor_id,
            )
            self._save(new, link, event)
            counts.merged += event is not None

        self._retry_on_stale(attempt, merged_id)

    def _retry_on_stale(self, attempt: Callable[[], None], crm_id: str) -> None:
        """Run `attempt` again on the link as stored while other writes of it come between; a
        record that keeps changing is left to the next run (or the next delivery of its change)."""
        try:
            retry_on_stale(attempt, StaleLink, StaleLink(crm_id), WRITE_RETRIES)
        except StaleLink:
            logger.warning(
                "CRM record kept changing; the next run applies it", extra={"crm_id": crm_id}
            )

    def _ambiguous(self, record: CrmRecord) -> bool:
        """On first sight a record is matched by address: several contacts holding its
        addresses is reported for a person to settle, never guessed."""
        owners = self._repository.email_owners([e.lower() for e in record.emails])
        contact_ids = sorted({contact for found in owners.values() for contact in found})
        if len(contact_ids) <= 1:
            return False
        self._repository.report_ambiguity(
            self._provider,
            Ambiguity(record.crm_id, record.emails, tuple(contact_ids), self._clock.now()),
        )
        return True

    def _link(self, crm_id: str) -> Link | None:
        return self._repository.links(self._provider, [crm_id]).get(crm_id)

    def _save(self, link: Link, previous: Link | None, event: EventData | None) -> None:
        """Raises StaleLink when `previous` is no longer what is stored."""
        now = self._clock.now()
        events = [] if event is None else [OutgoingEvent.of(event, now)]
        self._repository.save_links(self._provider, [LinkWrite(link, previous, events)])


def _next_version(link: Link | None) -> int:
    return 1 if link is None else link.version + 1
