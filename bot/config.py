"""One typed `Settings` object, read once from the environment (and `.env`) at start-up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time

from domain.i18n import LANGUAGES
from domain.reminders import ReminderRules
from domain.working_time import WorkingCalendar, parse_days_off, parse_hours, parse_weekdays

_TRUE = {"1", "true", "yes", "on"}


def is_true(value: str | None) -> bool:
    """How a setting says yes: 1, true, yes or on, in any case."""
    return (value or "").strip().lower() in _TRUE


_APP_TYPES = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}


LINK_SECRET_MIN = 32


class SettingsError(ValueError):
    """The configuration cannot run a bot; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    database_url: str = "sqlite:///avvik.db"
    host: str = "0.0.0.0"  # noqa: S104  (a container or VM answers the Bot Connector)
    port: int = 3978
    default_language: str = "nn"
    # Without Bot Framework credentials nothing checks who calls /api/messages: only for a
    # developer's machine and the Agents Playground, and it must be asked for by name.
    dev_mode: bool = False
    migrate_on_start: bool = True
    # The Teams app package (python -m bot manifest package).
    teams_app_id: str = ""  # defaults to the bot's app id
    valid_domains: tuple[str, ...] = ()
    web_app_id: str = ""  # webApplicationInfo.id, for single sign-on; empty: left out
    web_app_resource: str = ""
    # Reports closed longer ago than this are anonymised (python -m bot privacy retention).
    retention_years: int = 5
    # Where Teams clients fetch the statistics' charts and downloads: the bot's own public
    # address (https). Empty: the statistics card shows numbers only.
    public_url: str = ""
    # Signs those links; required with a public URL outside dev mode. Empty (dev mode, or no
    # links): a new key per start.
    link_secret: str = field(default="", repr=False)
    # The monthly under-reporting nudge to leaders (docs/under-reporting.md). On by default
    # when serving for real, off in dev mode unless asked for.
    nudges: bool = False
    # Teams' limit per app and tenant, shared by every sender process (docs/outbox.md).
    outbox_rate: int = 50
    # GET /metrics on a port of its own, when asked for (bot/edge/metrics.py).
    metrics: bool = False
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    # Reaching people who never opened the bot (docs/outbox.md): the organisation's tenant and
    # the connector to open chats with before anyone has written (after that, theirs).
    tenant_id: str = ""
    service_url: str = "https://smba.trafficmanager.net/teams/"
    # Install the app for them through Microsoft Graph, where the admin has granted it.
    graph_install: bool = False
    catalog_app_id: str = ""  # the app's id in the organisation's catalogue
    graph_url: str = "https://graph.microsoft.com"
    # Reminders, escalation and the weekly digest (docs/reminders.md): on by default when
    # serving for real, off in dev mode unless asked for; the scheduler looks every minute.
    reminders: bool = False
    scheduler_seconds: int = 60
    reminder_rules: ReminderRules = field(default_factory=ReminderRules)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)


def load_settings(env: Mapping[str, str], *, serving: bool = True) -> Settings:
    """Settings from the environment. `serving=False` (building the app package) needs the
    bot's id but not its secret: an admin packaging the app need not hold the password."""

    def get(name: str, default: str = "") -> str:
        return env.get(name, default).strip()

    dev_mode = get("AVVIK_DEV_MODE").lower() in _TRUE
    app_id = get("MicrosoftAppId")
    app_password = get("MicrosoftAppPassword")
    app_type = _APP_TYPES.get(get("MicrosoftAppType", "MultiTenant").lower())
    tenant = get("MicrosoftAppTenantId")
    language = get("AVVIK_DEFAULT_LANGUAGE", "nn").lower()
    port_text = get("PORT", "3978")
    retention_text = get("AVVIK_RETENTION_YEARS", "5")
    public_url = get("AVVIK_PUBLIC_URL").rstrip("/")

    if app_type is None:
        raise SettingsError("MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI")
    if serving and not app_id and not dev_mode:
        raise SettingsError(
            "MicrosoftAppId is not set. Set the bot's credentials, or AVVIK_DEV_MODE=1 to run "
            "without authentication on a developer machine."
        )
    if serving and app_id and app_type != "UserAssignedMSI" and not app_password:
        raise SettingsError("MicrosoftAppPassword is required when MicrosoftAppId is set")
    if app_type in ("SingleTenant", "UserAssignedMSI") and app_id and not tenant:
        raise SettingsError(f"MicrosoftAppTenantId is required for {app_type}")
    if language not in LANGUAGES:
        raise SettingsError(f"AVVIK_DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(f"PORT must be a port number, not {port_text!r}")
    if (
        not retention_text.isascii()
        or not retention_text.isdigit()
        or not 1 <= int(retention_text) <= 100
    ):
        raise SettingsError(
            f"AVVIK_RETENTION_YEARS must be a whole number of years, 1 to 100, "
            f"not {retention_text!r}"
        )

    metrics_port = get("AVVIK_METRICS_PORT", "9464")
    if not metrics_port.isdigit() or not 0 < int(metrics_port) < 65536:
        raise SettingsError(f"AVVIK_METRICS_PORT must be a port number, not {metrics_port!r}")
    outbox_rate = get("AVVIK_OUTBOX_RATE", "50")
    if not outbox_rate.isascii() or not outbox_rate.isdigit() or not 1 <= int(outbox_rate) <= 50:
        raise SettingsError(
            f"AVVIK_OUTBOX_RATE must be a whole number of messages per second, 1 to 50 (Teams' "
            f"limit per tenant), not {outbox_rate!r}"
        )

    if not public_url and dev_mode:
        public_url = f"http://localhost:{port_text}"
    if public_url and not public_url.startswith("https://") and not dev_mode:
        raise SettingsError(
            f"AVVIK_PUBLIC_URL must be an https:// address Teams can reach, not {public_url!r}"
        )
    link_secret = get("AVVIK_LINK_SECRET")
    if serving and public_url and not dev_mode and len(link_secret) < LINK_SECRET_MIN:
        # A key made at start would break every chart in the cards already sent at each
        # restart, and at random between two instances.
        raise SettingsError(
            f"AVVIK_LINK_SECRET must be set, at least {LINK_SECRET_MIN} characters "
            "(e.g. `openssl rand -hex 32`), when AVVIK_PUBLIC_URL is"
        )

    rules = _reminder_rules(get)
    scheduler_text = get("AVVIK_SCHEDULER_SECONDS", "60")
    if (
        not scheduler_text.isascii()
        or not scheduler_text.isdigit()
        or not 1 <= int(scheduler_text) <= 3600
    ):
        raise SettingsError(
            "AVVIK_SCHEDULER_SECONDS must be a whole number of seconds, 1 to 3600, "
            f"not {scheduler_text!r}"
        )

    graph_install = is_true(get("AVVIK_GRAPH_INSTALL"))
    if serving and graph_install and (not app_id or app_type == "UserAssignedMSI"):
        raise SettingsError(
            "AVVIK_GRAPH_INSTALL needs the bot's MicrosoftAppId and MicrosoftAppPassword "
            "(a managed identity cannot be used for it yet)"
        )

    return Settings(
        app_id=app_id,
        app_password=app_password,
        app_type=app_type,
        app_tenant_id=tenant,
        database_url=get("DATABASE_URL", "sqlite:///avvik.db"),
        host=get("HOST", "0.0.0.0"),  # noqa: S104
        port=int(port_text),
        default_language=language,
        dev_mode=dev_mode,
        migrate_on_start=get("AVVIK_MIGRATE_ON_START", "1").lower() in _TRUE,
        teams_app_id=get("TEAMS_APP_ID"),
        valid_domains=tuple(d.strip() for d in get("TEAMS_VALID_DOMAINS").split(",") if d.strip()),
        web_app_id=get("TEAMS_WEB_APP_ID"),
        web_app_resource=get("TEAMS_WEB_APP_RESOURCE"),
        retention_years=int(retention_text),
        public_url=public_url,
        link_secret=link_secret,
        nudges=get("AVVIK_NUDGES", "0" if dev_mode else "1").lower() in _TRUE,
        outbox_rate=int(outbox_rate),
        metrics=is_true(get("AVVIK_METRICS")),
        metrics_host=get("AVVIK_METRICS_HOST", "127.0.0.1"),
        metrics_port=int(metrics_port),
        tenant_id=get("AVVIK_TENANT_ID") or tenant,
        service_url=get("AVVIK_SERVICE_URL") or Settings.service_url,
        graph_install=graph_install,
        catalog_app_id=get("AVVIK_TEAMS_CATALOG_APP_ID"),
        graph_url=get("AVVIK_GRAPH_URL") or Settings.graph_url,
        reminders=is_true(get("AVVIK_REMINDERS", "0" if dev_mode else "1")),
        scheduler_seconds=int(scheduler_text),
        reminder_rules=rules,
    )


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _reminder_rules(get: Callable[[str, str], str]) -> ReminderRules:
    """The calendar and thresholds of the reminders, each with a clear word when it is wrong."""

    def days(name: str, default: str) -> int:
        text = get(name, default)
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 60:
            raise SettingsError(
                f"{name} must be a whole number of working days, 1 to 60, not {text!r}"
            )
        return int(text)

    try:
        start, end = parse_hours(get("AVVIK_WORKING_HOURS", "08:00-16:00"))
    except ValueError as error:
        raise SettingsError(f"AVVIK_WORKING_HOURS: {error}") from None
    try:
        days_off = parse_days_off(get("AVVIK_DAYS_OFF", "12-24,12-31"))
    except ValueError as error:
        raise SettingsError(f"AVVIK_DAYS_OFF: {error}") from None
    try:
        weekdays = parse_weekdays(get("AVVIK_WORKING_DAYS", "mon-fri"))
    except ValueError as error:
        raise SettingsError(f"AVVIK_WORKING_DAYS: {error}") from None
    weekday = get("AVVIK_DIGEST_DAY", "monday").lower()
    if weekday not in _WEEKDAYS[:5]:
        raise SettingsError(
            f"AVVIK_DIGEST_DAY must be a weekday, monday to friday, not {weekday!r}"
        )
    try:
        digest_time = time.fromisoformat(get("AVVIK_DIGEST_TIME", "08:00"))
    except ValueError:
        raise SettingsError("AVVIK_DIGEST_TIME must be a time such as 08:00") from None
    remind, escalate = days("AVVIK_REMIND_AFTER_DAYS", "2"), days("AVVIK_ESCALATE_AFTER_DAYS", "5")
    if escalate <= remind:
        raise SettingsError("AVVIK_ESCALATE_AFTER_DAYS must be more than AVVIK_REMIND_AFTER_DAYS")
    return ReminderRules(
        calendar=WorkingCalendar(start=start, end=end, days_off=days_off, weekdays=weekdays),
        acknowledge_days=remind,
        escalate_days=escalate,
        measure_warning_days=days("AVVIK_MEASURE_WARNING_DAYS", "2"),
        digest_weekday=_WEEKDAYS.index(weekday),
        digest_time=digest_time,
    )
