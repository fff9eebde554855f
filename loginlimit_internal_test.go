package mwoauth

import (
	"net/http/httptest"
	"testing"
	"time"
)

// The buckets stay bounded: with MaxTracked full of busy buckets a new key
// is refused (fail closed); refilled buckets are forgotten to make room.
func TestLoginBucketsBounded(t *testing.T) {
	bs := newLoginLimiter(LoginRateLimit{PerIP: LoginRate{Burst: 1, Every: time.Minute}, MaxTracked: 2}).ip
	now := time.Unix(1_800_000_000, 0)
	key := func(i byte) [32]byte { return [32]byte{i} }
	take := func(k [32]byte, at time.Time) bool {
		bs.mu.Lock()
		defer bs.mu.Unlock()
		if bs.waitLocked(k, at) > 0 {
			return false
		}
		bs.takeLocked(k, at)
		return true
	}
	if !take(key(1), now) || !take(key(2), now) {
		t.Fatal("the first two keys were refused")
	}
	if take(key(1), now) {
		t.Fatal("a second login within the minute was allowed")
	}
	if take(key(3), now) {
		t.Fatal("a third key was tracked beyond MaxTracked")
	}
	if !take(key(3), now.Add(time.Minute)) {
		t.Fatal("a refilled bucket was not forgotten to make room")
	}
	if n := len(bs.m); n > 2 {
		t.Fatalf("%d buckets; want at most 2", n)
	}
}

// clientKey uses RemoteAddr only; IPv6 addresses of one /64 share a bucket,
// and an IPv4-mapped address is its IPv4 address.
func TestClientKey(t *testing.T) {
	k := func(remote string, hdr ...string) [32]byte {
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = remote
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return clientKey(r)
	}
	same := [][2][32]byte{
		{k("192.0.2.1:1234"), k("192.0.2.1:999", "X-Forwarded-For", "198.51.100.1")},
		{k("[2001:db8:1:2::1]:80"), k("[2001:db8:1:2:ffff::9]:81")},
		{k("[::ffff:192.0.2.1]:80"), k("192.0.2.1:80")},
	}
	for i, c := range same {
		if c[0] != c[1] {
			t.Errorf("case %d: keys differ; want one bucket", i)
		}
	}
	if k("192.0.2.1:1") == k("192.0.2.2:1") || k("[2001:db8:1:2::1]:1") == k("[2001:db8:1:3::1]:1") {
		t.Error("different clients share a bucket")
	}
}
