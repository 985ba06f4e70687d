"""A small Voss herad for tests: two units in two departments, their leaders, an adviser,
a verneombod, and staff. Entra object ids are plain words here."""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import Role
from storage.db import SessionFactory
from storage.models import Department, Person, PersonRole, Unit, UnitLeader


@dataclass(frozen=True)
class Voss:
    school: int  # Vossevangen skule (Oppvekst): Liv leads, Lars is deputy, Kari works there
    home: int  # Bu- og miljøteneste aust (Helse og omsorg): Siri leads, Per works there


PEOPLE = {
    # aad id: (name, unit, roles)
    "aad-kari": ("Kari Nordmann", "school", [Role.STAFF]),
    "aad-liv": ("Liv Leiar", "school", [Role.LEADER]),
    "aad-lars": ("Lars Nestleiar", "school", [Role.LEADER]),
    "aad-siri": ("Siri Sjef", "home", [Role.LEADER]),
    "aad-per": ("Per Hansen", "home", [Role.STAFF]),
    "aad-hanne": ("Hanne Rådgjevar", None, [Role.ADVISER]),
    "aad-vera": ("Vera Verneombod", "school", [Role.STAFF, Role.SAFETY_REP]),
    "aad-ingrid": ("Ingrid Admin", None, [Role.ADMIN]),
}


async def make_voss(sessions: SessionFactory) -> Voss:
    async with sessions() as session, session.begin():
        oppvekst, helse = Department(name="Oppvekst"), Department(name="Helse og omsorg")
        session.add_all([oppvekst, helse])
        await session.flush()
        assert oppvekst.id
        assert helse.id
        school = Unit(
            code="OPP-01", name="Vossevangen skule", department_id=oppvekst.id, headcount=60
        )
        home = Unit(
            code="HO-07", name="Bu- og miljøteneste aust", department_id=helse.id, headcount=45
        )
        session.add_all([school, home])
        await session.flush()
        assert school.id
        assert home.id
        units = {"school": school.id, "home": home.id, None: None}
        ids = {}
        for aad, (name, unit, roles) in PEOPLE.items():
            person = Person(aad_object_id=aad, name=name, unit_id=units[unit])
            session.add(person)
            await session.flush()
            assert person.id
            ids[aad] = person.id
            session.add_all(PersonRole(person_id=person.id, role=role.value) for role in roles)
        session.add_all(
            [
                UnitLeader(unit_id=school.id, person_id=ids["aad-liv"]),
                UnitLeader(unit_id=school.id, person_id=ids["aad-lars"], deputy=True),
                UnitLeader(unit_id=home.id, person_id=ids["aad-siri"]),
            ]
        )
    return Voss(school=school.id, home=home.id)
