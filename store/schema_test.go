package store_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"

	_ "modernc.org/sqlite"
)

// The store's first migration copies tracker.Schema (a migration must never
// change once shipped, so it cannot refer to the constant). This test keeps
// the copy honest: the processed_files table the store's migrations leave
// behind has the same columns, types, defaults, keys and indexes as the one
// tracker.CreateTable makes for users of the tracker alone.
func TestProcessedFilesMatchesTrackerSchema(t *testing.T) {
	dir := t.TempDir()
	migrated, err := store.Open(filepath.Join(dir, "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer migrated.Close()
	alone, err := sql.Open("sqlite", filepath.Join(dir, "tracker.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	if _, err := alone.Exec(tracker.Schema); err != nil {
		t.Fatal(err)
	}
	got, want := tableShape(t, migrated), tableShape(t, alone)
	if !slices.Equal(got, want) {
		t.Errorf("processed_files after the store's migrations:\n%q\ntracker.Schema:\n%q", got, want)
	}
}

// tableShape lists processed_files' columns and index columns.
func tableShape(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	rows, err := db.Query(`SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info('processed_files') ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ, dflt string
		var notNull, pk int
		if err := rows.Scan(&name, &typ, &notNull, &dflt, &pk); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("col %s %s notnull=%d default=%q pk=%d", name, typ, notNull, dflt, pk))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	idx, err := db.Query(`SELECT il.name, ii.name FROM pragma_index_list('processed_files') il, pragma_index_info(il.name) ii ORDER BY il.name, ii.seqno`)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	for idx.Next() {
		var name, col string
		if err := idx.Scan(&name, &col); err != nil {
			t.Fatal(err)
		}
		out = append(out, "index "+name+" "+col)
	}
	if err := idx.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no processed_files table")
	}
	return out
}
