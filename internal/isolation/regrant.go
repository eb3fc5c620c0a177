package isolation

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// GrantCatalogSchema is the schema of a staging database where roles
// record the statements that give them their preset on each schema
// (table grants), and where the event trigger that re-runs them lives.
//
// The contract with staging_postgres_clone (and any tool that replaces a
// schema by building a new one and renaming it into place, or by creating
// it again): a re-copy drops the old schema and with it every grant and
// schema-level default privilege on it. When the new schema takes the
// name (ALTER SCHEMA … RENAME TO, or CREATE SCHEMA), the event trigger
// runs the recorded statements inside the same transaction, so the swap
// commits with every registered role holding exactly its preset on the
// new copy. If a statement fails, the trigger raises a warning instead of
// failing the swap: the role lacks privileges until the next apply, whose
// drift check reports and repairs it.
const GrantCatalogSchema = "stagingkit_roles"

var grantTable = pgx.Identifier{GrantCatalogSchema, "grants"}.Sanitize()

// regrantDDL creates the grant catalog, its functions and two event
// triggers. stagingkit_roles_lock takes RoleLockKey before any CREATE,
// ALTER or DROP SCHEMA runs (before the command takes locks of its own,
// so that every transaction takes the role lock first and none waits for
// it while holding a lock a role's apply or destroy needs), so a schema swap and a role's apply never
// interleave: either the role's grants and catalog row are committed
// before the swap reads the catalog, or the role's apply starts after the
// swap committed and sees the new schema (and neither updates a catalog
// row the other is changing, which would fail with "tuple concurrently
// updated"). stagingkit_roles_regrant then runs the recorded statements
// for the schema that took the name. Creating an event trigger needs a
// superuser.
var regrantDDL = []string{
	"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{GrantCatalogSchema}.Sanitize(),
	"CREATE TABLE IF NOT EXISTS " + grantTable + ` (
		role_name   text NOT NULL,
		schema_name text NOT NULL,
		statements  text[] NOT NULL,
		PRIMARY KEY (role_name, schema_name))`,
	"COMMENT ON TABLE " + grantTable + " IS 'The statements that give each staging_postgres_role its preset on a schema; the event trigger stagingkit_roles_regrant runs them again when a schema of that name is created or renamed into place (a re-copy).'",
	`CREATE OR REPLACE FUNCTION ` + pgx.Identifier{GrantCatalogSchema, "regrant"}.Sanitize() + `() RETURNS event_trigger
	LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
	g record;
	stmt text;
BEGIN
	FOR g IN
		SELECT c.role_name, c.schema_name, c.statements
		  FROM pg_event_trigger_ddl_commands() d
		  JOIN pg_namespace n ON d.object_type = 'schema' AND n.oid = d.objid
		  JOIN ` + grantTable + ` c ON c.schema_name = n.nspname
		  JOIN pg_roles r ON r.rolname = c.role_name
		 ORDER BY 1, 2
	LOOP
		BEGIN
			FOREACH stmt IN ARRAY g.statements LOOP
				EXECUTE stmt;
			END LOOP;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'stagingkit: could not give role % its preset on schema % again: %', g.role_name, g.schema_name, SQLERRM;
		END;
	END LOOP;
END
$fn$`,
	`CREATE OR REPLACE FUNCTION ` + pgx.Identifier{GrantCatalogSchema, "lock"}.Sanitize() + `() RETURNS event_trigger
	LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
	PERFORM pg_advisory_xact_lock(` + fmt.Sprint(RoleLockKey) + `);
END
$fn$`,
	// Created again on every apply (under the role lock), so that a
	// database set up by an earlier version gets the current definitions.
	"DROP EVENT TRIGGER IF EXISTS stagingkit_roles_lock",
	`CREATE EVENT TRIGGER stagingkit_roles_lock ON ddl_command_start
		WHEN TAG IN ('CREATE SCHEMA', 'ALTER SCHEMA', 'DROP SCHEMA')
		EXECUTE FUNCTION ` + pgx.Identifier{GrantCatalogSchema, "lock"}.Sanitize() + `()`,
	"DROP EVENT TRIGGER IF EXISTS stagingkit_roles_regrant",
	`CREATE EVENT TRIGGER stagingkit_roles_regrant ON ddl_command_end
		WHEN TAG IN ('CREATE SCHEMA', 'ALTER SCHEMA')
		EXECUTE FUNCTION ` + pgx.Identifier{GrantCatalogSchema, "regrant"}.Sanitize() + `()`,
}

// ErrNoRegrant is returned when the grant catalog's event trigger cannot
// be created (the staging login is not a superuser): roles then lose
// their grants on a re-copied schema until the next apply repairs them.
var ErrNoRegrant = errors.New("the staging login may not create event triggers (only a superuser may), so a re-copy of a schema " +
	"drops this role's privileges on it until the next terraform apply repairs them")

// HasRegrant reports whether the database has the re-grant event trigger.
func HasRegrant(ctx context.Context, db DB) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT count(*) = 2 FROM pg_event_trigger WHERE evtname IN ('stagingkit_roles_lock', 'stagingkit_roles_regrant') AND evtenabled <> 'D'`).Scan(&ok)
	return ok, err
}

// registerGrants records r's grant statements per listed schema, creating
// the catalog and trigger first when the login may (inside a savepoint,
// so a refusal leaves the transaction usable).
func registerGrants(ctx context.Context, tx DB, r Role) error {
	var super bool
	if err := tx.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return err
	}
	var catalog bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", grantTable).Scan(&catalog); err != nil {
		return err
	}
	if super {
		for _, s := range regrantDDL {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("creating the grant catalog: %w", err)
			}
		}
		catalog = true
	}
	if !catalog {
		return nil
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+grantTable+" WHERE role_name = $1 AND NOT schema_name = ANY($2)", r.Name, r.Schemas); err != nil {
		return err
	}
	for _, s := range r.Schemas {
		stmts, err := r.GrantSQL(s)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+grantTable+` (role_name, schema_name, statements) VALUES ($1, $2, $3)
			ON CONFLICT (role_name, schema_name) DO UPDATE SET statements = excluded.statements`, r.Name, s, stmts); err != nil {
			return fmt.Errorf("recording the grants of role %q: %w", r.Name, err)
		}
	}
	return nil
}

// unregisterGrants removes a role from the grant catalog, if there is one.
func unregisterGrants(ctx context.Context, tx DB, name string) error {
	var catalog bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", grantTable).Scan(&catalog); err != nil || !catalog {
		return err
	}
	_, err := tx.Exec(ctx, "DELETE FROM "+grantTable+" WHERE role_name = $1", name)
	return err
}
