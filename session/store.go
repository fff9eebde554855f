package session

import (
	"context"
	"errors"
	"time"
)

// ErrConflict is returned by [Store.Save] when the stored version of a session
// is not the version the caller read: another request changed the session in
// the meantime. The caller reloads, reapplies its change and saves again.
var ErrConflict = errors.New("session: concurrent update (version conflict)")

// Store keeps server-side sessions and pending logins. The [Manager] hashes
// session ids before a Store sees them and seals values before they are
// stored, so a Store only ever handles opaque keys and opaque bytes.
//
// The contract, which session/sessiontest checks for every implementation:
//
//   - Every method takes a context and honours its deadline and cancellation.
//   - "Not found" is not an error: Find and TakePending report found=false and
//     a nil error for a key that is missing, expired or malformed (including
//     hostile keys such as "' OR 1=1 --").
//   - Expiry is enforced on read: a record whose expiry has passed is never
//     returned, whether or not a cleanup has removed it yet.
//   - Save is a compare-and-set on the version. version 0 creates the record
//     and fails with ErrConflict if it exists (and has not expired); any other
//     version replaces the record only if the stored version equals it, and
//     fails with ErrConflict otherwise (also when the record is gone). On
//     success Save returns the new version, which is never 0 and differs from
//     the old one. So a concurrent change (a rotated OAuth 2 refresh token, a
//     value the app stored) is never lost silently, across instances too.
//   - Delete of a missing key is a no-op.
//   - Pending logins are kept apart from sessions (they exist before a
//     session does): the same key may exist in both without interfering.
//     TakePending is atomic: of two concurrent takes of one key, exactly one
//     gets the data, so two parallel callbacks cause one token exchange.
//   - Keys are at most 128 bytes; values may be up to 1 MiB.
//   - Implementations are safe for concurrent use.
type Store interface {
	// Find returns the session stored under key and its version.
	Find(ctx context.Context, key string) (data []byte, version int64, found bool, err error)
	// Save stores data under key until expiry, as a compare-and-set on version.
	Save(ctx context.Context, key string, data []byte, version int64, expiry time.Time) (newVersion int64, err error)
	// Delete removes the session stored under key.
	Delete(ctx context.Context, key string) error

	// PutPending stores a pending login under key until expiry, replacing
	// any pending login stored under the same key.
	PutPending(ctx context.Context, key string, data []byte, expiry time.Time) error
	// TakePending returns the pending login stored under key and deletes it,
	// in one atomic step.
	TakePending(ctx context.Context, key string) (data []byte, found bool, err error)
	// DeletePending removes the pending login stored under key.
	DeletePending(ctx context.Context, key string) error
}

// Cleaner is implemented by stores that can remove expired records in bulk.
// Stores that start a cleanup goroutine do so only with a Close method that
// stops it.
type Cleaner interface {
	// Cleanup deletes every expired session and pending login.
	Cleanup(ctx context.Context) error
}
