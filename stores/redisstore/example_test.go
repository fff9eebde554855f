package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wikiauth/mwoauth/stores/redisstore"
)

func Example() {
	url := os.Getenv("MWOAUTH_TEST_REDIS") // e.g. redis://127.0.0.1:6379/0
	if url == "" {
		fmt.Println("set MWOAUTH_TEST_REDIS to run this example")
		return
	}
	// On a shared Redis, use a prefix of the app's own.
	store, err := redisstore.Open(url, redisstore.WithPrefix("mytool-example:"), redisstore.WithTimeout(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	if err := store.PutPending(ctx, "hashed-state", []byte("sealed verifier"), time.Now().Add(10*time.Minute)); err != nil {
		log.Fatal(err)
	}
	data, found, err := store.TakePending(ctx, "hashed-state")
	fmt.Println(string(data), found, err)
	_, found, err = store.TakePending(ctx, "hashed-state")
	fmt.Println(found, err)
}
