"""`capture-keys`: create, list, revoke and rotate API keys, on AWS or on the local stack."""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Sequence
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from capture_core.auth import project_settings
from capture_core.auth.key_items import MAX_PROJECT_ID, SETTING_NAMES, ProjectSettings
from capture_core.auth.quotas import EVENTS, RECORDINGS
from capture_core.usage.ledger import MAX_QUOTA, Usage
from capture_local import names, state

from capture_admin.store import AdminError, KeyAdmin


class _OnOff(click.ParamType):  # type: ignore[type-arg]
    """`on` or `off`, as a bool."""

    name = "on|off"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in {"on", "off"}:
            self.fail(f"{value!r} is not on or off", param, ctx)
        return text == "on"


ON_OFF = _OnOff()
# Project ids as every reader holds them exactly (JavaScript, Athena's bigint, DuckDB).
PROJECT_ID = click.IntRange(min=1, max=MAX_PROJECT_ID)


class _Setting(click.ParamType):  # type: ignore[type-arg]
    """A project setting's value, checked as the table's readers check it (range, no NaN)."""

    def __init__(self, name: str) -> None:
        self.setting = name
        self.name = project_settings.SETTING_KINDS[name]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        kind = self.name
        try:
            if kind == project_settings.BOOL:
                parsed: Any = ON_OFF.convert(value, param, ctx)
            elif kind == project_settings.RATE:
                parsed = float(value)
            elif kind == project_settings.DURATION:
                parsed = int(str(value).strip())
            else:
                parsed = tuple(part.strip() for part in str(value).split(",") if part.strip())
            return project_settings.check(self.setting, parsed)
        except ValueError as error:
            self.fail(str(error) if self.setting in str(error) else f"{value!r} is not {kind}", param, ctx)


def _tables_from_stack(session: boto3.session.Session, stack: str) -> tuple[str, str | None]:
    """The stack's key table, and its usage table (None for a stack deployed before it had one)."""
    outputs = (
        session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    )
    values = {output["OutputKey"]: str(output["OutputValue"]) for output in outputs}
    if "ApiKeysTableName" not in values:
        raise AdminError(f"stack {stack} has no ApiKeysTableName output: is it this project's stack?")
    return values["ApiKeysTableName"], values.get("UsageTableName")


def _connect(
    *,
    local: bool,
    table: str | None,
    usage_table: str | None,
    stack: str | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> KeyAdmin:
    if local:
        endpoint_url = endpoint_url or state.moto_endpoint()
        session = boto3.session.Session(
            aws_access_key_id=names.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=names.FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region or names.DEFAULT_REGION,
        )
        table, usage_table = table or names.TABLE_NAME, usage_table or names.USAGE_TABLE_NAME
    else:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        if table is None and stack is None:
            raise click.UsageError("say where the keys are: --local, --table NAME or --stack NAME")
        if table is None:
            table, stack_usage_table = _tables_from_stack(session, stack or "")
            usage_table = usage_table or stack_usage_table
    return KeyAdmin(session.client("dynamodb", endpoint_url=endpoint_url), table, usage_table)


@click.group()
@click.option(
    "--local", is_flag=True, help="The local stack of `make dev` (found from its state file, or MOTO_PORT)."
)
@click.option("--table", help="The key table's name.")
@click.option("--usage-table", help="The usage table's name (quota and usage; --stack finds it).")
@click.option("--stack", help="A deployed stack's name: its ApiKeysTableName output is the table.")
@click.option("--profile", help="AWS profile (else the usual AWS credential chain).")
@click.option("--region", help="AWS region (else the profile's or AWS_REGION).")
@click.option("--endpoint-url", help="Another DynamoDB endpoint, e.g. a moto server.")
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Manage the capture API's projects and API keys."""
    ctx.obj = options


def _admin(ctx: click.Context) -> KeyAdmin:
    return _connect(**ctx.find_root().obj)


# Characters that would start a new line or move the cursor in a terminal: a name holding one could
# forge a row of a listing. Names are refused with them and shown escaped if an item has them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _shown(text: str) -> str:
    return _CONTROL.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def _plain_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (_CONTROL.search(value) or not value.strip() or len(value) > 200):
        raise click.BadParameter(
            "a name is 1 to 200 characters, none of them a control character", ctx, param
        )
    return value


def _keys(count: int) -> str:
    return f"{count} key" if count == 1 else f"{count} keys"


def _warn_skipped(admin: KeyAdmin) -> None:
    if admin.skipped:
        click.echo(
            f"warning: {admin.skipped} project or key items of the key table are malformed and were left out",
            err=True,
        )


def _show_secret(kind: str, secret: str) -> None:
    click.echo(secret)
    click.echo(f"This is the only time the {kind} is shown: store it now.", err=True)


@cli.command("create-project")
@click.argument("project_id", type=PROJECT_ID)
@click.option("--name", required=True, callback=_plain_name, help="A name for people.")
@click.option("--anonymize-ips", is_flag=True, help="Store this project's events with ip null.")
@click.pass_context
def create_project(ctx: click.Context, project_id: int, name: str, anonymize_ips: bool) -> None:
    """Create a project and its first project API key (phc_…), printed once."""
    settings = ProjectSettings(anonymize_ips=anonymize_ips)
    _show_secret("project API key", _admin(ctx).create_project(project_id, name, settings))


@cli.command("create-key")
@click.argument("project_id", type=PROJECT_ID)
@click.pass_context
def create_key(ctx: click.Context, project_id: int) -> None:
    """Create another project API key for an existing project, printed once."""
    _show_secret("project API key", _admin(ctx).create_project_key(project_id))


@cli.command("create-personal-key")
@click.option("--name", required=True, callback=_plain_name, help="Whose key, or what for.")
@click.option(
    "--project-id",
    "project_ids",
    type=PROJECT_ID,
    multiple=True,
    help="A project it may write to.",
)
@click.option("--all-projects", is_flag=True, help="It may write to every project.")
@click.pass_context
def create_personal_key(
    ctx: click.Context, name: str, project_ids: Sequence[int], all_projects: bool
) -> None:
    """Create a personal API key (phx_…), printed once; only its SHA-256 is stored."""
    if bool(project_ids) == all_projects:
        raise click.UsageError("give either --project-id (one or more) or --all-projects")
    _show_secret(
        "personal API key", _admin(ctx).create_personal_key(name, None if all_projects else list(project_ids))
    )


@cli.command("list")
@click.option("--project-id", type=int, help="Only the keys that can write to this project.")
@click.pass_context
def list_keys(ctx: click.Context, project_id: int | None) -> None:
    """List keys by fingerprint (keys themselves are never shown)."""
    admin = _admin(ctx)
    keys = admin.list_keys(project_id)
    width = max([len("PROJECTS"), *(len(key.projects) for key in keys)])
    row = "{:<17} {:<13} {:<" + str(width) + "} {:<8} {:<32} {}"
    click.echo(row.format("FINGERPRINT", "KIND", "PROJECTS", "STATUS", "CREATED", "NAME"))
    for key in keys:
        status = "revoked" if key.revoked else "active"
        click.echo(
            row.format(key.fingerprint, key.kind, key.projects, status, key.created_at, _shown(key.name))
        )
    _warn_skipped(admin)


@cli.command()
@click.argument("key")
@click.pass_context
def revoke(ctx: click.Context, key: str) -> None:
    """Revoke a key, given by fingerprint (see `list`) or by the key itself."""
    info = _admin(ctx).revoke(key)
    click.echo(
        f"revoked {info.kind} {info.fingerprint}: it stops working within the functions' key cache TTL "
        "(KEY_CACHE_TTL_SECONDS, 60 s by default)"
    )


@cli.command()
@click.argument("key")
@click.pass_context
def rotate(ctx: click.Context, key: str) -> None:
    """Replace a key with a new one (same project or scope) and revoke the old; prints the new key."""
    _show_secret("new key", _admin(ctx).rotate(key))


CACHE_NOTE = (
    "the functions see it within their key cache TTL (KEY_CACHE_TTL_SECONDS, 60 s by default), "
    "browsers within that plus the remote config's Cache-Control max-age"
)


@cli.command("anonymize-ips")
@click.argument("project_id", type=PROJECT_ID)
@click.argument("state", type=ON_OFF)
@click.pass_context
def anonymize_ips(ctx: click.Context, project_id: int, state: bool) -> None:
    """Store a project's events with ip null (on), or with the caller's address (off)."""
    _, keys = _admin(ctx).update_settings(project_id, anonymize_ips=state)
    click.echo(f"project {project_id}: anonymize_ips {_on_off(state)} ({_keys(keys)} updated); {CACHE_NOTE}")


class _NamesText(click.ParamType):  # type: ignore[type-arg]
    name = "name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value)


def _names_callback(setting: str) -> Any:
    """A repeated option's names as the setting's value (None: the option was not given)."""

    def callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
        if not values:
            return None
        try:
            return project_settings.check(setting, tuple(text for text in values if text))
        except ValueError as error:
            raise click.BadParameter(str(error), ctx, param) from error

    return callback


def _setting_options(command: Any) -> Any:
    """Each project setting as an option of `project-settings`, from its declaration."""
    for spec in reversed(dataclasses.fields(ProjectSettings)):
        if spec.name == "anonymize_ips":
            continue  # its own command, `anonymize-ips`
        kind = spec.metadata["kind"]
        many = kind == project_settings.NAMES  # names hold commas: one option per name
        command = click.option(
            spec.metadata["option"],
            spec.name,
            type=_NamesText() if many else _Setting(spec.name),
            multiple=many,
            callback=_names_callback(spec.name) if many else None,
            metavar="NAME" if many else kind.upper() if kind != project_settings.BOOL else kind,
            help=spec.metadata["help"],
        )(command)
    return command


@cli.command("project-settings")
@click.argument("project_id", type=PROJECT_ID)
@_setting_options
@click.pass_context
def project_settings_command(ctx: click.Context, /, project_id: int, **options: Any) -> None:
    """Show a project's settings, or change the ones given."""
    changes = {name: value for name, value in options.items() if value is not None}
    admin = _admin(ctx)
    if changes:
        settings, keys = admin.update_settings(project_id, **changes)
        click.echo(f"project {project_id}: updated on the project and {_keys(keys)}; {CACHE_NOTE}", err=True)
    else:
        settings = admin.settings(project_id)
    click.echo(_settings_text(settings))


@cli.command("projects")
@click.pass_context
def projects(ctx: click.Context) -> None:
    """List projects with their settings and their keys' fingerprints (never the keys)."""
    admin = _admin(ctx)
    projects = admin.projects()
    usage = {used.project_id: used for used in admin.usage()} if admin.knows_usage else {}
    for project in projects:
        token = project.token_fingerprint or "none (create one with create-key)"
        click.echo(f"project {project.project_id}  {_shown(project.name)}")
        click.echo(f"  settings  {_settings_text(project.settings)}")
        if project.project_id in usage:
            click.echo(f"  quotas    {_usage_text(usage[project.project_id])}")
        click.echo(f"  token     {token}")
        for key in project.keys:
            status = "revoked" if key.revoked else "active"
            click.echo(
                f"  {key.kind:<13} {key.fingerprint}  {status:<7}  {key.created_at}  {_shown(key.name)}"
            )
    _warn_skipped(admin)


class _Quota(click.ParamType):  # type: ignore[type-arg]
    """A monthly limit: a whole number, or `off` (no limit: -1 here)."""

    name = "N|off"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip().lower().replace("_", "").replace(",", "")
        if text in {"off", "none"}:
            return _NO_LIMIT
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_QUOTA:
            self.fail(f"{value!r} is not a whole number from 0 to {MAX_QUOTA:,}, or off", param, ctx)
        return int(text)


_NO_LIMIT = -1
QUOTA = _Quota()


@cli.command("quota")
@click.argument("project_id", type=PROJECT_ID)
@click.option("--events", type=QUOTA, help="Analytics events a calendar month (UTC), or off.")
@click.option("--recordings", type=QUOTA, help="Sessions recorded a calendar month (UTC), or off.")
@click.pass_context
def quota(ctx: click.Context, project_id: int, events: int | None, recordings: int | None) -> None:
    """Show a project's monthly quotas and this month's usage, or set them (off: no limit).

    Over a quota, capture answers as if all were well and stores nothing of that lane until the
    month ends (UTC) or the quota is raised; a change takes effect within the key cache TTL."""
    admin = _admin(ctx)
    changes = {
        lane: None if value == _NO_LIMIT else value
        for lane, value in ((EVENTS, events), (RECORDINGS, recordings))
        if value is not None
    }
    if changes:
        used = admin.set_quota(project_id, changes)
        click.echo(f"project {project_id}: quotas updated; {CACHE_NOTE}", err=True)
    else:
        found = [used for used in admin.usage() if used.project_id == project_id]
        if not found:
            raise AdminError(f"project {project_id} does not exist")
        used = found[0]
    click.echo(f"project {project_id}  {_usage_text(used)}")


@cli.command("usage")
@click.option("--month", help="A calendar month as YYYY-MM (UTC); this one by default.")
@click.pass_context
def usage_command(ctx: click.Context, month: str | None) -> None:
    """Each project's usage for the month, beside its quotas: events stored, sessions recorded."""
    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter(f"{month!r} is not a month like 2026-01", param_hint="--month")
    rows = _admin(ctx).usage(month)
    row = "{:>10}  {:<8}  {:>15}  {:>15}  {:>15}  {:>15}"
    click.echo(row.format("PROJECT", "MONTH", "EVENTS", "EVENTS QUOTA", "RECORDINGS", "RECORDINGS QUOTA"))
    for used in rows:
        cells = [_limit_cell(used, lane) for lane in (EVENTS, RECORDINGS)]
        click.echo(
            row.format(
                used.project_id,
                used.month,
                f"{used.counted[EVENTS]:,}",
                cells[0],
                f"{used.counted[RECORDINGS]:,}",
                cells[1],
            )
        )


def _limit_cell(used: Usage, lane: str) -> str:
    limit = used.limits.get(lane)
    if limit is None:
        return "none"
    return f"{limit:,}" + (" (over)" if used.is_over(lane) else "")


def _usage_text(used: Usage) -> str:
    parts = []
    for lane, unit in ((EVENTS, "events"), (RECORDINGS, "sessions recorded")):
        limit, counted = used.limits.get(lane), used.counted[lane]
        if limit is None:
            parts.append(f"{lane}: no quota ({counted:,} {unit} in {used.month})")
            continue
        state = (
            "over quota: stores none until the month ends"
            if used.is_over(lane)
            else f"{used.share(lane):.0%}"
        )
        parts.append(f"{lane}: {counted:,} of {limit:,} {unit} in {used.month} ({state})")
    return "; ".join(parts)


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _setting_text(value: bool | float | tuple[str, ...]) -> str:
    if isinstance(value, tuple):
        return ",".join(value) or "any"
    return _on_off(value) if isinstance(value, bool) else format(value, "g")


def _settings_text(settings: ProjectSettings) -> str:
    return " ".join(f"{name}={_setting_text(getattr(settings, name))}" for name in SETTING_NAMES)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="capture-keys", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except (AdminError, ProfileNotFound, state.NotRunning) as error:
        click.echo(f"error: {error}", err=True)
        return 1
    except NoCredentialsError:
        click.echo("error: no AWS credentials: use --profile, or AWS_PROFILE / AWS_ACCESS_KEY_ID", err=True)
        return 1
    except ClientError as error:
        details = error.response.get("Error", {})
        click.echo(f"error: AWS said {details.get('Code')}: {details.get('Message')}", err=True)
        return 1
    except BotoCoreError as error:
        click.echo(f"error: {error}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
