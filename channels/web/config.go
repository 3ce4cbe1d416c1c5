package web

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/trolyao/trolyao/knowledge"
)

// Config holds the limits of the chat API (websocket, REST and SSE). Zero fields take the defaults below;
// Server reads it once, when Handler is first called.
type Config struct {
	// AllowedOrigins lists the origins ("https://dichvucong.hochiminhcity.gov.vn", scheme://host[:port]) whose
	// pages may open a websocket or call the chat REST API from a browser. Empty means same-origin only;
	// "*" allows every origin (only for public demos). Requests without an Origin header (curl, servers) pass.
	AllowedOrigins []string
	// ReadLimit is the largest websocket frame a client may send, in bytes; a larger one closes the
	// connection with code 1009. Default DefaultReadLimit.
	ReadLimit int64
	// MessageRate and MessageBurst are the token bucket of each websocket connection: every well-formed client
	// frame but ping costs a token. Defaults 1 per second, burst 5.
	MessageRate  rate.Limit
	MessageBurst int
	// ClientRate and ClientBurst are the message budget of one client — an IPv4 address or an IPv6 /64
	// network, found as TrustedProxies says — shared by all its websockets and its calls of POST
	// /api/v1/chat (JSON or SSE) and POST /api/v1/chat/feedback: a websocket frame that passes its
	// connection's bucket, and each such call, also takes a token here. Over any T seconds one client gets at
	// most ClientRate × T + ClientBurst of them accepted, however many connections it opens and closes.
	// rate.Inf means no client budget. Defaults 2 per second, burst 20.
	ClientRate  rate.Limit
	ClientBurst int
	// MaxClients bounds the clients whose budget and answers in progress are remembered. A client idle long
	// enough for its bucket to refill is forgotten first (it loses nothing by it); when every client
	// remembered is active, the least recently seen is forgotten. Default 10,000.
	MaxClients int
	// ClientInFlight caps the answers of one client being composed or waiting for a MaxInFlight slot at once,
	// so that one client, however many connections it opens, holds a small share of the slots; a message
	// over it waits like one that finds no slot (up to BusyWait, then busy). Default 4; negative means no cap.
	ClientInFlight int
	// MaxConnsPerIP caps the open websockets of one client IP. Default 20; negative means no cap.
	MaxConnsPerIP int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header is believed: when the peer address
	// is in one of them, the client IP is the right-most X-Forwarded-For entry that is not a trusted proxy.
	// Empty means the peer address is the client IP.
	TrustedProxies []netip.Prefix
	// PingPeriod is how often the server pings an idle websocket; PongWait how long it waits for any frame
	// (a pong included) before closing the connection; WriteWait bounds one write of a frame (websocket or
	// SSE event). Defaults 50 s, 60 s, 10 s.
	PingPeriod, PongWait, WriteWait time.Duration
	// SendQueue is how many frames may wait for one websocket client (and at most 1 MiB of them); a frame
	// that finds no room within WriteWait disconnects the client with close code 1008 rather than being
	// buffered without bound. Default 32.
	SendQueue int
	// MaxQueued is how many messages of one websocket connection may wait behind the one being answered;
	// beyond it a message gets error busy. Default 4.
	MaxQueued int
	// MaxInFlight caps the answers being composed at once across all clients; a message waits up to BusyWait
	// for a slot, then gets error busy. Defaults 64 and 5 s.
	MaxInFlight int
	BusyWait    time.Duration
	// AnswerTimeout bounds one answer. Default 60 s.
	AnswerTimeout time.Duration
	// HistoryLimit is how many of the latest messages a history request returns. Default 100.
	HistoryLimit int
}

// Defaults of Config.
const (
	DefaultReadLimit      = 16 << 10
	DefaultMessageRate    = rate.Limit(1)
	DefaultMessageBurst   = 5
	DefaultClientRate     = rate.Limit(2)
	DefaultClientBurst    = 20
	DefaultMaxClients     = 10000
	DefaultClientInFlight = 4
	DefaultMaxConnsPerIP  = 20
	DefaultPingPeriod     = 50 * time.Second
	DefaultPongWait       = 60 * time.Second
	DefaultWriteWait      = 10 * time.Second
	DefaultSendQueue      = 32
	DefaultMaxQueued      = 4
	DefaultMaxInFlight    = 64
	DefaultBusyWait       = 5 * time.Second
	DefaultAnswerTimeout  = 60 * time.Second
	DefaultHistoryLimit   = 100
)

// Fixed limits of the protocol.
const (
	// ProtocolVersion is the version of the chat protocol, the v query parameter of /ws.
	ProtocolVersion = 1
	// MaxChars is the longest message a user may send, in characters.
	MaxChars = knowledge.MaxQueryRunes
	// MaxClientID is the longest client-chosen message id, in bytes.
	MaxClientID = 64
	// MaxRESTBody is the largest body of the chat REST API, in bytes.
	MaxRESTBody = 16 << 10
)

func (c Config) withDefaults() Config {
	if c.ReadLimit <= 0 {
		c.ReadLimit = DefaultReadLimit
	}
	if c.MessageRate <= 0 {
		c.MessageRate = DefaultMessageRate
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = DefaultMessageBurst
	}
	if c.ClientRate <= 0 {
		c.ClientRate = DefaultClientRate
	}
	if c.ClientBurst <= 0 {
		c.ClientBurst = DefaultClientBurst
	}
	if c.MaxClients <= 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.ClientInFlight == 0 {
		c.ClientInFlight = DefaultClientInFlight
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.PongWait <= 0 {
		c.PongWait = DefaultPongWait
	}
	if c.PingPeriod <= 0 {
		c.PingPeriod = DefaultPingPeriod
	}
	if c.PingPeriod >= c.PongWait {
		c.PingPeriod = c.PongWait * 9 / 10
	}
	if c.WriteWait <= 0 {
		c.WriteWait = DefaultWriteWait
	}
	if c.SendQueue <= 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = DefaultMaxQueued
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.BusyWait <= 0 {
		c.BusyWait = DefaultBusyWait
	}
	if c.AnswerTimeout <= 0 {
		c.AnswerTimeout = DefaultAnswerTimeout
	}
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = DefaultHistoryLimit
	}
	return c
}

// ParseOrigins splits a comma-separated list of origins ("https://a.gov.vn, https://b.gov.vn" or "*") for
// Config.AllowedOrigins, checking each is scheme://host[:port].
func ParseOrigins(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f != "*" {
			scheme, host, ok := strings.Cut(f, "://")
			if !ok || (scheme != "http" && scheme != "https") || host == "" || strings.ContainsAny(host, "/?#@ ") {
				return nil, fmt.Errorf("web: origin %q: want scheme://host[:port] or *", f)
			}
		}
		out = append(out, strings.ToLower(f))
	}
	return out, nil
}

// ParseProxies splits a comma-separated list of addresses or CIDR prefixes ("10.0.0.0/8, 127.0.0.1") for
// Config.TrustedProxies.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("web: trusted proxy: %w", err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("web: trusted proxy: %w", err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
