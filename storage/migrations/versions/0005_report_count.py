"""report counts per month, unit, severity and category, kept by triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 14:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_KEY = "reported_month, unit_id, severity, category"

# SQLite: row triggers; the UPDATE one only for the counted columns.
_SQLITE = [
    f"""
    CREATE TRIGGER report_count_insert AFTER INSERT ON report BEGIN
      INSERT INTO report_count ({_KEY}, n)
      VALUES (NEW.reported_month, coalesce(NEW.unit_id, 0), NEW.severity, NEW.category, 1)
      ON CONFLICT ({_KEY}) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER report_count_delete AFTER DELETE ON report BEGIN
      UPDATE report_count SET n = n - 1
      WHERE reported_month = OLD.reported_month AND unit_id = coalesce(OLD.unit_id, 0)
        AND severity = OLD.severity AND category = OLD.category;
    END
    """,
    f"""
    CREATE TRIGGER report_count_update
    AFTER UPDATE OF reported_month, unit_id, severity, category ON report BEGIN
      UPDATE report_count SET n = n - 1
      WHERE reported_month = OLD.reported_month AND unit_id = coalesce(OLD.unit_id, 0)
        AND severity = OLD.severity AND category = OLD.category;
      INSERT INTO report_count ({_KEY}, n)
      VALUES (NEW.reported_month, coalesce(NEW.unit_id, 0), NEW.severity, NEW.category, 1)
      ON CONFLICT ({_KEY}) DO UPDATE SET n = n + 1;
    END
    """,
]

# PostgreSQL: statement triggers over transition tables, so a bulk import or COPY adds one
# grouped upsert, not one per row; rows are upserted in key order so that two writers lock
# the count rows in the same order. The functions keep the schema they were made in
# (`SET search_path FROM CURRENT`): a session with another search_path still counts.
_ADD = f"""
    INSERT INTO report_count ({_KEY}, n)
    SELECT reported_month, coalesce(unit_id, 0), severity, category, count(*) FROM {{rows}}
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({_KEY}) DO UPDATE SET n = report_count.n + EXCLUDED.n;
"""
_REMOVE = """
    UPDATE report_count AS c SET n = c.n - gone.k
    FROM (SELECT reported_month, coalesce(unit_id, 0) AS unit_id, severity, category,
                 count(*) AS k
          FROM {rows} GROUP BY 1, 2, 3, 4) AS gone
    WHERE c.reported_month = gone.reported_month AND c.unit_id = gone.unit_id
      AND c.severity = gone.severity AND c.category = gone.category;
"""
_MOVED = """(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (o.reported_month, coalesce(o.unit_id, 0), o.severity, o.category)
          IS DISTINCT FROM (n.reported_month, coalesce(n.unit_id, 0), n.severity, n.category))
    AS moved"""
_POSTGRES = [
    f"""
    CREATE FUNCTION report_count_added() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN {_ADD.format(rows="new_rows")} RETURN NULL; END $$
    """,
    f"""
    CREATE FUNCTION report_count_removed() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN {_REMOVE.format(rows="old_rows")} RETURN NULL; END $$
    """,
    f"""
    CREATE FUNCTION report_count_moved() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
      {_REMOVE.format(rows=_MOVED.format(side="o"))}
      {_ADD.format(rows=_MOVED.format(side="n"))}
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER report_count_insert AFTER INSERT ON report
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_count_added()
    """,
    """
    CREATE TRIGGER report_count_delete AFTER DELETE ON report
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_count_removed()
    """,
    """
    CREATE TRIGGER report_count_update AFTER UPDATE ON report
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_count_moved()
    """,
]


def upgrade() -> None:
    op.create_table('report_count',
    sa.Column('reported_month', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('reported_month', 'unit_id', 'severity', 'category')
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # No report may be written between the count below and the triggers taking over
        # (another instance still running, a CLI); readers carry on. SQLite's migration
        # already holds the only write lock.
        op.execute("LOCK TABLE report IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        f"INSERT INTO report_count ({_KEY}, n) "
        "SELECT reported_month, coalesce(unit_id, 0), severity, category, count(*) "
        "FROM report GROUP BY 1, 2, 3, 4"
    )
    statements = _POSTGRES if postgres else _SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("report_count_insert", "report_count_delete", "report_count_update"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON report")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    if op.get_bind().dialect.name == "postgresql":
        for function in ("report_count_added", "report_count_removed", "report_count_moved"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table('report_count')
