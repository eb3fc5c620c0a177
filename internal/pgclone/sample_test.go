package pgclone

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
	"github.com/stagingkit/terraform-provider-staging/internal/pgtest"
)

// scanFindings scans dsn in a read-only snapshot and returns the top
// finding of each flagged column by "schema.table.column".
func scanFindings(t *testing.T, dsn string) map[string]masking.Finding {
	t.Helper()
	ctx := context.Background()
	conn := dial(t, dsn)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	found, err := ScanPII(ctx, tx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]masking.Finding{}
	for _, f := range found {
		out[f.Table+"."+f.Column] = f.Findings[0]
	}
	return out
}

// TestSampleColumns_WholeTable is review item 5: personal data that only
// starts after the first 10,000 rows of a 30,000-row table is seen, in a
// table never analysed (reltuples = -1, which is not "small") and in one
// whose estimate is below the old full-read threshold.
func TestSampleColumns_WholeTable(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE never_analysed (id int PRIMARY KEY, contact text) WITH (autovacuum_enabled = false)`,
		`INSERT INTO never_analysed SELECT i, CASE WHEN i <= 10000 THEN 'ref-' || i ELSE 'user' || i || '@example.com' END FROM generate_series(1, 30000) i`,
		`CREATE TABLE analysed (id int PRIMARY KEY, contact text) WITH (autovacuum_enabled = false)`,
		`INSERT INTO analysed SELECT * FROM never_analysed`,
		`ANALYZE analysed`,
	)
	got := scanFindings(t, dsn)
	for _, col := range []string{"public.never_analysed.contact", "public.analysed.contact"} {
		if got[col].Kind != masking.KindEmail {
			t.Errorf("%s: e-mail addresses after row 10,000 not seen: %+v", col, got[col])
		}
	}
}

// TestSampleColumns_RepeatedPlaceholder is review item 7(c): a placeholder
// in 2% of rows is sampled with its repeats, so the suggestion carries the
// on_invalid that the copy will need.
func TestSampleColumns_RepeatedPlaceholder(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE people (id int PRIMARY KEY, email text)`,
		`INSERT INTO people SELECT i, CASE WHEN i % 50 = 0 THEN 'unknown' ELSE 'person' || i || '@example.com' END FROM generate_series(1, 5000) i`,
	)
	f := scanFindings(t, dsn)["public.people.email"]
	if f.Kind != masking.KindEmail || f.Suggested.OnInvalid == "" {
		t.Fatalf("2%% placeholder not seen: %+v", f)
	}
}

// TestSampleColumns_ArraysAndBytea is part of review item 6: arrays are
// judged by their elements, bytea by its first bytes (file signatures),
// whatever the columns are called.
func TestSampleColumns_ArraysAndBytea(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE blobs (id int PRIMARY KEY, data bytea, extra text[], codes text[])`,
		`INSERT INTO blobs SELECT i,
		   CASE i % 3 WHEN 0 THEN '\x89504e470d0a1a0a0000000d49484452'::bytea || pg_catalog.decode(repeat('00', 3000), 'hex')
		              WHEN 1 THEN '\x255044462d312e370a'::bytea ELSE '\xffd8ffe000104a464946'::bytea END,
		   ARRAY['a' || i || '@example.com', 'b' || i || '@example.org'],
		   ARRAY['SKU-' || i, 'SKU-' || (i + 1)]
		 FROM generate_series(1, 300) i`,
	)
	got := scanFindings(t, dsn)
	if f := got["public.blobs.data"]; f.Kind != masking.KindBinaryDocument {
		t.Errorf("bytea of PNG/PDF/JPEG not flagged: %+v", f)
	}
	if f := got["public.blobs.extra"]; f.Kind != masking.KindEmail {
		t.Errorf("text[] of e-mails not flagged: %+v", f)
	}
	if f, ok := got["public.blobs.codes"]; ok {
		t.Errorf("text[] of product codes flagged: %+v", f)
	}
}

// TestSampleColumns_SamplesPagesOfPlainTables: a plain table larger than
// smallTablePages is sampled by pages, not read whole. pg_partition_tree
// lists no row for a plain table, which once made every plain table look
// empty, so small, and read whole: a plan read all of production.
func TestSampleColumns_SamplesPagesOfPlainTables(t *testing.T) {
	dsn := pgtest.Require(t).NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE big (id int PRIMARY KEY, contact text) WITH (autovacuum_enabled = false)`,
		`INSERT INTO big SELECT i, 'user' || i || '@example.com' FROM generate_series(1, 200000) i`,
		`ANALYZE big`,
	)
	ctx := context.Background()
	conn := dial(t, dsn)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	found, err := ScanPII(ctx, tx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Column != "contact" {
		t.Fatalf("findings = %+v, want big.contact", found)
	}
	// This transaction's own counts of tuples its scans returned.
	var read int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(seq_tup_read, 0) FROM pg_stat_xact_user_tables WHERE relname = 'big'`).Scan(&read); err != nil {
		t.Fatal(err)
	}
	if read == 0 || read > 50000 {
		t.Fatalf("the scan read %d of 200,000 rows: want a page sample of at most a quarter", read)
	}
	t.Logf("sampled %d of 200,000 rows", read)
}
