package isolation

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Privilege presets of a staging login role.
const (
	PresetReadOnly  = "read_only"
	PresetReadWrite = "read_write"
	PresetOwner     = "owner"
)

// Presets lists the presets in documentation order.
var Presets = []string{PresetReadOnly, PresetReadWrite, PresetOwner}

// PresetPrivileges are the privileges a preset gives on each listed schema,
// on every table-like relation in it (tables, partitioned tables, views,
// materialized views, foreign tables) and every sequence, now and, through
// default privileges, in future.
type PresetPrivileges struct {
	Schema, Table, Sequence []string
}

// PrivilegesOf returns the privileges of a preset.
func PrivilegesOf(preset string) (PresetPrivileges, error) {
	switch preset {
	case PresetReadOnly:
		return PresetPrivileges{Schema: []string{"USAGE"}, Table: []string{"SELECT"}, Sequence: []string{"SELECT"}}, nil
	case PresetReadWrite:
		return PresetPrivileges{Schema: []string{"USAGE"}, Table: []string{"DELETE", "INSERT", "SELECT", "UPDATE"}, Sequence: []string{"SELECT", "USAGE"}}, nil
	case PresetOwner:
		return PresetPrivileges{Schema: []string{"CREATE", "USAGE"},
			Table:    []string{"DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"},
			Sequence: []string{"SELECT", "UPDATE", "USAGE"}}, nil
	}
	return PresetPrivileges{}, fmt.Errorf("unknown preset %q: use one of %s", preset, strings.Join(Presets, ", "))
}

// Role is a staging login role as configured.
type Role struct {
	Name    string
	Preset  string
	Schemas []string
	// DefaultFor are the roles whose future tables and sequences in the
	// schemas the role gets its preset on (ALTER DEFAULT PRIVILEGES FOR
	// ROLE …): whoever runs migrations and clones.
	DefaultFor []string
	// ConnectionLimit is -1 for no limit.
	ConnectionLimit int
	// ValidUntil is when the password stops working; zero for never.
	ValidUntil time.Time
}

// Privilege kinds, as Privilege.Kind.
const (
	KindDatabase        = "database"
	KindSchema          = "schema"
	KindTable           = "table"
	KindSequence        = "sequence"
	KindColumn          = "column"
	KindFunction        = "function"
	KindDefaultTable    = "default_table"
	KindDefaultSequence = "default_sequence"
	KindDefaultFunction = "default_function"
	KindDefaultType     = "default_type"
	KindDefaultSchema   = "default_schema"
	KindMembership      = "membership"
)

// Privilege is one privilege held directly by a role (grants to PUBLIC are
// not the role's), or one role it is a member of.
type Privilege struct {
	Kind string
	// Schema is the object's schema ("" for a database, a membership or a
	// default privilege of every schema).
	Schema string
	// Object is the table or sequence, "table.column" for a column, the
	// signature for a function, the creating role for a default privilege,
	// the database, or the group role of a membership.
	Object    string
	Privilege string
}

// String describes the privilege as a person would read it.
func (p Privilege) String() string {
	q := func(parts ...string) string { return pgx.Identifier(parts).Sanitize() }
	switch p.Kind {
	case KindDatabase:
		return fmt.Sprintf("%s ON DATABASE %s", p.Privilege, q(p.Object))
	case KindSchema:
		return fmt.Sprintf("%s ON SCHEMA %s", p.Privilege, q(p.Schema))
	case KindTable, KindSequence:
		return fmt.Sprintf("%s ON %s %s", p.Privilege, strings.ToUpper(p.Kind), q(p.Schema, p.Object))
	case KindColumn:
		t, c, _ := strings.Cut(p.Object, ".")
		return fmt.Sprintf("%s (%s) ON TABLE %s", p.Privilege, q(c), q(p.Schema, t))
	case KindFunction:
		return fmt.Sprintf("%s ON FUNCTION %s", p.Privilege, p.Object)
	case KindMembership:
		return "MEMBER OF " + q(p.Object)
	}
	if what, ok := defaultObjects[p.Kind]; ok {
		in := ""
		if p.Schema != "" {
			in = " IN SCHEMA " + q(p.Schema)
		}
		return fmt.Sprintf("%s ON FUTURE %s%s CREATED BY %s", p.Privilege, what, in, q(p.Object))
	}
	return p.Kind + " " + p.Privilege
}

// defaultObjects names the objects of each default-privilege kind as
// ALTER DEFAULT PRIVILEGES spells them.
var defaultObjects = map[string]string{
	KindDefaultTable: "TABLES", KindDefaultSequence: "SEQUENCES", KindDefaultFunction: "FUNCTIONS",
	KindDefaultType: "TYPES", KindDefaultSchema: "SCHEMAS",
}

// RevokeSQL is the statement that takes the privilege away from role.
func (p Privilege) RevokeSQL(role string) string {
	r := pgx.Identifier{role}.Sanitize()
	q := func(parts ...string) string { return pgx.Identifier(parts).Sanitize() }
	switch p.Kind {
	case KindMembership:
		return fmt.Sprintf("REVOKE %s FROM %s", q(p.Object), r)
	case KindColumn:
		t, c, _ := strings.Cut(p.Object, ".")
		return fmt.Sprintf("REVOKE %s (%s) ON TABLE %s FROM %s", p.Privilege, q(c), q(p.Schema, t), r)
	}
	if what, ok := defaultObjects[p.Kind]; ok {
		in := ""
		if p.Schema != "" {
			in = " IN SCHEMA " + q(p.Schema)
		}
		return fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s%s REVOKE %s ON %s FROM %s", q(p.Object), in, p.Privilege, what, r)
	}
	on := strings.TrimPrefix(p.String(), p.Privilege+" ON ")
	return fmt.Sprintf("REVOKE %s ON %s FROM %s", p.Privilege, on, r)
}

// Relation is a table-like relation or a sequence of a listed schema.
type Relation struct {
	Schema, Name string
	Sequence     bool
}

// Expected lists the privileges r must hold in a database named database
// whose listed schemas hold relations (relations the role owns left out),
// sorted.
func (r Role) Expected(database string, existingSchemas []string, relations []Relation) ([]Privilege, error) {
	pp, err := PrivilegesOf(r.Preset)
	if err != nil {
		return nil, err
	}
	out := []Privilege{{Kind: KindDatabase, Object: database, Privilege: "CONNECT"}}
	for _, s := range r.Schemas {
		if !slices.Contains(existingSchemas, s) {
			continue
		}
		for _, p := range pp.Schema {
			out = append(out, Privilege{Kind: KindSchema, Schema: s, Privilege: p})
		}
		for _, d := range r.DefaultFor {
			if d == r.Name {
				continue
			}
			for _, p := range pp.Table {
				out = append(out, Privilege{Kind: KindDefaultTable, Schema: s, Object: d, Privilege: p})
			}
			for _, p := range pp.Sequence {
				out = append(out, Privilege{Kind: KindDefaultSequence, Schema: s, Object: d, Privilege: p})
			}
		}
	}
	for _, rel := range relations {
		if !slices.Contains(r.Schemas, rel.Schema) {
			continue
		}
		kind, privs := KindTable, pp.Table
		if rel.Sequence {
			kind, privs = KindSequence, pp.Sequence
		}
		for _, p := range privs {
			out = append(out, Privilege{Kind: kind, Schema: rel.Schema, Object: rel.Name, Privilege: p})
		}
	}
	SortPrivileges(out)
	return out, nil
}

// SortPrivileges sorts privileges by kind, schema, object and privilege.
func SortPrivileges(ps []Privilege) {
	slices.SortFunc(ps, func(a, b Privilege) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Privilege, b.Privilege))
	})
}

// Diff returns what actual holds beyond expected (extra) and what it
// lacks (missing).
func Diff(expected, actual []Privilege) (missing, extra []Privilege) {
	for _, p := range expected {
		if !slices.Contains(actual, p) {
			missing = append(missing, p)
		}
	}
	for _, p := range actual {
		if !slices.Contains(expected, p) {
			extra = append(extra, p)
		}
	}
	return missing, extra
}

// GrantSQL returns the statements that give r its preset on schema s:
// usage (and create), every existing table and sequence, and default
// privileges for future ones created by each DefaultFor role. They are
// idempotent.
func (r Role) GrantSQL(s string) ([]string, error) {
	pp, err := PrivilegesOf(r.Preset)
	if err != nil {
		return nil, err
	}
	q := func(parts ...string) string { return pgx.Identifier(parts).Sanitize() }
	role, schema := q(r.Name), q(s)
	stmts := []string{
		fmt.Sprintf("GRANT %s ON SCHEMA %s TO %s", strings.Join(pp.Schema, ", "), schema, role),
		fmt.Sprintf("GRANT %s ON ALL TABLES IN SCHEMA %s TO %s", strings.Join(pp.Table, ", "), schema, role),
		fmt.Sprintf("GRANT %s ON ALL SEQUENCES IN SCHEMA %s TO %s", strings.Join(pp.Sequence, ", "), schema, role),
	}
	for _, d := range r.DefaultFor {
		if d == r.Name {
			continue
		}
		stmts = append(stmts,
			fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s GRANT %s ON TABLES TO %s", q(d), schema, strings.Join(pp.Table, ", "), role),
			fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA %s GRANT %s ON SEQUENCES TO %s", q(d), schema, strings.Join(pp.Sequence, ", "), role))
	}
	return stmts, nil
}

// Attributes are a role's attributes as the catalog holds them.
type Attributes struct {
	Login, Superuser, CreateDB, CreateRole, Replication, BypassRLS, Inherit bool
	ConnectionLimit                                                         int
	// ValidUntil is zero for never.
	ValidUntil time.Time
}

// FlagDrift lists the attribute flags that differ from a least-privileged
// login's, as the ALTER ROLE options that fix them.
func FlagDrift(a Attributes) []string {
	var out []string
	flag := func(got, want bool, name string) {
		if got != want {
			if want {
				out = append(out, name)
			} else {
				out = append(out, "NO"+name)
			}
		}
	}
	flag(a.Login, true, "LOGIN")
	flag(a.Superuser, false, "SUPERUSER")
	flag(a.CreateDB, false, "CREATEDB")
	flag(a.CreateRole, false, "CREATEROLE")
	flag(a.Replication, false, "REPLICATION")
	flag(a.BypassRLS, false, "BYPASSRLS")
	flag(a.Inherit, true, "INHERIT")
	return out
}

// LimitsSQL sets r's connection limit and expiry.
func (r Role) LimitsSQL() string {
	return fmt.Sprintf("ALTER ROLE %s CONNECTION LIMIT %d VALID UNTIL %s", pgx.Identifier{r.Name}.Sanitize(), r.ConnectionLimit, validUntilLiteral(r.ValidUntil))
}

// validUntilLiteral renders an expiry for VALID UNTIL.
func validUntilLiteral(t time.Time) string {
	if t.IsZero() {
		return "'infinity'"
	}
	return "'" + t.UTC().Format(time.RFC3339) + "'"
}

// CreateSQL creates r as a least-privileged login. verifier is the SCRAM
// verifier of its password, "" for none.
func (r Role) CreateSQL(verifier string) string {
	s := fmt.Sprintf("CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT %d VALID UNTIL %s",
		pgx.Identifier{r.Name}.Sanitize(), r.ConnectionLimit, validUntilLiteral(r.ValidUntil))
	if verifier != "" {
		s += " PASSWORD '" + verifier + "'"
	}
	return s
}

// AlterSQL applies ALTER ROLE options to r; "" when there are none.
func (r Role) AlterSQL(options []string) string {
	if len(options) == 0 {
		return ""
	}
	return fmt.Sprintf("ALTER ROLE %s %s", pgx.Identifier{r.Name}.Sanitize(), strings.Join(options, " "))
}

// PasswordSQL sets r's password to a SCRAM verifier, or removes it when
// verifier is "".
func (r Role) PasswordSQL(verifier string) string {
	if verifier == "" {
		return fmt.Sprintf("ALTER ROLE %s PASSWORD NULL", pgx.Identifier{r.Name}.Sanitize())
	}
	return fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", pgx.Identifier{r.Name}.Sanitize(), verifier)
}

// Registration is what a staging role records about itself in its
// comment, so that an import recovers its configuration and tools can
// find the roles this provider manages.
type Registration struct {
	ManagedBy         string   `json:"managed_by"`
	Environment       string   `json:"environment,omitempty"`
	Database          string   `json:"database"`
	Preset            string   `json:"preset"`
	Schemas           []string `json:"schemas"`
	DefaultFor        []string `json:"default_privileges_for,omitempty"`
	PasswordWOVersion int64    `json:"password_wo_version,omitempty"`
}

// ManagedBy marks registrations written by this provider.
const ManagedBy = "terraform-provider-staging"

// CommentSQL records reg as r's comment.
func (r Role) CommentSQL(reg Registration) (string, error) {
	reg.ManagedBy = ManagedBy
	b, err := json.Marshal(reg)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("COMMENT ON ROLE %s IS '%s'", pgx.Identifier{r.Name}.Sanitize(), strings.ReplaceAll(string(b), "'", "''")), nil
}

// ParseRegistration reads a role comment; ok is false when it is not one
// this provider wrote.
func ParseRegistration(comment string) (reg Registration, ok bool) {
	if json.Unmarshal([]byte(comment), &reg) != nil || reg.ManagedBy != ManagedBy {
		return Registration{}, false
	}
	return reg, true
}

// InferPreset guesses the preset of a role from its privileges on a
// schema (for an import without a registration): CREATE means owner,
// INSERT on a table read_write, else read_only.
func InferPreset(actual []Privilege) string {
	preset := PresetReadOnly
	for _, p := range actual {
		switch {
		case p.Kind == KindSchema && p.Privilege == "CREATE":
			return PresetOwner
		case p.Kind == KindTable && p.Privilege == "INSERT":
			preset = PresetReadWrite
		}
	}
	return preset
}
