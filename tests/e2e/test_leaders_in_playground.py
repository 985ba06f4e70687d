"""The whole round in Microsoft's Teams emulator, one Playground per person: Kari reports by
card, Liv (her leader) gets the card at once, acknowledges, marks it «under handsaming», lowers
its severity with a reason, answers the kap. 23A follow-up, adds a measure, records a cause and
closes; Kari hears the outcome; Siri, who leads another unit, can neither see nor touch it; and
Hanne, the HMS adviser, sees the handling times on her statistics card."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from domain.oslo_time import OSLO
from tests.bot_process import ROOT, BotProcess, admin_command
from tests.chat import EN, NN
from tests.e2e.harness import (
    HANNE,
    KARI,
    LIV,
    SIRI,
    buttons,
    playground_for,
    require_playground,
    words,
)

SAMPLE = ROOT / "docs" / "organisation-sample.csv"


def import_organisation(database_url: str) -> None:
    """As an admin does it: `python -m bot org import` with the sample file."""
    admin_command(database_url, "org", "import", str(SAMPLE))


async def test_a_report_goes_to_the_leader_who_handles_it(sqlite_url: str, tmp_path: Path) -> None:
    require_playground()
    import_organisation(sqlite_url)
    bot = BotProcess(sqlite_url)
    await bot.start()
    try:
        async with (
            playground_for(KARI, bot.url, tmp_path) as kari,
            playground_for(LIV, bot.url, tmp_path) as liv,
            playground_for(SIRI, bot.url, tmp_path) as siri,
            playground_for(HANNE, bot.url, tmp_path) as hanne,
        ):
            # Each installs the app (so the bot may write to them) and picks Nynorsk.
            welcomes = {}
            for person in (kari, liv, siri, hanne):
                [welcomes[person.person.key]] = await person.install(until=EN("help.definition"))
                await person.say("språk nynorsk", until=NN("language.switched"))

            # Kari reports by card.
            case = f"{datetime.now(OSLO).year}-0001"
            [form] = await kari.say("skjema", until=NN("card.form_title"))
            inputs = {
                "description": "Elev slo assistent i andletet under friminuttet. Raudt merke.",
                "harm": "injury",
                "category": "violence_threats",
                "severity": "medium",
                "unit": "Vossevangen skule",
                "location": "Skuleplassen",
                "date": datetime.now(OSLO).date().isoformat(),
                "time": "",
                "immediate_action": "Kollega tok over eleven.",
                "suggested_measure": "",
                "anonymous": "false",
            }
            await kari.press(form, buttons(form)["avvik.report.submit"], inputs, until=case)

            # Liv, who leads Vossevangen skule, is told at once, with the card to act on.
            [card] = await liv.replies(until=inputs["description"])
            assert "Kari Nordmann" in words(card)
            assert set(buttons(card)) == {
                *("acknowledge", "measure", "judge", "cause", "snooze", "close"),
                "duties",  # vald og truslar: the kap. 23A follow-up, in the card's body
                "link_form",  # and tying it to a factor of the unit's risk assessment
            }
            assert NN("duty.debrief") in words(card)
            await liv.press(
                card, buttons(card)["acknowledge"], {}, until=NN("handling.acknowledged")
            )
            card = await liv.updated_to(card["messageId"], NN("status.acknowledged"))
            await liv.press(card, buttons(card)["start"], {}, until=NN("handling.started"))
            in_progress = NN("handling.status_line", status=NN("status.in_progress"))
            card = await liv.updated_to(card["messageId"], in_progress)

            # Her judgement: a red mark, no more: low, with the reporter's «middels» kept.
            judgement = {
                "judge_severity": "low",
                "judge_category": "violence_threats",
                "judge_reason": "Lite merke, ingen fråvær.",
            }
            await liv.press(card, buttons(card)["judge"], judgement, until=NN("handling.judged"))
            reported_as = NN(
                "handling.reported_as", value=NN("severity.low"), first=NN("severity.medium")
            )
            card = await liv.updated_to(card["messageId"], reported_as)

            # The kap. 23A follow-up, answered on the card; the risk assessment in a week.
            later = datetime.now(OSLO).date() + timedelta(days=7)
            answers = {
                "duty_nav_injury": "not_relevant",
                "duty_debrief": "done",
                "duty_police_report": "not_relevant",
                "duty_risk_review": "later",
                "duty_later": later.isoformat(),
            }
            await liv.press(
                card, buttons(card)["duties"], answers, until=NN("handling.duties_answered")
            )
            card = await liv.updated_to(
                card["messageId"], NN("duty.later_until", date=later.strftime("%d.%m.%Y"))
            )

            measure = {
                "measure_what": "Gå gjennom skjermingsplanen for eleven med alle vaksne.",
                "measure_owner": "Liv Leiar",
                "measure_due": datetime.now(OSLO).date().isoformat(),
            }
            await liv.press(
                card, buttons(card)["measure"], measure, until=NN("handling.measure_added")
            )
            card = await liv.updated_to(card["messageId"], measure["measure_what"])

            # Siri leads another unit: the report is not hers to see, even with a copied button.
            assert case not in words(
                (await siri.say("opne avvik", until=NN("open.title", count=0)))[0]
            )
            copied = {**buttons(card)["close"], "close_note": "Lukka av feil person."}
            await siri.press(welcomes["siri"], copied, {}, until=NN("handling.not_found"))

            cause = {"cause": "client_related", "cause_text": "Eleven var utrygg i friminuttet."}
            await liv.press(card, buttons(card)["cause"], cause, until=NN("handling.cause_set"))
            card = await liv.updated_to(card["messageId"], cause["cause_text"])

            note = "Skjermingsplanen er gjennomgått, og eleven har fått fast vaksen i friminutta."
            await liv.press(
                card,
                buttons(card)["close"],
                {"close_cause": "client_related", "close_note": note},  # as recorded
                until=NN("handling.closed"),
            )
            closed = await liv.updated_to(card["messageId"], NN("status.closed"))
            assert buttons(closed) == {}

            # Kari hears how it ended.
            [outcome] = await kari.replies(until=note)
            assert outcome["text"] == NN("handling.outcome", case=case, note=note)

            # Hanne's statistics card shows how it was handled: acknowledged in time.
            year = datetime.now(OSLO).year
            [stats] = await hanne.say(f"statistikk {year}", until=NN("stats.handling_title"))
            shown = words(stats)
            assert NN("stats.acknowledged_in_time") in shown
            assert NN("stats.share", percent="100", part=1, whole=1) in shown
            assert NN("stats.judged_value", severity=1, category=0) in shown
    finally:
        bot.stop()
