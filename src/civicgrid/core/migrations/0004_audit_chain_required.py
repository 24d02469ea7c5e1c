"""The audit chain's ``seq`` required and unique; on PostgreSQL, triggers that refuse UPDATE, DELETE and
TRUNCATE on the audit log, and removing the chain's head or moving it backwards.

The triggers are ordinary triggers, so ``session_replication_role = replica`` (superusers only: what
``pg_restore --disable-triggers`` and the test suite's flush after transactional tests use) skips them.
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION civicgrid_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER civicgrid_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON core_auditlog
    FOR EACH STATEMENT EXECUTE FUNCTION civicgrid_audit_refuse();
CREATE TRIGGER civicgrid_audit_head_kept BEFORE DELETE OR TRUNCATE ON core_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION civicgrid_audit_refuse();
CREATE OR REPLACE FUNCTION civicgrid_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq < OLD.seq THEN
        RAISE EXCEPTION 'the audit chain head only moves forward (% -> % refused)', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER civicgrid_audit_head_forward BEFORE UPDATE ON core_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION civicgrid_audit_head_forward();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS civicgrid_audit_head_forward ON core_auditchainhead;
DROP TRIGGER IF EXISTS civicgrid_audit_head_kept ON core_auditchainhead;
DROP TRIGGER IF EXISTS civicgrid_audit_append_only ON core_auditlog;
DROP FUNCTION IF EXISTS civicgrid_audit_head_forward();
DROP FUNCTION IF EXISTS civicgrid_audit_refuse();
"""


def pg_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def pg_triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_chain")]

    operations = [
        migrations.AlterField(
            model_name="auditlog",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
        migrations.RunPython(pg_triggers, pg_triggers_drop),
    ]
