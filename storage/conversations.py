"""Where the bot can write to people later: conversation references, and the one welcome."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.models import ConversationRef
from storage.sql import insert_for
from storage.types import utcnow


@dataclass(frozen=True)
class ConversationAddress:
    conversation_id: str
    conversation_type: str
    person_aad_object_id: str | None
    channel_id: str
    service_url: str
    tenant_id: str | None
    bot_id: str


async def remember_conversation(session: AsyncSession, address: ConversationAddress) -> None:
    """Create or refresh the reference; Teams may move a conversation to another service URL."""
    values = asdict(address)
    now = utcnow()
    await session.execute(
        insert_for(session, ConversationRef)
        .values(**values, updated_at=now)
        .on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={**{k: v for k, v in values.items() if k != "conversation_id"}, "updated_at": now},
        )
    )


async def claim_welcome(session: AsyncSession, *, conversation_id: str) -> bool:
    """True exactly once per conversation: for the caller that should send the welcome."""
    result = await session.execute(
        update(ConversationRef)
        .where(
            col(ConversationRef.conversation_id) == conversation_id,
            col(ConversationRef.welcomed_at).is_(None),
        )
        .values(welcomed_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def personal_conversation_of(
    session: AsyncSession, *, aad_object_id: str
) -> ConversationAddress | None:
    """The person's 1:1 chat with the bot, for proactive messages."""
    row = (
        (
            await session.execute(
                select(ConversationRef)
                .where(
                    col(ConversationRef.person_aad_object_id) == aad_object_id,
                    col(ConversationRef.conversation_type) == "personal",
                )
                .order_by(col(ConversationRef.updated_at).desc())
            )
        )
        .scalars()
        .first()
    )
    return address_of_ref(row) if row else None


def address_of_ref(ref: ConversationRef) -> ConversationAddress:
    return ConversationAddress(
        conversation_id=ref.conversation_id,
        conversation_type=ref.conversation_type,
        person_aad_object_id=ref.person_aad_object_id,
        channel_id=ref.channel_id,
        service_url=ref.service_url,
        tenant_id=ref.tenant_id,
        bot_id=ref.bot_id,
    )


async def latest_personal_conversation(session: AsyncSession) -> ConversationAddress | None:
    """The 1:1 chat someone most recently wrote in: its connector (service URL), tenant and
    bot id are where the bot opens a chat with someone who has never written to it."""
    row = (
        await session.scalars(
            select(ConversationRef)
            .where(
                col(ConversationRef.conversation_type) == "personal",
                col(ConversationRef.tenant_id).is_not(None),
            )
            .order_by(col(ConversationRef.updated_at).desc())
            .limit(1)
        )
    ).first()
    return address_of_ref(row) if row else None
