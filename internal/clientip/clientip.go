// Package clientip finds the client of an HTTP request, also behind trusted reverse proxies, for the
// per-client limits of the chat API and the staff login throttle. It imports the standard library only.
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// MaxHops bounds how many X-Forwarded-For entries are looked at.
const MaxHops = 64

// Of returns the client's address: the peer, or, when the peer is in trusted, the right-most
// X-Forwarded-For entry that is not in trusted (a malformed entry stops the walk at the last trusted
// address). IPv4-mapped IPv6 addresses are unmapped. When RemoteAddr holds no IP address (a test's or a
// unix socket's), the address is invalid and raw is RemoteAddr's host part.
func Of(r *http.Request, trusted []netip.Prefix) (addr netip.Addr, raw string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err = netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host
	}
	addr = addr.Unmap()
	isTrusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if !isTrusted(addr) {
		return addr, host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) > MaxHops {
		hops = hops[len(hops)-MaxHops:]
	}
	for _, h := range slices.Backward(hops) {
		a, err := netip.ParseAddr(strings.TrimSpace(h))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a) {
			return a, host
		}
		addr = a
	}
	return addr, host
}
