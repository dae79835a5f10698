"""How a caller waits for its item to be committed, the same for the local and the remote writer.

A writer (`groupcommit.GroupCommit` in this process, `writerprocess.RemoteCommit` in the writer
process) only has to offer `submit_then(item, then)`: write the item and call `then(error or
None)` once its batch is committed. `Submits` turns that into a call that blocks a thread and one
that a coroutine awaits, holding no thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Generic, TypeVar

T = TypeVar("T")
Then = Callable[[BaseException | None], None]


class Submits(Generic[T]):
    """`submit` and `submit_async` for a writer that offers `submit_then`."""

    def submit_then(self, item: T, then: Then) -> None:
        raise NotImplementedError

    def submit(self, item: T) -> None:
        """Record `item`; return once it is committed, or raise the error that kept it out."""
        done, outcome = threading.Event(), []

        def then(error: BaseException | None) -> None:
            outcome.append(error)
            done.set()

        self.submit_then(item, then)
        done.wait()
        if outcome[0] is not None:
            raise outcome[0]

    async def submit_async(self, item: T) -> None:
        """`submit` for a coroutine: the event loop serves other requests while the batch commits.

        A request that awaits here holds no thread: under load, the writer competes for the
        interpreter lock with the requests actually computing, not with a thread per waiting
        request (each of which it would wait behind, up to the switch interval).
        """
        answered: Future[None] = Future()

        def then(error: BaseException | None) -> None:
            try:
                if error is None:
                    answered.set_result(None)
                else:
                    answered.set_exception(error)
            except InvalidStateError:  # the request was cancelled (the client left): the item was still written
                pass

        self.submit_then(item, then)
        await asyncio.wrap_future(answered)
