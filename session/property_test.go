package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRandomSequences runs random sequences of session and pending-login
// operations (SECURITY.md R20): no Set-Cookie line ever exceeds 4096 bytes
// (checkSetCookies), at most MaxPending pending logins are held, a failed
// Save writes nothing, and the session read back is the one last saved.
func TestRandomSequences(t *testing.T) {
	t.Parallel()
	for _, mo := range modes {
		t.Run(mo.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			e := newEnv(t, mo.store, nil)
			b := newBrowser()
			var want string // the data last saved
			for step := range 400 {
				e.clock.Advance(time.Duration(rng.IntN(120)) * time.Second)
				if e.clock.Now().Sub(t0) > DefaultMaxAge/2 {
					break
				}
				w := httptest.NewRecorder()
				switch op := rng.IntN(6); op {
				case 0, 1: // change the data, sometimes beyond a cookie's size
					s := e.load(b)
					if got := string(s.Data()); got != want {
						t.Fatalf("step %d: Load = %d bytes; want %d", step, len(got), len(want))
					}
					d := strings.Repeat(fmt.Sprint(step%10), rng.IntN(4000))
					s.SetData([]byte(d))
					err := e.m.Save(context.Background(), w, s)
					switch {
					case err == nil:
						want = d
					case errors.Is(err, ErrTooLarge) && !mo.store:
						if len(w.Header().Values("Set-Cookie")) != 0 {
							t.Fatalf("step %d: ErrTooLarge with a Set-Cookie", step)
						}
					default:
						t.Fatalf("step %d: Save: %v", step, err)
					}
				case 2: // login
					s := e.load(b)
					s.Renew()
					if err := e.m.Save(context.Background(), w, s); err != nil {
						t.Fatalf("step %d: Save(Renew): %v", step, err)
					}
				case 3: // logout
					s := e.load(b)
					s.Destroy()
					if err := e.m.Save(context.Background(), w, s); err != nil {
						t.Fatalf("step %d: Save(Destroy): %v", step, err)
					}
					want = ""
				case 4:
					h := fmt.Sprint("h", rng.IntN(8))
					if err := e.m.PutPending(context.Background(), w, b.request(), h, make([]byte, rng.IntN(2500))); err != nil {
						t.Fatalf("step %d: PutPending: %v", step, err)
					}
				case 5:
					if _, _, err := e.m.TakePending(context.Background(), w, b.request(), fmt.Sprint("h", rng.IntN(8))); err != nil {
						t.Fatalf("step %d: TakePending: %v", step, err)
					}
				}
				b.apply(t, w)
				if n := e.pendingCookies(b); n > DefaultMaxPending {
					t.Fatalf("step %d: %d pending cookies", step, n)
				}
			}
		})
	}
}
