package mysqlstore

import "testing"

func TestParseDSN(t *testing.T) {
	for _, c := range []struct {
		in                       string
		user, pass, addr, dbname string
		wantErr                  bool
	}{
		{in: "u:p@tcp(127.0.0.1:13306)/db", user: "u", pass: "p", addr: "127.0.0.1:13306", dbname: "db"},
		{in: "mysql://u:p%40ss@127.0.0.1:13306/s1__tool", user: "u", pass: "p@ss", addr: "127.0.0.1:13306", dbname: "s1__tool"},
		{in: "mysql://u@localhost/db", user: "u", addr: "localhost:3306", dbname: "db"},
		{in: "mysql://[::1]:3307/db", addr: "[::1]:3307", dbname: "db"},
		{in: "mysql:///db", wantErr: true},
		{in: "mysql://h/db?x=1", wantErr: true},
		{in: "not a dsn", wantErr: true},
	} {
		cfg, err := parseDSN(c.in)
		if c.wantErr {
			if err == nil {
				t.Errorf("parseDSN(%q) = nil error; want an error", c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseDSN(%q) error: %v", c.in, err)
			continue
		}
		if cfg.User != c.user || cfg.Passwd != c.pass || cfg.Addr != c.addr || cfg.DBName != c.dbname || cfg.Net != "tcp" {
			t.Errorf("parseDSN(%q) = user %q pass %q addr %q db %q net %q; want %q %q %q %q tcp",
				c.in, cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName, cfg.Net, c.user, c.pass, c.addr, c.dbname)
		}
	}
}
