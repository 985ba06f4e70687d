"""A turn's replies held back until the state that produced them is saved.

Teams shows what the bot says at once; if the bot then died, or lost the race to save its
state to another replica, the user would read question N+1 while the bot still waits for
answer N. Held replies go out only after the save. A turn that lost the race is run again
on the state the winner saved, and only then says anything.

The SDK's own buffering does the holding: with delivery mode «expectReplies» a `TurnContext`
keeps what the turn sends in `buffered_reply_activities` instead of posting it. The mode is
set for the turn's run and put back before the adapter reads it, so the connector sees an
ordinary turn.
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes


class HeldReplies:
    def __init__(self, turn_context: TurnContext) -> None:
        self._context = turn_context
        self._mode: str | None = None

    def __enter__(self) -> HeldReplies:
        self._mode = self._context.activity.delivery_mode
        self._context.activity.delivery_mode = DeliveryModes.expect_replies
        self._context.buffered_reply_activities.clear()
        return self

    def __exit__(self, *_: object) -> None:
        self._context.activity.delivery_mode = self._mode

    def take(self) -> list[Activity]:
        """What the turn said so far, and forget it (a turn run again says it anew)."""
        held = [
            activity
            for activity in self._context.buffered_reply_activities
            if activity.type != ActivityTypes.trace
        ]
        self._context.buffered_reply_activities.clear()
        return held


async def release(turn_context: TurnContext, held: list[Activity]) -> None:
    """Send what was held, in order, through the adapter (never through the turn's handlers
    again: they already ran when the turn said it)."""
    if held:
        await turn_context.adapter.send_activities(turn_context, held)
