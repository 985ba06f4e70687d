"""The Teams app package: valid against Microsoft's schemas, complete, and true to the bot."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from bot.cli.main import main
from domain.commands import CommandParser, Intent
from domain.i18n import Catalogues

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "manifest"
SCHEMAS = ROOT.parent / "shared" / "schemas"
LANGUAGE_FILES = ["nn-NO.json", "nb-NO.json", "en.json"]
BOT_ID = "6f1b6e0e-2c3a-4a57-9b1e-0d3c5a7e9f11"
APP_ID = "2d7c9a44-81f3-4b0e-a6d5-3e9b1c0f7a22"


def load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def schema_errors(document: Any, schema_file: str) -> list[str]:
    validator = jsonschema.Draft4Validator(load(SCHEMAS / schema_file))
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_manifest_validates_against_teams_v1_29() -> None:
    assert schema_errors(load(MANIFEST / "manifest.json"), "MicrosoftTeams.v1.29.schema.json") == []


@pytest.mark.parametrize("name", LANGUAGE_FILES)
def test_each_localization_file_validates(name: str) -> None:
    document = load(MANIFEST / name)
    assert schema_errors(document, "MicrosoftTeams.Localization.v1.29.schema.json") == []


@pytest.mark.parametrize("name", LANGUAGE_FILES)
def test_each_language_names_every_command(name: str) -> None:
    manifest = load(MANIFEST / "manifest.json")
    expected = {
        f"bots[0].commandLists[{i}].commands[{j}].{field}"
        for i, command_list in enumerate(manifest["bots"][0]["commandLists"])
        for j, _ in enumerate(command_list["commands"])
        for field in ("title", "description")
    }
    keys = {k for k in load(MANIFEST / name) if k.startswith("bots[")}
    assert keys == expected


def test_the_default_language_file_matches_the_manifest() -> None:
    manifest, nynorsk = load(MANIFEST / "manifest.json"), load(MANIFEST / "nn-NO.json")
    assert nynorsk["name.short"] == manifest["name"]["short"]
    assert nynorsk["description.full"] == manifest["description"]["full"]
    for i, command in enumerate(manifest["bots"][0]["commandLists"][0]["commands"]):
        assert nynorsk[f"bots[0].commandLists[0].commands[{i}].title"] == command["title"]


@pytest.mark.parametrize("name", LANGUAGE_FILES)
def test_every_offered_command_is_one_the_bot_understands(name: str) -> None:
    """Teams offers these in its command menu; each must do something in the bot."""
    parser = CommandParser(Catalogues())
    titles = [v for k, v in load(MANIFEST / name).items() if k.endswith(".title")]
    for title in titles:
        assert parser.parse(title).intent is not Intent.UNKNOWN, title


def test_the_colour_icon_is_192_and_opaque() -> None:
    image = Image.open(MANIFEST / "color.png").convert("RGBA")
    assert image.size == (192, 192)
    assert image.getchannel("A").getextrema() == (255, 255)


def test_the_outline_icon_is_32_white_on_transparent() -> None:
    image = Image.open(MANIFEST / "outline.png").convert("RGBA")
    assert image.size == (32, 32)
    red, green, blue, alpha = image.split()
    visible = alpha.point(lambda a: 255 if a else 0)
    for channel in (red, green, blue):  # every pixel that shows at all is white
        shown = Image.composite(channel, Image.new("L", image.size, 255), visible)
        assert shown.getextrema() == (255, 255)
    assert alpha.getextrema()[0] == 0  # and the background is transparent


def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, Path]:
    monkeypatch.setenv("AVVIK_ENV_FILE", str(tmp_path / "no.env"))
    for key in ("MicrosoftAppId", "MicrosoftAppPassword", "TEAMS_APP_ID"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    return main(["manifest", "package", "--out", str(out)]), out / "avviksboten.zip"


def test_the_package_holds_exactly_the_manifest_icons_and_languages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, zip_path = package(
        tmp_path,
        monkeypatch,
        # The admin who packages the app needs the bot's id, not its secret.
        MicrosoftAppId=BOT_ID,
        MicrosoftAppType="MultiTenant",
        TEAMS_APP_ID=APP_ID,
        TEAMS_VALID_DOMAINS="avvik.voss.kommune.no",
        TEAMS_WEB_APP_ID=BOT_ID,
        TEAMS_WEB_APP_RESOURCE=f"api://avvik.voss.kommune.no/{BOT_ID}",
    )
    assert code == 0
    with zipfile.ZipFile(zip_path) as zipped:
        assert sorted(zipped.namelist()) == sorted(
            ["manifest.json", "color.png", "outline.png", *LANGUAGE_FILES]
        )
        manifest = json.loads(zipped.read("manifest.json"))
        assert zipped.read("color.png") == (MANIFEST / "color.png").read_bytes()
    assert schema_errors(manifest, "MicrosoftTeams.v1.29.schema.json") == []
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == ["avvik.voss.kommune.no"]
    assert manifest["webApplicationInfo"]["resource"].startswith("api://avvik.voss")
    assert "00000000-0000-0000-0000-000000000000" not in json.dumps(manifest)


def test_no_package_without_the_bots_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ({}, {"AVVIK_DEV_MODE": "1"}):
        code, zip_path = package(tmp_path, monkeypatch, **env)
        assert code == 2
        assert not zip_path.exists()


def test_installing_through_graph_names_the_bot_in_web_application_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graph lets the bot install only the Teams app whose webApplicationInfo.id is the bot's
    own Entra app (TeamsAppInstallation.ReadWriteSelfForUser.All)."""
    code, zip_path = package(
        tmp_path,
        monkeypatch,
        MicrosoftAppId=BOT_ID,
        TEAMS_APP_ID=APP_ID,
        AVVIK_GRAPH_INSTALL="1",
    )
    assert code == 0
    with zipfile.ZipFile(zip_path) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
    assert manifest["webApplicationInfo"] == {"id": BOT_ID}
    assert schema_errors(manifest, "MicrosoftTeams.v1.29.schema.json") == []
    code, zip_path = package(
        tmp_path / "other",
        monkeypatch,
        MicrosoftAppId=BOT_ID,
        AVVIK_GRAPH_INSTALL="1",
        TEAMS_WEB_APP_ID=APP_ID,  # another Entra app: Graph would refuse every installation
    )
    assert code == 2
    assert not zip_path.exists()
