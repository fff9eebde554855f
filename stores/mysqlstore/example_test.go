package mysqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wikiauth/mwoauth/stores/mysqlstore"
)

func Example() {
	// On Toolforge: user:password@tcp(tools.db.svc.wikimedia.cloud:3306)/s12345__mytool
	dsn := os.Getenv("MWOAUTH_TEST_MYSQL")
	if dsn == "" {
		fmt.Println("set MWOAUTH_TEST_MYSQL to run this example")
		return
	}
	ctx := context.Background()
	store, err := mysqlstore.Open(ctx, dsn, mysqlstore.WithCleanup(10*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the cleanup goroutine

	v, err := store.Save(ctx, "hashed-id", []byte("sealed"), 0, time.Now().Add(time.Hour))
	fmt.Println(v != 0, err)
}
