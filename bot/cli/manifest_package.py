"""The Teams app package an admin uploads: manifest.json, two icons, localization files.

The manifest in `manifest/` carries placeholder GUIDs so that it validates as it is; the ids,
domains and single sign-on settings of a real installation come from `Settings`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from bot.config import Settings

SOURCE = Path(__file__).resolve().parents[2] / "manifest"
PACKAGE_NAME = "avviksboten.zip"


class PackageError(ValueError):
    pass


def _localization_files(manifest: dict[str, Any]) -> list[str]:
    info = manifest.get("localizationInfo", {})
    files = [info["defaultLanguageFile"]] if info.get("defaultLanguageFile") else []
    return files + [language["file"] for language in info.get("additionalLanguages", [])]


def manifest_for(settings: Settings, source: Path = SOURCE) -> dict[str, Any]:
    """The manifest with this installation's ids filled in."""
    if not settings.app_id:
        raise PackageError("MicrosoftAppId (the bot's id) is needed to build the app package")
    manifest: dict[str, Any] = json.loads((source / "manifest.json").read_text("utf-8"))
    manifest["id"] = settings.teams_app_id or settings.app_id
    for bot in manifest["bots"]:
        bot["botId"] = settings.app_id
    manifest["validDomains"] = list(settings.valid_domains)
    web_app_id = settings.web_app_id
    if settings.graph_install:
        # Graph lets an app install only itself: the Teams app whose webApplicationInfo.id is
        # the Entra app that asks (TeamsAppInstallation.ReadWriteSelfForUser.All).
        if web_app_id and web_app_id != settings.app_id:
            raise PackageError(
                "With AVVIK_GRAPH_INSTALL, TEAMS_WEB_APP_ID must be the bot's MicrosoftAppId "
                "(or empty): Graph installs only the app whose webApplicationInfo.id asks"
            )
        web_app_id = settings.app_id
    if web_app_id:
        manifest["webApplicationInfo"] = {"id": web_app_id}
        if settings.web_app_resource:
            manifest["webApplicationInfo"]["resource"] = settings.web_app_resource
    return manifest


def build_package(settings: Settings, out_dir: Path, source: Path = SOURCE) -> Path:
    manifest = manifest_for(settings, source)
    files = [
        manifest["icons"]["color"],
        manifest["icons"]["outline"],
        *_localization_files(manifest),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / PACKAGE_NAME
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for name in files:
            package.write(source / name, arcname=name)
    return target
