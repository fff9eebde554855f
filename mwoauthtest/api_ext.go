package mwoauthtest

import (
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"
	"weak"
)

// This file and the other api_*.go files extend the fake api.php with what
// an Action API client needs to be tested against: continuation through
// generators and prop modules, maxlag, ratelimited, badtoken, uploads
// (plain and chunked), errorformat and warnings in every format. They hook
// into api.go's tables from init and keep their state beside the Server.

// apiExt is the extra api.php state of one Server. It is guarded by the
// Server's mutex, like everything an apiCall touches.
type apiExt struct {
	lag         Lag
	rateLimited map[string]int // action → requests still to refuse
	actions     map[string]int // action → requests seen
	stash       map[string]*stashedFile
	files       map[string]*uploadedFile
	nextStash   int
}

var apiExts = struct {
	mu sync.Mutex
	m  map[weak.Pointer[Server]]*apiExt
}{m: map[weak.Pointer[Server]]*apiExt{}}

// ext returns s's extra state, creating it; it is dropped when s is
// garbage-collected.
func (s *Server) ext() *apiExt {
	key := weak.Make(s)
	apiExts.mu.Lock()
	defer apiExts.mu.Unlock()
	if e := apiExts.m[key]; e != nil {
		return e
	}
	e := &apiExt{
		rateLimited: map[string]int{},
		actions:     map[string]int{},
		stash:       map[string]*stashedFile{},
		files:       map[string]*uploadedFile{},
	}
	apiExts.m[key] = e
	runtime.AddCleanup(s, func(k weak.Pointer[Server]) {
		apiExts.mu.Lock()
		delete(apiExts.m, k)
		apiExts.mu.Unlock()
	}, key)
	return e
}

// Lag scripts replication lag for maxlag (see SetLag).
type Lag struct {
	// Lag is the replication lag the next requests see.
	Lag time.Duration
	// Requests is how many api.php requests that send maxlag lower than Lag
	// are refused; each refusal counts one.
	Requests int
	// RetryAfter overrides the Retry-After header; 0 means MediaWiki's
	// max(maxlag, 5) seconds.
	RetryAfter time.Duration
}

// SetLag makes the next l.Requests api.php requests that carry a maxlag
// parameter below l.Lag fail as MediaWiki does: HTTP 200, error code
// "maxlag" with host, lag and type, MediaWiki-API-Error: maxlag,
// Retry-After and X-Database-Lag. Requests without maxlag are not
// affected and do not count.
func (s *Server) SetLag(l Lag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ext().lag = l
}

// RateLimit makes the next n api.php requests with action=action (e.g.
// "edit", "upload", "query") fail with the error "ratelimited", as
// MediaWiki's rate limiter ($wgRateLimits) answers.
func (s *Server) RateLimit(action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ext().rateLimited[action] = n
}

// InvalidateTokens makes every token issued so far (csrf and the other
// types) fail with "badtoken", as after a session reset on the wiki; new
// meta=tokens requests return new tokens.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secret = randBytes(32)
}

// APIRequests returns how many api.php requests with action=action reached
// the module checks (after authentication and token checks; maxlag and
// ratelimited refusals included).
func (s *Server) APIRequests(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ext().actions[action]
}

// File returns the content of an uploaded file (name with or without
// "File:", in either title form) and whether it exists.
func (s *Server) File(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.ext().files[fileKeyName(name)]
	if f == nil {
		return nil, false
	}
	return append([]byte(nil), f.data...), true
}

// apiCountAction counts each request that reaches the checks.
func apiCountAction(c *apiCall, _ apiAction) *apiError {
	c.s.ext().actions[c.params.Get("action")]++
	return nil
}

// apiMaxlag is ApiMain::checkMaxLag.
func apiMaxlag(c *apiCall, _ apiAction) *apiError {
	v := c.params.Get("maxlag")
	if v == "" {
		return nil
	}
	maxlag, err := strconv.Atoi(v)
	if err != nil {
		return newAPIError("badinteger", `Invalid value "`+v+`" for integer parameter "maxlag".`)
	}
	e := c.s.ext()
	if e.lag.Requests <= 0 || e.lag.Lag <= time.Duration(maxlag)*time.Second {
		return nil
	}
	e.lag.Requests--
	lag := int(e.lag.Lag / time.Second)
	retry := max(maxlag, 5)
	if e.lag.RetryAfter > 0 {
		retry = max(1, int((e.lag.RetryAfter+time.Second-1)/time.Second))
	}
	host := "127.0.0.1"
	return &apiError{
		code:   "maxlag",
		info:   "Waiting for " + host + ": " + strconv.Itoa(lag) + " seconds lagged.",
		data:   obj{{"host", host}, {"lag", lag}, {"type", "db"}},
		header: http.Header{"Retry-After": {strconv.Itoa(retry)}, "X-Database-Lag": {strconv.Itoa(lag)}},
	}
}

// apiRateLimit is the rate limiter ($user->pingLimiter) as scripted by
// RateLimit.
func apiRateLimit(c *apiCall, _ apiAction) *apiError {
	e := c.s.ext()
	a := c.params.Get("action")
	if e.rateLimited[a] <= 0 {
		return nil
	}
	e.rateLimited[a]--
	return newAPIError("ratelimited", "As an anti-abuse measure, you are limited from performing this action too many times in a short space of time, and you have exceeded this limit. Please try again in a few minutes.")
}

func init() {
	apiChecks = append(apiChecks, apiCountAction, apiMaxlag, apiRateLimit)
}
