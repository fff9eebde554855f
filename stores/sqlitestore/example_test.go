package sqlitestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/wikiauth/mwoauth/stores/sqlitestore"
)

func Example() {
	dir, err := os.MkdirTemp("", "sqlitestore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Delete expired sessions every 10 minutes, until Close.
	store, err := sqlitestore.New(filepath.Join(dir, "sessions.db"), sqlitestore.WithCleanup(10*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// A session.Manager makes these calls; here, by hand.
	ctx := context.Background()
	v, err := store.Save(ctx, "hashed-id", []byte("sealed"), 0, time.Now().Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	data, _, found, err := store.Find(ctx, "hashed-id")
	fmt.Println(string(data), found, err)
	_, err = store.Save(ctx, "hashed-id", []byte("update"), v+1, time.Now().Add(time.Hour))
	fmt.Println(err)
	// Output:
	// sealed true <nil>
	// session: concurrent update (version conflict)
}
