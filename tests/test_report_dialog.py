"""The report conversation, message by message, through the real handler and SQL state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from domain.oslo_time import OSLO
from storage.db import SessionFactory
from storage.models import Department, Person, Report, ReportEvent, Unit
from tests.categories import category
from tests.chat import EN, NB, NN, Chat, buttons, card_words, first_receipt, make_bot

DESCRIPTION = "Ein SFO-tilsett skli på glatt skuleplass som ikkje var strødd, og slo seg."


async def answer_up_to_summary(chat: Chat) -> str:
    """A whole report in Nynorsk, typed; returns what the bot shows as the summary."""
    assert NN("report.ask_description") in await chat.says("meld avvik")
    assert NN("report.ask_harm") in await chat.says(DESCRIPTION)
    assert NN("report.ask_category") in await chat.says(NN("harm.injury"))
    assert NN("report.ask_severity") in await chat.says("2")  # the second category: fall
    assert NN("report.ask_unit") in await chat.says("Middels")
    assert NN("report.ask_location") in await chat.says("Vossevangen skule")
    assert NN("report.ask_when") in await chat.says("Skuleplassen")
    assert NN("report.ask_immediate_action") in await chat.says("i dag 13:15")
    assert NN("report.ask_suggested_measure") in await chat.says("Strødde plassen med sand.")
    return await chat.says("Hopp over")


async def stored_reports(sessions: SessionFactory) -> list[Report]:
    async with sessions() as session:
        return list((await session.scalars(select(Report))).all())


async def test_a_whole_report_in_nynorsk(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    summary = await answer_up_to_summary(chat)
    assert NN("report.summary_title") in summary
    assert f"**{NN('field.description')}:** {DESCRIPTION}" in summary
    assert f"**{NN('field.category')}:** {category('fall_accident').label('nn')}" in summary
    assert f"**{NN('field.when')}:** 24.11.2026 kl. 13:15" in summary
    assert f"**{NN('field.suggested_measure')}:** {NN('field.not_given')}" in summary

    receipt = await chat.says("Send inn")
    assert receipt == first_receipt("2026-0001")

    [report] = await stored_reports(sessions)
    assert report.case_number == "2026-0001"
    assert report.description == DESCRIPTION
    assert (report.harm, report.category, report.severity) == ("injury", "fall_accident", "medium")
    assert (report.unit_id, report.unit_text, report.location) == (
        None,
        "Vossevangen skule",
        "Skuleplassen",
    )
    assert report.occurred_at == datetime(2026, 11, 24, 13, 15, tzinfo=OSLO)
    assert report.immediate_action == "Strødde plassen med sand."
    assert report.suggested_measure is None
    assert report.status == "new"
    assert report.language == "nn"

    # The dialog is over: the next message is outside it.
    assert NN("menu.not_understood") in await chat.says("takk")


async def test_the_steps_offer_buttons_teams_can_show(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    [harm] = await chat.say(DESCRIPTION)
    assert buttons(harm) == [NN("harm_short.injury"), NN("harm_short.near_miss")]
    [asked] = await chat.say(NN("harm.near_miss"))
    # Nine categories: numbered in the text, since Teams shows at most three suggested actions,
    # and as paragraphs, since Teams on phones does not render markdown lists.
    assert f"\n\n**1** · {category('violence_threats').label('nn')}\n\n" in asked.text
    assert asked.text.endswith(f"**9** · {category('other').label('nn')}")
    assert not buttons(asked)
    [severity] = await chat.say("Vald og truslar mot tilsette")
    assert buttons(severity) == [NN("severity.low"), NN("severity.medium"), NN("severity.high")]
    await chat.say("Høg")
    await chat.say("Bu 3")
    [when] = await chat.say("Stova")
    assert buttons(when) == [NN("when.now"), NN("when.today"), NN("when.yesterday")]
    for suggested in (harm, severity, when):
        assert len(buttons(suggested)) <= 3


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("kort", NN("problem.too_short", min=10)),
        ("x" * 4001, NN("problem.too_long", length=4001, max=4000)),
        ("😡🤬😡🤬😡🤬😡🤬😡🤬", NN("problem.no_words")),
        ("Glatt golv\x07 i gangen ved kjøkkenet", NN("problem.control_chars")),
        ("   ", NN("problem.empty")),
    ],
)
async def test_bad_description_is_explained_and_the_step_stays(
    sessions: SessionFactory, message: str, expected: str
) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    assert await chat.says(message) == expected
    assert NN("report.ask_harm") in await chat.says(DESCRIPTION)


async def test_an_attachment_alone_is_explained(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    picture = {"contentType": "image/png", "contentUrl": "https://example.invalid/a.png"}
    assert await chat.says(None, attachments=[picture]) == NN("problem.attachment_only")


async def test_bad_choices_and_times_are_explained(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say(DESCRIPTION)
    await chat.say("Skade")
    assert NN("problem.choice") in await chat.says("Romvesen")  # unknown category
    await chat.say("Fall, snubling og ulukke")
    assert NN("problem.choice") in await chat.says("katastrofal")  # unknown severity
    assert NN("report.ask_unit") in await chat.says("Høy")  # Bokmål label is understood
    await chat.say("Vossevangen skule")
    await chat.say("Skuleplassen")
    assert NN("problem.when_future") in await chat.says("25.11.2026 08:00")
    assert NN("problem.when_too_old") in await chat.says("1.1.1999")
    assert NN("problem.when_invalid") in await chat.says("30.02.2026")
    assert NN("problem.when_unparsed") in await chat.says("ved lunsjtid")
    assert NN("report.ask_immediate_action") in await chat.says("i går")
    assert await stored_reports(sessions) == []


async def test_help_explains_the_step_and_what_an_avvik_is(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say(DESCRIPTION)
    replies = await chat.say("hjelp")
    assert NN("help.step.harm") in replies[0].text
    assert NN("help.definition") in replies[0].text
    assert "SFO-tilsett sklir på glatt skuleplass" in replies[0].text
    assert replies[-1].text == NN("report.ask_harm")  # and the question again
    assert NN("report.ask_category") in await chat.says("Nestenulukke")


async def test_cancel_asks_first_and_can_be_taken_back(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say(DESCRIPTION)
    [question] = await chat.say("avbryt")
    assert question.text == NN("report.ask_cancel")
    assert buttons(question) == [NN("report.yes_cancel"), NN("report.no_continue")]
    replies = await chat.say(NN("report.no_continue"))
    assert [r.text for r in replies] == [NN("report.continuing"), NN("report.ask_harm")]

    await chat.say("avbryt")
    assert await chat.says(NN("report.yes_cancel")) == NN("report.cancelled")
    assert await stored_reports(sessions) == []
    assert NN("menu.nothing_to_cancel") in await chat.says("avbryt")


async def test_start_over_forgets_the_answers(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say(DESCRIPTION)
    await chat.say("Skade")
    replies = await chat.says("start på nytt")
    assert NN("report.restarting") in replies
    assert NN("report.ask_description") in replies
    assert NN("report.ask_harm") in await chat.says("Brannalarmen gjekk utan grunn i natt.")


async def test_change_a_field_from_the_summary(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await answer_up_to_summary(chat)
    edit_menu = await chat.says("Endre")
    assert f"**5** · {NN('field.unit')}" in edit_menu
    assert NN("report.ask_severity") in await chat.says(NN("field.severity"))
    summary = await chat.says("Høg")
    assert f"**{NN('field.severity')}:** {NN('severity.high')}" in summary
    assert f"**{NN('field.unit')}:** Vossevangen skule" in summary  # the rest is kept
    await chat.say("Send inn")
    [report] = await stored_reports(sessions)
    assert report.severity == "high"


async def test_only_the_first_typed_report_offers_the_training(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await answer_up_to_summary(chat)
    assert await chat.says("Send inn") == first_receipt("2026-0001")
    await answer_up_to_summary(chat)
    assert await chat.says("Send inn") == NN("report.receipt", case="2026-0002")


async def test_cancel_from_the_summary_then_continue_returns_to_it(
    sessions: SessionFactory,
) -> None:
    chat = Chat(make_bot(sessions))
    await answer_up_to_summary(chat)
    assert await chat.says(NN("report.cancel")) == NN("report.ask_cancel")
    back = await chat.says(NN("report.no_continue"))
    assert NN("report.summary_title") in back
    assert await chat.says("Send inn") == first_receipt("2026-0001")


async def test_a_restart_mid_report_resumes_at_the_same_step(sessions: SessionFactory) -> None:
    first_process = Chat(make_bot(sessions))
    await first_process.say("meld avvik")
    await first_process.say(DESCRIPTION)
    await first_process.say("Skade")
    await first_process.say("2")

    # A new bot on the same database, as after a crash: nothing was kept in memory.
    second_process = Chat(make_bot(sessions))
    assert NN("report.ask_unit") in await second_process.says("Låg")
    await second_process.say("Vossevangen skule")
    await second_process.say("Skuleplassen")
    await second_process.say("no nettopp")
    await second_process.say("Hopp over")
    summary = await second_process.says("Hopp over")
    assert DESCRIPTION in summary
    assert await second_process.says("Send inn") == first_receipt("2026-0001")
    [report] = await stored_reports(sessions)
    assert (report.category, report.severity) == ("fall_accident", "low")


async def test_bokmal_and_english_follow_teams_and_the_language_command(
    sessions: SessionFactory,
) -> None:
    bokmal = Chat(make_bot(sessions), locale="nb-NO", aad_object_id="aad-ola", user_id="29:ola")
    assert NB("report.ask_description") in await bokmal.says("meld avvik")
    await bokmal.say("avbryt")
    await bokmal.say("Ja, avbryt")
    assert await bokmal.says("language english") == EN("language.switched")
    # The choice is kept in the database: a new process still speaks English to Ola.
    again = Chat(make_bot(sessions), locale="nb-NO", aad_object_id="aad-ola", user_id="29:ola")
    assert EN("report.ask_description") in await again.says("report")
    async with sessions() as session:
        ola = (await session.scalars(select(Person).where(Person.aad_object_id == "aad-ola"))).one()
    assert ola.language == "en"  # kept on the person, for messages sent outside this chat


async def test_unknown_language_is_answered(sessions: SessionFactory) -> None:
    assert await Chat(make_bot(sessions)).says("språk klingon") == NN("language.unknown")


async def test_a_known_reporter_picks_their_own_unit(sessions: SessionFactory) -> None:
    async with sessions() as session, session.begin():
        department = Department(name="Oppvekst")
        session.add(department)
        await session.flush()
        unit = Unit(department_id=department.id, name="Vossevangen skule", headcount=40)
        session.add(unit)
        await session.flush()
        session.add(Person(aad_object_id="aad-kari", name="Kari", unit_id=unit.id))
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say(DESCRIPTION)
    await chat.say("Skade")
    await chat.say("2")
    [question] = await chat.say("Låg")
    assert question.text == NN("report.ask_unit_confirm", unit="Vossevangen skule")
    assert buttons(question) == ["Vossevangen skule", NN("report.other_unit")]
    assert NN("report.ask_location") in await chat.says("Vossevangen skule")
    for answer in ("Skuleplassen", "i går", "Hopp over", "Hopp over", "Send inn"):
        await chat.say(answer)
    [report] = await stored_reports(sessions)
    assert (report.unit_id, report.unit_text) == (unit.id, None)


async def test_a_typed_unit_name_is_matched_to_the_organisation(sessions: SessionFactory) -> None:
    async with sessions() as session, session.begin():
        department = Department(name="Helse og omsorg")
        session.add(department)
        await session.flush()
        unit = Unit(department_id=department.id, name="Bu- og miljøteneste aust")
        session.add(unit)
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say("Bebuar spytta og sparka tilsett under morgonstell.")
    await chat.say("Skade")
    await chat.say("1")
    await chat.say("Middels")
    for answer in ("bu- og MILJØTENESTE aust", "Bebuar sitt rom", "no nettopp", "Hopp over"):
        await chat.say(answer)
    summary = await chat.says("Hopp over")
    assert f"**{NN('field.unit')}:** Bu- og miljøteneste aust" in summary
    await chat.say("Send inn")
    [report] = await stored_reports(sessions)
    assert (report.unit_id, report.unit_text) == (unit.id, None)


async def test_my_reports_lists_what_i_reported(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    [nothing] = await chat.say("mine avvik")
    assert NN("mine.none") in card_words(nothing)
    await answer_up_to_summary(chat)
    await chat.say("Send inn")
    [mine] = await chat.say("mine avvik")
    listing = card_words(mine)
    assert f"2026-0001 · {NN('status.new')}" in listing
    assert "24.11.2026" in listing
    assert category("fall_accident").label("nn") in listing
    # Another person does not see Kari's reports.
    other = Chat(make_bot(sessions), aad_object_id="aad-per", user_id="29:per")
    [theirs] = await other.say("mine avvik")
    assert "2026-0001" not in card_words(theirs)
    assert NN("mine.none") in card_words(theirs)


async def test_a_message_without_sender_is_refused_politely(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    chat.adapter.template.from_property = None
    assert await chat.says("meld avvik") == NN("problem.missing_sender")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReportEvent)) == 0


async def test_outside_a_dialog_help_and_greeting_offer_the_menu(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    [reply] = await chat.say("hjelp")
    assert NN("help.definition") in reply.text
    assert buttons(reply) == [
        NN("menu.button_report"),
        NN("menu.button_mine"),
        NN("menu.button_help"),
    ]
    assert NN("menu.greeting") in await chat.says("Hei!")
    picture = {"contentType": "image/png", "contentUrl": "https://example.invalid/a.png"}
    assert NN("problem.attachment_only") in await chat.says(None, attachments=[picture])


async def test_reports_made_at_new_year_get_the_new_years_numbers(sessions: SessionFactory) -> None:
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Voss
    chat = Chat(make_bot(sessions, now=new_year))
    await chat.say("meld avvik")
    for answer in (
        DESCRIPTION,
        "Skade",
        "2",
        "Låg",
        "Skule",
        "Plassen",
        "no nettopp",
        "Hopp over",
        "Hopp over",
    ):
        await chat.say(answer)
    assert await chat.says("Send inn") == first_receipt("2027-0001")


async def test_short_answers_and_one_word_of_a_category_are_enough(
    sessions: SessionFactory,
) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say(DESCRIPTION)
    assert NN("report.ask_category") in await chat.says("nestenulukke")
    assert NN("report.ask_severity") in await chat.says("brann")
    assert NN("report.ask_unit") in await chat.says("låg")
    for answer in ("Idrettshallen", "Lageret", "i går 22:00", "Hopp over", "Hopp over"):
        await chat.say(answer)
    await chat.say("Send inn")
    [report] = await stored_reports(sessions)
    assert (report.harm, report.category, report.severity) == (
        "near_miss",
        "fire_electrical",
        "low",
    )


async def test_back_at_an_open_report_the_bot_says_where_we_are(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    summary = await answer_up_to_summary(chat)
    # The next day, not remembering: «meld avvik» is not taken as an answer to the summary.
    replies = await chat.says("meld avvik")
    assert NN("report.already_started") in replies
    assert NN("report.summary_title") in replies
    # Something else is answered with the question itself, summary included.
    retry = await chat.says("kva no?")
    assert retry.startswith(NN("problem.choice"))
    assert summary.split(NN("report.ask_confirm"))[0].strip() in retry
    assert await chat.says("Send inn") == first_receipt("2026-0001")


async def test_send_anonymously_hides_the_name_from_the_leader(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await answer_up_to_summary(chat)
    await chat.say("Endre")  # change a field and come back: the summary shows its buttons
    await chat.say(NN("field.location"))
    [*_, summary] = await chat.say("Skuleplassen ved sykkelstativet")
    assert buttons(summary) == [NN("report.submit"), NN("report.edit"), NN("report.cancel")]
    assert "«send anonymt»" in (summary.text or "")
    receipt = await chat.says("send anonymt")
    assert receipt == first_receipt("2026-0001", anonymous=True)
    [report] = await stored_reports(sessions)
    assert report.anonymous
