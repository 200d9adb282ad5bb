package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/roundfeed/roundfeed/store"
	"github.com/roundfeed/roundfeed/tracker"
)

// ExampleOpen opens a database with the store's pragmas and migrations and
// builds the store with its tracker on the same *sql.DB.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "roundfeed-store")
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "roundfeed.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	tr, _ := tracker.NewSQL(db, tracker.DefaultConfig(), tracker.SQLite)
	st, _ := store.New(db, tr)
	b, _ := st.OutboxBacklog(context.Background())
	counts, _ := st.Counts(context.Background())
	fmt.Println(b.Pending, len(counts))
	// Output: 0 0
}

// ExampleOpenURL is how a bot picks its database: DB_URL=postgres://... for
// PostgreSQL (replicas may share it), empty for the SQLite file. The
// dialect it returns goes to the tracker; the store finds it from the
// driver.
func ExampleOpenURL() {
	dir, _ := os.MkdirTemp("", "roundfeed-store")
	defer os.RemoveAll(dir)
	dbURL := "" // os.Getenv("DB_URL"), e.g. postgres://roundfeed:secret@db:5432/roundfeed
	db, dialect, err := store.OpenURL(context.Background(), dbURL, filepath.Join(dir, "roundfeed.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	tr, _ := tracker.NewSQL(db, tracker.DefaultConfig(), dialect)
	st, _ := store.New(db, tr)
	fmt.Println(dialect == store.SQLite, st.Dialect() == dialect)
	// Output: true true
}
