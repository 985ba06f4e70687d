"""The municipality's own categories: a file an admin keeps, the list in the database, what
reporters are offered, what statistics count, and an earlier system's names mapped to ours."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from bot.cli.main import main
from domain.categories import Categories
from domain.readers.categories import (
    CategoryMap,
    CategoryPlan,
    default_categories,
    parse_categories_csv,
    parse_category_map,
)
from storage.categories import load_causes
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.models import Report
from tests.chat import EN, NB, NN, Chat, card_of, card_words, make_bot
from tests.test_statistics_teams import _history
from tests.voss_org import make_voss

HEADER = "code,nn,nb,en,order,active"


def plan_of(text: str | bytes) -> CategoryPlan:
    plan = parse_categories_csv(text.encode() if isinstance(text, str) else text)
    assert isinstance(plan, CategoryPlan), [str(p) for p in plan]
    return plan


def problems_of(text: str) -> list[tuple[int, str | None, str]]:
    found = parse_categories_csv(text.encode())
    assert isinstance(found, list), "the file was accepted"
    return [(p.line, p.column, p.message) for p in found]


# ---- the file -------------------------------------------------------------------------------


def test_a_new_database_starts_with_the_customers_nine() -> None:
    categories = default_categories()
    assert [c.code for c in categories.active()] == [
        "violence_threats",
        "fall_accident",
        "lifting_ergonomics",
        "psychosocial",
        "fire_electrical",
        "chemicals_infection",
        "indoor_building",
        "traffic_driving",
        "other",
    ]
    assert [categories.label("violence_threats", lang) for lang in ("nn", "nb", "en")] == [
        "Vald og truslar mot tilsette",
        "Vold og trusler mot ansatte",
        "Violence and threats against staff",
    ]


def test_a_file_as_excel_writes_it_in_norway() -> None:
    """Windows-1252, `;`, Norwegian column names, an empty Bokmål label (Nynorsk serves)."""
    text = (
        "Kode;Nynorsk;Bokmål;Engelsk;Rekkefølgje;Aktiv\r\n"
        "vald;Vald, truslar og trakassering;Vold, trusler og trakassering;Violence;2;ja\r\n"
        "smitte;Smitte og stikkskadar;;;1;\r\n"
        "gammal;Gammal kategori;;;3;nei\r\n"
    )
    categories = Categories(plan_of(text.encode("cp1252")).categories)
    assert [c.code for c in categories] == ["smitte", "vald", "gammal"]  # by order
    assert [c.code for c in categories.active()] == ["smitte", "vald"]
    assert categories.label("smitte", "nb") == "Smitte og stikkskadar"
    assert categories.find("  VOLD, trusler og trakassering") == categories.get("vald")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"{HEADER}\nfall,Fall,,,1,yes\nfall,Fall igjen,,,2,yes\n",
            [(3, "code", "code fall is already on line 2")],
        ),
        (
            f"{HEADER}\nfall,,Fall,Fall,1,yes\n",
            [(2, "nn", "required: the Nynorsk label (Bokmål and English fall back to it)")],
        ),
        (
            f"{HEADER}\nFall og ulukke,Fall,,,1,yes\n",
            [(2, "code", "'fall og ulukke' is not a code: use up to 40 lower-case letters")],
        ),
        (
            f"{HEADER}\nfall,Fall,,,1,yes\nskli,Skli,Fall,,2,yes\n",
            [(3, "nb", "«Fall» also names fall on line 2: each name may mean one category")],
        ),
        (
            f"{HEADER}\nfall,Fall,,,første,kanskje\n",
            [
                (2, "order", "must be a whole number from 0 to 9999, not 'første'"),
                (2, "active", "'kanskje': write yes or no (ja or nei)"),
            ],
        ),
        (f"{HEADER}\nfall,Fall,,,1,no\n", [(1, "active", "no category is active")]),
        ("kode,namn\nfall,Fall\n", [(1, "namn", "unknown column"), (1, "nn", "required column")]),
        (f"{HEADER}\n", [(1, None, "no rows")]),
    ],
    ids=[
        "a duplicate code",
        "a missing nn label",
        "a code that is not a code",
        "a name that means two categories",
        "order and active",
        "nothing active",
        "the header",
        "no rows",
    ],
)
def test_a_bad_category_file_is_refused_by_line_and_column(
    text: str, expected: list[tuple[int, str | None, str]]
) -> None:
    found = problems_of(text)
    assert [(line, column) for line, column, _ in found] == [(n, c) for n, c, _ in expected]
    for (_, _, message), (_, _, start) in zip(found, expected, strict=True):
        assert message.startswith(start), message


def test_a_map_of_the_earlier_systems_names() -> None:
    data = (
        "\ufefffrom;to\r\n"
        "Fall, skade og ulukke;Fall, snubling og ulukke\r\n"
        "  ERGONOMI og tunge løft ;lifting_ergonomics\r\n"
        "Vold og trusler;vold og trusler mot ansatte\r\n"
        "vold og trusler;violence_threats\r\n"  # the same name twice, the same category: fine
    ).encode()
    mapped = parse_category_map(data, default_categories())
    assert isinstance(mapped, CategoryMap)
    assert mapped.get("fall, skade og ulukke") == "fall_accident"
    assert mapped.get("Ergonomi og tunge løft") == "lifting_ergonomics"
    assert mapped.get("VOLD OG TRUSLER") == "violence_threats"
    assert mapped.get("Brann") is None


def test_a_bad_map_is_refused_by_line_and_column() -> None:
    data = b"from,to\nBrann,Eksplosjon\nFall,fall_accident\nfall ,other\n,other\n"
    found = parse_category_map(data, default_categories())
    assert isinstance(found, list)
    assert [(p.line, p.column) for p in found] == [(2, "to"), (4, "from"), (5, "from")]
    assert found[0].message.startswith("unknown category 'Eksplosjon'; use a code or label of:")
    assert found[1].message.startswith("'fall' is already mapped to fall_accident on line 3")


# ---- the list in the database, through the command line -------------------------------------


async def command(*arguments: str) -> int:
    """`python -m bot …` in a thread: it calls asyncio.run."""
    return await asyncio.to_thread(main, list(arguments))


@pytest.fixture
async def voss(database_url: str, monkeypatch: pytest.MonkeyPatch) -> SessionFactory:
    """Voss with reports in 2025: 3 violence_threats and 3 fall_accident at the school,
    1 and 2 at the home; 2024: 1 and 1."""
    engine = create_async_db_engine(database_url)
    sessions = session_factory(engine)
    town = await make_voss(sessions)
    await _history(database_url, town)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    yield sessions
    await engine.dispose()


async def exported(tmp_path: Path, name: str = "now.csv") -> str:
    path = tmp_path / name
    assert await command("categories", "export", str(path)) == 0
    return path.read_text("utf-8-sig")


async def test_export_then_import_changes_nothing(
    voss: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = await exported(tmp_path)
    lines = text.splitlines()
    assert lines[0] == "code,nn,nb,en,order,active,reports"
    assert lines[1] == (
        "violence_threats,Vald og truslar mot tilsette,Vold og trusler mot ansatte,"
        "Violence and threats against staff,1,yes,5"
    )
    capsys.readouterr()
    assert await command("categories", "import", str(tmp_path / "now.csv")) == 0
    assert capsys.readouterr().out.startswith("Nothing changed")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda text: "\n".join(r for r in text.splitlines() if not r.startswith("fall_")),
            "line 1, column code: fall_accident «Fall, snubling og ulukke» is used by 6 "
            "report(s) and cannot be removed; keep its row with active = no to retire it",
        ),
        (
            # The code of a category in use changed: its reports would mean nothing.
            lambda text: text.replace("violence_threats,", "violence,"),
            "line 1, column code: violence_threats «Vald og truslar mot tilsette» is used by 5",
        ),
        (
            lambda text: text.replace("violence_threats,", "violence,").replace(
                "fall_accident,", "violence_threats,"
            ),
            "line 2, column nn: «Vald og truslar mot tilsette» is violence_threats, used by 5 "
            "report(s): a category's code never changes",
        ),
    ],
    ids=["removing one in use", "renaming a code in use", "giving a code another meaning"],
)
async def test_a_category_in_use_is_never_lost(
    voss: SessionFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Any,
    expected: str,
) -> None:
    before = await exported(tmp_path)
    changed = tmp_path / "changed.csv"
    changed.write_text(edit(before), "utf-8")
    capsys.readouterr()
    assert await command("categories", "import", str(changed)) == 2
    err = capsys.readouterr().err
    assert err.startswith("Nothing imported: ")
    assert expected in err, err
    assert await exported(tmp_path, "after.csv") == before


# The municipality's own list: violence_threats (in use) retired, two new ones, nb/en given for
# one only.
OWN_LIST = (
    f"{HEADER}\n"
    "violence_threats,Vald og truslar mot tilsette,Vold og trusler mot ansatte,"
    "Violence and threats against staff,9,no\n"
    'vald_trakassering,"Vald, truslar og trakassering","Vold, trusler og trakassering",'
    '"Violence, threats and harassment",1,yes\n'
    'fall_accident,"Fall, skade og ulukke","Fall, skade og ulykke","Falls and injuries",2,yes\n'
    "smitte,Smitte og stikkskadar,,,3,yes\n"
)
OFFERED = {
    "nn": ["Vald, truslar og trakassering", "Fall, skade og ulukke", "Smitte og stikkskadar"],
    "nb": ["Vold, trusler og trakassering", "Fall, skade og ulykke", "Smitte og stikkskadar"],
    "en": ["Violence, threats and harassment", "Falls and injuries", "Smitte og stikkskadar"],
}


@pytest.fixture
async def own_list(
    voss: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> SessionFactory:
    path = tmp_path / "kategoriar.csv"
    path.write_text(OWN_LIST, "utf-8")
    assert await command("categories", "import", str(path), "--dry-run") == 0
    assert capsys.readouterr().out.startswith("Dry run, nothing saved.")
    assert await command("categories", "import", str(path)) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Imported {path}:",
        "  created: vald_trakassering «Vald, truslar og trakassering», smitte «Smitte og "
        "stikkskadar»",
        "  labels or order changed: violence_threats «Vald og truslar mot tilsette», "
        "fall_accident «Fall, skade og ulukke»",
        "  retired (hidden from new reports, kept in history): violence_threats «Vald og "
        "truslar mot tilsette»",
        "  active again: none",
        "  removed (no report used them): chemicals_infection, fire_electrical, "
        "indoor_building, lifting_ergonomics, other, psychosocial, traffic_driving",
        "  unchanged: 0",
    ]
    return voss


@pytest.mark.parametrize(
    ("locale", "language"), [("nn-NO", "nn"), ("nb-NO", "nb"), ("en-GB", "en")]
)
async def test_the_form_offers_only_the_active_ones(
    own_list: SessionFactory, locale: str, language: str
) -> None:
    chat = Chat(make_bot(own_list), locale=locale)
    [form] = await chat.say({"nn": "skjema", "nb": "skjema", "en": "form"}[language])
    [choices] = [e for e in card_of(form)["body"] if e.get("id") == "category"]
    assert [c["title"] for c in choices["choices"]] == OFFERED[language]
    assert [c["value"] for c in choices["choices"]] == [
        "vald_trakassering",
        "fall_accident",
        "smitte",
    ]


@pytest.mark.parametrize(("locale", "texts"), [("nn-NO", NN), ("nb-NO", NB), ("en-GB", EN)])
async def test_the_typed_dialog_offers_only_the_active_ones(
    own_list: SessionFactory, locale: str, texts: Any
) -> None:
    chat = Chat(make_bot(own_list), locale=locale)
    await chat.says("meld avvik")
    await chat.says("Ein elev slo ein assistent med knytneven i gymsalen.")
    listing = await chat.says(texts("harm_short.injury"))
    offered = OFFERED[texts.language]
    assert listing.endswith("\n\n".join(f"**{n}** · {label}" for n, label in enumerate(offered, 1)))
    assert "Vald og truslar mot tilsette" not in listing
    assert texts("report.ask_severity") in await chat.says("3")
    summary = await up_to_summary(chat, texts)
    assert f"**{texts('field.category')}:** Smitte og stikkskadar" in summary


async def up_to_summary(chat: Chat, texts: Any) -> str:
    await chat.says(texts("severity.low"))
    await chat.says("Vossevangen skule")
    await chat.says("Gymsalen")
    await chat.says("12.11.2026 10:00")
    await chat.says(texts("report.skip"))
    return await chat.says(texts("report.skip"))


async def test_a_form_drawn_before_a_category_was_retired_cannot_use_it(
    own_list: SessionFactory,
) -> None:
    chat = Chat(make_bot(own_list))
    [form] = await chat.say("skjema")
    card = card_of(form)
    value = {
        **card["actions"][0]["data"],
        "description": "Ein elev slo ein assistent med knytneven i gymsalen.",
        "harm": "injury",
        "category": "violence_threats",  # offered on a card drawn last week
        "severity": "medium",
        "unit": "Vossevangen skule",
        "location": "Gymsalen",
        "date": "2026-11-24",
        "time": "",
        "immediate_action": "",
        "suggested_measure": "",
    }
    answer = await chat.says(None, value=value)
    assert NN("problem.form_choice") in answer
    assert "2026-" not in answer  # no case number: nothing stored
    [receipt, *_] = await chat.say(None, value={**value, "category": "vald_trakassering"})
    assert NN("card.receipt_title", case="2026-0001") in card_words(receipt)


async def test_statistics_still_count_the_retired_one(
    own_list: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await command("stats", "--year", "2025", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert [(c["category"], c["label"], c["active"], c["count"]) for c in document["category"]] == [
        ("vald_trakassering", "Vald, truslar og trakassering", True, 0),
        ("fall_accident", "Fall, skade og ulukke", True, 5),
        ("smitte", "Smitte og stikkskadar", True, 0),
        ("violence_threats", "Vald og truslar mot tilsette", False, 4),
    ]
    assert sum(c["count"] for c in document["category"]) == document["total"]["count"] == 9


# ---- the customer's history, with its own departments and category names --------------------

# What Voss's earlier system calls things (the customer's presentation): «Annet» is a
# department, and its category names are not ours.
EARLIER = {
    # (department, unit, category as the earlier system names it): reports in 2025, in 2024
    ("Helse og omsorg", "Vossatun sjukeheim", "Vold og trusler"): (7, 9),
    ("Helse og omsorg", "Vossatun sjukeheim", "Fall, skade og ulukke"): (3, 2),
    ("Oppvekst", "Vossevangen skule", "Vold og trusler"): (5, 4),
    ("Oppvekst", "Vossevangen skule", "Ergonomi og tunge løft"): (1, 0),
    ("Teknisk", "Brann og redning", "Brann"): (2, 1),
    ("Kultur og fritid", "Voss bibliotek", "Annet"): (1, 1),  # our «other» in Bokmål
    ("Rådmannens stab", "Personal", "Psykososialt arbeidsmiljø"): (2, 0),  # our nn label
    ("Annet", "Kyrkjeleg fellesråd", "Fall, skade og ulukke"): (1, 0),
    ("annet ", "Kyrkjeleg fellesråd", "Vold og trusler"): (1, 1),  # the same department
}
CATEGORY_MAP = (
    "from;to\n"
    "Vold og trusler;violence_threats\n"
    "Fall, skade og ulukke;Fall, snubling og ulukke\n"
    "Ergonomi og tunge løft;Tunge løft og ergonomi\n"
    "Brann;fire_electrical\n"
)
OURS = {
    "Vold og trusler": "violence_threats",
    "Fall, skade og ulukke": "fall_accident",
    "Ergonomi og tunge løft": "lifting_ergonomics",
    "Brann": "fire_electrical",
    "Annet": "other",
    "Psykososialt arbeidsmiljø": "psychosocial",
}


def earlier_history() -> str:
    rows = ["saksnummer;meldt;hending;avdeling;eining;kategori;alvorsgrad;skildring"]
    n = 0
    for (department, unit, category), per_year in EARLIER.items():
        for year, count in zip((2025, 2024), per_year, strict=True):
            for i in range(count):
                n += 1
                when = f"{1 + i % 28:02d}.{1 + n % 12:02d}.{year} 10:{n % 60:02d}"
                rows.append(
                    f"GS-{n};{when};{when};{department};{unit};{category};Låg;Hending nr. {n}"
                )
    return "\n".join(rows) + "\n"


async def test_the_customers_history_with_its_own_names(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    history, mapping = tmp_path / "gamalt-system.csv", tmp_path / "kategorikart.csv"
    history.write_text(earlier_history(), "cp1252")
    mapping.write_text(CATEGORY_MAP, "utf-8-sig")

    # Without the map, the earlier system's names are refused, and the answer says what to do.
    assert await command("history", "import", str(history)) == 2
    refused = capsys.readouterr().err
    assert "column kategori" not in refused  # problems name our columns
    assert "unknown category 'Vold og trusler'" in refused
    assert "--category-map" in refused

    assert await command("history", "import", str(history), "--category-map", str(mapping)) == 0
    out = capsys.readouterr().out
    assert "  reports imported: 41 " in out
    assert (
        "  departments created: Annet, Helse og omsorg, Kultur og fritid, Oppvekst, "
        "Rådmannens stab, Teknisk" in out
    )

    assert await command("stats", "--year", "2025", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    expected_departments: Counter[str] = Counter()
    expected_categories: Counter[str] = Counter()
    for (department, _, category), (count, _) in EARLIER.items():
        expected_departments[department.strip().capitalize()] += count
        expected_categories[OURS[category]] += count
    assert {d["department"]: d["count"] for d in document["departments"]} == dict(
        expected_departments
    )
    assert {c["category"]: c["count"] for c in document["category"]} == {
        c.code: expected_categories[c.code] for c in default_categories()
    }
    assert document["total"] == {"count": 23, "previous": 18, "change": 5, "change_percent": 27.8}


async def test_a_category_retired_while_a_report_is_written_is_chosen_again(
    voss: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chat = Chat(make_bot(voss))
    await chat.says("meld avvik")
    await chat.says("Ein elev slo ein assistent med knytneven i gymsalen.")
    await chat.says(NN("harm_short.injury"))
    await chat.says("1")  # Vald og truslar mot tilsette: violence_threats
    summary = await up_to_summary(chat, NN)
    assert "Vald og truslar mot tilsette" in summary
    # Meanwhile the admin imports the municipality's own list, where it is retired.
    path = tmp_path / "kategoriar.csv"
    path.write_text(OWN_LIST, "utf-8")
    assert await command("categories", "import", str(path)) == 0
    asked = await chat.says(NN("report.submit"))
    assert NN("report.category_gone") in asked
    assert asked.endswith(
        "\n\n".join(f"**{n}** · {label}" for n, label in enumerate(OFFERED["nn"], 1))
    )
    summary = await chat.says("1")
    assert f"**{NN('field.category')}:** Vald, truslar og trakassering" in summary
    assert "2026-" in await chat.says(NN("report.submit"))


def test_names_match_however_a_mac_wrote_the_letters() -> None:
    """«å» as one character or as «a» and a ring: the same name."""
    decomposed = "Vald p\u0061\u030a jobb"
    mapped = parse_category_map(
        f"from,to\n{decomposed},violence_threats\n".encode(), default_categories()
    )
    assert isinstance(mapped, CategoryMap)
    assert mapped.get("Vald på jobb") == "violence_threats"
    plan = plan_of(f"{HEADER}\nvald,Vald p\u0061\u030a jobb,,,1,yes\n")
    assert Categories(plan.categories).find("VALD PÅ JOBB") is not None


def test_rows_without_an_order_come_last_in_the_files_order() -> None:
    plan = plan_of(f"{HEADER}\nb,B,,,,yes\nc,C,,,2,yes\na,A,,,,yes\nd,D,,,1,yes\n")
    assert [c.code for c in Categories(plan.categories)] == ["d", "c", "b", "a"]
    assert problems_of(f"{HEADER}\nstraße,Gate,,,1,yes\n")[0][:2] == (2, "code")


async def test_an_export_to_a_folder_that_is_not_there(
    voss: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await command("categories", "export", str(tmp_path / "nowhere" / "k.csv")) == 2
    assert capsys.readouterr().err.startswith("cannot write ")


async def test_the_causes_are_a_list_of_the_same_kind(
    voss: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bot causes export|import`: the eight defaults, a cause in use retired and
    never removed, a new one added."""
    async with voss() as session, session.begin():
        await session.execute(
            update(Report).where(col(Report.category) == "fall_accident").values(cause="equipment")
        )
    path = tmp_path / "arsaker.csv"
    assert await command("causes", "export", str(path)) == 0
    lines = path.read_text("utf-8-sig").splitlines()
    assert lines[0] == "code,nn,nb,en,order,active,reports"
    assert "equipment,Utstyr,Utstyr,Equipment,4,yes,6" in lines
    assert len(lines) == 9
    without = tmp_path / "utan-utstyr.csv"
    without.write_text("\n".join(r for r in lines if not r.startswith("equipment")), "utf-8")
    capsys.readouterr()
    assert await command("causes", "import", str(without)) == 2
    err = capsys.readouterr().err
    assert "equipment «Utstyr» is used by 6 report(s) and cannot be removed" in err
    assert "no longer offered as a cause" in err
    edited = "\n".join(
        [*(r.replace(",4,yes,6", ",4,no,6") for r in lines), "vaer,Vêr og føre,,,9,yes"]
    )
    path.write_text(edited, "utf-8")
    assert await command("causes", "import", str(path)) == 0
    out = capsys.readouterr().out
    assert "created: vaer «Vêr og føre»" in out
    assert "retired (hidden from new reports, kept in history): equipment «Utstyr»" in out
    async with voss() as session:
        causes = await load_causes(session)
    assert [c.code for c in causes.active()][-1] == "vaer"
    assert causes.get("equipment") is not None
