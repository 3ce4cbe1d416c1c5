package staff

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"no proxies", "203.0.113.9:4000", []string{"198.51.100.1"}, nil, "203.0.113.9"},
		{"untrusted peer", "203.0.113.9:4000", []string{"198.51.100.1"}, proxies, "203.0.113.9"},
		{"trusted peer", "10.1.2.3:4000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"right-most untrusted", "10.1.2.3:4000", []string{"192.0.2.7, 198.51.100.1, 10.9.9.9"}, proxies, "198.51.100.1"},
		{"several headers", "10.1.2.3:4000", []string{"192.0.2.7", "198.51.100.1, 10.9.9.9"}, proxies, "198.51.100.1"},
		{"only proxies", "10.1.2.3:4000", []string{"10.4.4.4, 10.9.9.9"}, proxies, "10.4.4.4"},
		{"no header", "10.1.2.3:4000", nil, proxies, "10.1.2.3"},
		{"malformed entry", "10.1.2.3:4000", []string{"198.51.100.1, không-phải-ip, 10.9.9.9"}, proxies, "10.9.9.9"},
		{"ipv6", "[fd00::1]:4000", []string{"2001:db8::5"}, proxies, "2001:db8::5"},
		{"mapped ipv4", "[::ffff:10.1.2.3]:4000", []string{"::ffff:198.51.100.1"}, proxies, "198.51.100.1"},
		{"no port", "10.1.2.3", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v1/staff/login", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, c.want, clientAddr(r, c.trusted))
		})
	}
}
