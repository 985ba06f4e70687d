"""The sensitive-data guard finds identity numbers, phone numbers and e-mail addresses, and
nothing else a report is full of: case numbers, dates, times, counts."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cards.report_form import report_form_card
from bot.desks.handling import HandlingRequest, read_request
from bot.desks.report_cards import problems_text
from bot.desks.report_form import KEEP_SENSITIVE, read_report_form
from dialogs.report_draft import ReportDraft
from domain.i18n import Texts
from domain.sensitive import (
    Sensitive,
    check_digits_ok,
    describe,
    find_sensitive,
    identity_kind,
    kinds_in,
    sensitive_problem,
)
from storage.db import SessionFactory
from tests.categories import DEFAULT
from tests.chat import EN, NB, NN, NOW, Chat, buttons, make_bot
from tests.fake_connector import FakeConnector
from tests.test_card_report import FILLED_IN, CardUser, start, stored, words
from tests.test_http import ClientMaker
from tests.test_report_dialog import DESCRIPTION, stored_reports

# Made for these tests: valid dates and check digits (mod 11), belonging to nobody we know.
FNR = "01019012480"  # 1 January 1990, individual number 124
FNR_2000 = "29020451279"  # 29 February 2000 (a leap year: individual number 512 is 2000-)
D_NUMBER = "41019012393"  # the fødselsnummer's day 01 + 40
D_NUMBER_LATE = "71129912302"  # day 31 + 40


def kinds(text: str) -> list[Sensitive]:
    return [f.kind for f in find_sensitive(text)]


def found(text: str) -> list[str]:
    return [f.text for f in find_sensitive(text)]


# ---- fødselsnummer and D-number -------------------------------------------------------------


@pytest.mark.parametrize("number", [FNR, FNR_2000, "24057512357", "15038723585", "29129991206"])
def test_a_valid_fodselsnummer_is_found(number: str) -> None:
    assert identity_kind(number) is Sensitive.NATIONAL_ID
    text = f"Brukaren ({number}) vart uroleg."
    [finding] = find_sensitive(text)
    assert finding.kind is Sensitive.NATIONAL_ID
    assert text[finding.start : finding.end] == finding.text == number


@pytest.mark.parametrize("number", [D_NUMBER, D_NUMBER_LATE, "41019012555"])
def test_a_valid_d_number_is_found(number: str) -> None:
    assert identity_kind(number) is Sensitive.D_NUMBER
    assert kinds(f"D-nr {number}") == [Sensitive.D_NUMBER]


@pytest.mark.parametrize(
    "written",
    ["010190 12480", "010190\u00a012480", "010190-12480", "Fnr:01019012480.", "(01019012480)"],
)
def test_written_with_a_space_or_next_to_punctuation(written: str) -> None:
    assert kinds(written) == [Sensitive.NATIONAL_ID]


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("01019012481", "the second check digit is wrong"),
        ("01019012490", "the first check digit is wrong"),
        ("01019012345", "both are made up"),
        ("12345678901", "a digit run, not a number"),
        ("00000000000", "no date"),
    ],
)
def test_wrong_check_digits_do_not_count(number: str, why: str) -> None:
    assert not check_digits_ok(number) or identity_kind(number) is None, why
    assert find_sensitive(f"Nr. {number}") == [], why


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("31029012302", "31 February"),
        ("30029012535", "30 February"),
        ("29020041232", "29 February 1900 (individual number 041): no leap year"),
        ("81019010023", "day 81: neither a date nor a D-number"),
        ("71029010042", "a D-number for 31 February"),
    ],
)
def test_dates_that_do_not_exist_do_not_count(number: str, why: str) -> None:
    assert check_digits_ok(number), f"the example needs valid check digits: {why}"
    assert identity_kind(number) is None, why
    assert find_sensitive(number) == [], why


@pytest.mark.parametrize(
    "text",
    [
        f"9{FNR}",  # twelve digits
        f"{FNR}7",
        f"123{FNR}456",
        f"Konto 1234{FNR}",
    ],
)
def test_a_number_inside_a_longer_run_of_digits_is_not_one(text: str) -> None:
    assert find_sensitive(text) == []


def test_check_digits_follow_the_mod_11_rule() -> None:
    assert check_digits_ok(FNR)
    assert check_digits_ok(D_NUMBER)
    # Changing any one digit breaks at least one check digit.
    for position in range(11):
        digit = int(FNR[position])
        changed = FNR[:position] + str((digit + 1) % 10) + FNR[position + 1 :]
        assert not check_digits_ok(changed), position
    assert not check_digits_ok("0101901248")  # ten digits
    assert not check_digits_ok("0101901248x")


# ---- phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "41234567",
        "412 34 567",
        "22 33 44 55",
        "+47 412 34 567",
        "+4741234567",
        "0047 22334455",
        "0047 22 33 44 55",
        "99887766",
        "22\u00a033\u00a044\u00a055",
    ],
)
def test_a_norwegian_phone_number_is_found(phone: str) -> None:
    text = f"Ring mor til brukaren på {phone} om det skjer igjen."
    [finding] = find_sensitive(text)
    assert finding.kind is Sensitive.PHONE
    assert finding.text == phone


@pytest.mark.parametrize(
    "text",
    [
        "12345678",  # starts with 1
        "01234567",  # starts with 0
        "4123456",  # seven digits
        "412345678",  # nine digits
        "22 33 44 55 66",  # five groups: not a phone number
        "Kontonr 1234 56 78901",
        "Ordrenummer 7712345678",
    ],
)
def test_what_is_no_phone_number(text: str) -> None:
    assert find_sensitive(text) == []


# ---- what a report is full of, and must not be stopped for ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Sjå sak 2026-0001 og 2025-1317.",
        "Det skjedde 24.11.2026 14:30 i gymsalen.",
        "24.11.2026 kl. 14:30",
        "2026-11-24 14:30",
        "Frå 07.45 til 15.30, 3 tilsette og 12 elevar.",
        "Bu 3, rom 214, 2 etasje.",
        "Eining HO-07 og OPP-01.",
        "Temperaturen var 22,5 grader; 1317 avvik i 2025 (2024: 1386).",
        "Brukaren er fødd i 1990 og bur på Bu 3.",
        "Kr 25 000 i skade på bilen.",
        "E-post-rutinen vart ikkje følgd @ skulen.",
        "",
    ],
)
def test_case_numbers_dates_times_and_counts_are_not_personal_data(text: str) -> None:
    assert find_sensitive(text) == []


# ---- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["kari.nordmann@voss.kommune.no", "ola+hms@example.com", "bjørn_ås@skule.no", "A.B@C.DE"],
)
def test_an_email_address_is_found(address: str) -> None:
    text = f"Send til {address}."
    [finding] = find_sensitive(text)
    assert (finding.kind, finding.text) == (Sensitive.EMAIL, address)


def test_digits_inside_an_email_address_are_the_address_only() -> None:
    assert found("Skriv til kari.41234567@voss.kommune.no") == ["kari.41234567@voss.kommune.no"]


@pytest.mark.parametrize("text", ["kari@", "@voss.no", "kari@voss", "kari@@voss.no x"])
def test_half_an_address_is_none(text: str) -> None:
    assert kinds(text) == []


# ---- several at once, and what the user is told ---------------------------------------------


def test_everything_is_found_in_the_order_written() -> None:
    text = f"Mor (tlf 412 34 567, mor@example.no) til eleven med fnr {FNR} og D-nr {D_NUMBER}."
    assert kinds(text) == [
        Sensitive.PHONE,
        Sensitive.EMAIL,
        Sensitive.NATIONAL_ID,
        Sensitive.D_NUMBER,
    ]
    assert [text[f.start : f.end] for f in find_sensitive(text)] == found(text)
    assert kinds_in(find_sensitive(f"{FNR} og {FNR_2000} og 41234567")) == (
        Sensitive.NATIONAL_ID,
        Sensitive.PHONE,
    )


def test_the_problem_names_the_kinds_and_nothing_when_clean() -> None:
    problem = sensitive_problem(f"Ring 41234567 eller skriv til {FNR}")
    assert problem is not None
    assert problem.key == "sensitive"
    assert problem.values == {"kinds": ("phone", "national_id")}
    assert sensitive_problem("Glatt på skuleplassen, ingen strødde.") is None


def test_the_words_in_every_language() -> None:
    assert describe(NN, ["national_id"]) == "Det ser ut som eit fødselsnummer."
    assert describe(NN, ["phone", "email"]) == (
        "Det ser ut som eit telefonnummer og ei e-postadresse."
    )
    assert describe(NB, ["d_number", "phone", "email"]) == (
        "Det ser ut som et D-nummer, et telefonnummer og en e-postadresse."
    )
    assert describe(EN, ["email"]) == "That looks like an e-mail address."


# ---- in the typed report: the dialog asks again -----------------------------------------------


def asked_to_keep(texts: Texts, *kinds: str) -> str:
    found = f"{describe(texts, kinds)} {texts('sensitive.advice')}"
    return f"{found}\n\n{texts('sensitive.ask_keep')}"


async def test_the_dialog_asks_again_and_nei_asks_the_question_again(
    sessions: SessionFactory,
) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    [asked] = await chat.say(f"Brukaren med fnr {FNR} slo ein tilsett i andletet.")
    assert asked.text == asked_to_keep(NN, "national_id")
    assert asked.text.startswith(
        "Det ser ut som eit fødselsnummer. Ikkje skriv personopplysningar om brukarar, "
        "elevar eller pasientar her."
    )
    assert buttons(asked) == [NN("sensitive.keep"), NN("sensitive.rewrite")]
    # «Nei, skriv på nytt»: the question again; a clean answer goes on.
    assert await chat.says(NN("sensitive.rewrite")) == NN("report.ask_description")
    assert NN("report.ask_harm") in await chat.says(DESCRIPTION)
    await answer_from_harm_to_summary(chat)
    await chat.say("Send inn")
    [report] = await stored_reports(sessions)
    assert report.description == DESCRIPTION


async def test_a_new_answer_is_checked_like_the_first(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    assert await chat.says("Mor ringde frå 412 34 567 og var sint.") == asked_to_keep(NN, "phone")
    # Written again, still with an address in it: asked again, now about that.
    again = "Mor skreiv frå mor@example.no og var sint på tilsette."
    assert await chat.says(again) == asked_to_keep(NN, "email")
    assert NN("report.ask_harm") in await chat.says(DESCRIPTION)


async def test_ja_keeps_it_as_written(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    kept = "Vaktmeisteren (tlf 22 33 44 55) var ikkje å få tak i då det var glatt."
    await chat.say(kept)
    assert NN("report.ask_harm") in await chat.says("ja")
    await answer_from_harm_to_summary(chat)
    await chat.say("Send inn")
    [report] = await stored_reports(sessions)
    assert report.description == kept


async def test_place_and_the_optional_answers_are_guarded_too(sessions: SessionFactory) -> None:
    chat = Chat(make_bot(sessions), locale="en-GB")
    await chat.say("meld avvik")
    await chat.say(DESCRIPTION)
    await chat.say("Injury")
    await chat.say("2")
    await chat.say("Medium")
    await chat.say("Vossevangen skule")
    assert await chat.says("Room of the client, D-nr 410190 12393") == asked_to_keep(EN, "d_number")
    assert EN("report.ask_when") in await chat.says("The schoolyard")  # a new answer, clean
    assert EN("report.ask_immediate_action") in await chat.says("today 13:15")
    assert await chat.says("Called kari@example.com") == asked_to_keep(EN, "email")
    # «Skip» at the question asked again is still a skip.
    assert EN("report.ask_suggested_measure") in await chat.says("Skip")
    assert await chat.says("Ring 99887766 first") == asked_to_keep(EN, "phone")
    assert EN("report.summary_title") in await chat.says(EN("sensitive.keep"))
    await chat.say("Submit")
    [report] = await stored_reports(sessions)
    assert (report.location, report.immediate_action) == ("The schoolyard", None)
    assert report.suggested_measure == "Ring 99887766 first"


async def test_help_while_asked_explains_and_the_held_answer_can_still_be_kept(
    sessions: SessionFactory,
) -> None:
    chat = Chat(make_bot(sessions))
    await chat.say("meld avvik")
    await chat.say(f"Eleven {FNR} sparka assistenten.")
    assert NN("help.step.description") in await chat.says("hjelp")
    assert NN("report.ask_harm") in await chat.says("Ja, behald")


async def answer_from_harm_to_summary(chat: Chat) -> None:
    await chat.say(NN("harm.injury"))
    await chat.say("2")
    await chat.say("Middels")
    await chat.say("Vossevangen skule")
    await chat.say("Skuleplassen")
    await chat.say("i dag 13:15")
    await chat.say("Hopp over")
    assert NN("report.summary_title") in await chat.says("Hopp over")


# ---- in the card form: refused, field named, kept with the switch ----------------------------


def form_value(**changes: Any) -> dict[str, Any]:
    return {
        "action": "avvik.report.submit",
        "card": "5f0c2a9e7b1d4c3e8a6f9b2d1c0e7a4b",
        "conversation": "a:kari",
        **FILLED_IN,
        **changes,
    }


def test_a_form_with_personal_data_names_every_field() -> None:
    value = form_value(
        description=f"Eleven (fnr {FNR}) kasta stein mot assistenten.",
        location="Ved kontoret, ring 412 34 567",
        suggested_measure="Skriv til rektor@skule.no",
    )
    result = read_report_form(value, conversation_id="a:kari", now=NOW, categories=DEFAULT)
    assert isinstance(result, list)
    assert {p.field: (p.problem.key, p.problem.values) for p in result} == {
        "description": ("sensitive", {"kinds": ("national_id",)}),
        "location": ("sensitive", {"kinds": ("phone",)}),
        "suggested_measure": ("sensitive", {"kinds": ("email",)}),
    }
    told = problems_text(NN, result, can_keep_sensitive=True)
    assert told.startswith(NN("card.problems"))
    assert f"**{NN('field.description')}**: Det ser ut som eit fødselsnummer." in told
    assert f"**{NN('field.location')}**: Det ser ut som eit telefonnummer." in told
    assert told.endswith(f"{NN('sensitive.advice')} {NN('sensitive.card_keep')}")


def test_the_switch_keeps_it_as_written() -> None:
    description = f"Eleven (fnr {FNR}) kasta stein mot assistenten."
    value = form_value(description=description, keep_sensitive="true")
    draft = read_report_form(value, conversation_id="a:kari", now=NOW, categories=DEFAULT)
    assert isinstance(draft, ReportDraft)
    assert draft.description == description
    off = read_report_form(
        {**value, "keep_sensitive": "false"}, conversation_id="a:kari", now=NOW, categories=DEFAULT
    )
    assert isinstance(off, list)
    forged = read_report_form(
        {**value, "keep_sensitive": True}, conversation_id="a:kari", now=NOW, categories=DEFAULT
    )
    assert isinstance(forged, list)
    assert {p.field: p.problem.key for p in forged} == {
        "keep_sensitive": "form_choice",
        "description": "sensitive",
    }


def test_the_form_card_has_the_switch_off() -> None:
    card = report_form_card(
        NN,
        card_id="0" * 32,
        conversation_id="a:kari",
        now=NOW,
        own_unit=None,
        categories=DEFAULT,
    )
    [switch] = [e for e in card["body"] if e.get("id") == KEEP_SENSITIVE]
    assert switch["type"] == "Input.Toggle"
    assert (switch["value"], switch["valueOn"], switch["valueOff"]) == ("false", "true", "false")
    assert switch["title"] == NN("card.label_keep_sensitive")


async def test_a_card_with_personal_data_is_not_stored_until_kept(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    kari = CardUser(await start(aiohttp_client, sqlite_url), connector)
    form_id, card = await kari.ask_for_form()
    description = f"Eleven (fnr {FNR}) kasta stein mot assistenten i friminuttet."
    [refused] = await kari.submit(card, form_id, **{**FILLED_IN, "description": description})
    assert NN("card.problems") in refused["text"]
    assert f"**{NN('field.description')}**: {describe(NN, ['national_id'])}" in refused["text"]
    assert NN("sensitive.card_keep") in refused["text"]
    assert await stored(sqlite_url) == []
    assert connector.updated[kari.conversation_id] == []  # the form stays, to be put right

    [receipt] = await kari.submit(
        card, form_id, **{**FILLED_IN, "description": description, "keep_sensitive": "true"}
    )
    assert NN("card.receipt_title", case="2026-0001") in words(receipt)
    [report] = await stored(sqlite_url)
    assert report.description == description


# ---- a leader's measure and closing note: refused, no way round -------------------------------


def handle(op: str, **inputs: Any) -> dict[str, Any]:
    return {"action": "avvik.handle", "op": op, "report": 7, "version": 3, **inputs}


def test_a_measure_or_note_with_personal_data_is_refused() -> None:
    today = NOW.date()
    measure = handle(
        "measure",
        measure_what="Ring far til eleven på 99 88 77 66 kvar fredag",
        measure_owner="Kontaktlærar",
        measure_due="2026-12-01",
    )
    result = read_request(measure, today=today)
    assert isinstance(result, list)
    assert [(p.field, p.problem.values) for p in result] == [
        ("measure_what", {"kinds": ("phone",)})
    ]
    told = problems_text(NN, result)
    assert f"**{NN('field.measure_what')}**: {describe(NN, ['phone'])}" in told
    assert told.endswith(NN("sensitive.advice"))  # no switch to keep it
    assert NN("sensitive.card_keep") not in told

    note = handle("close", close_note=f"Saka gjeld eleven {D_NUMBER}; foreldra er varsla.")
    [problem] = read_request(note, today=today)  # type: ignore[misc]
    assert (problem.field, problem.problem.values) == ("close_note", {"kinds": ("d_number",)})
    # A note without any goes through as before.
    clean = handle("close", close_note="Foreldra er varsla, og eleven har fått oppfølging.")
    assert isinstance(read_request(clean, today=today), HandlingRequest)
