package mwoauth

import (
	"errors"
	"net"
	"strings"
)

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
