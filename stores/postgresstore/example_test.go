package postgresstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wikiauth/mwoauth/stores/postgresstore"
)

func Example() {
	url := os.Getenv("MWOAUTH_TEST_POSTGRES") // postgres://user:password@host:5432/dbname
	if url == "" {
		fmt.Println("set MWOAUTH_TEST_POSTGRES to run this example")
		return
	}
	ctx := context.Background()
	store, err := postgresstore.Open(ctx, url, postgresstore.WithCleanup(10*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the cleanup goroutine, closes the pool

	v, err := store.Save(ctx, "hashed-id", []byte("sealed"), 0, time.Now().Add(time.Hour))
	fmt.Println(v != 0, err)
}
