package knowledge

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// URLDomains are the hosts a procedure's link (Procedure.URL) may point to. An entry admits itself and its
// subdomains: "gov.vn" admits every state agency's site (*.gov.vn); the national public-service portal and the
// Ho Chi Minh City portal are listed by name so that they stay allowed if the list is narrowed. Links are shown
// to citizens as they are, so only these hosts are accepted from staff and only these are ever served.
var URLDomains = []string{
	"dichvucong.gov.vn",    // Cổng Dịch vụ công quốc gia
	"hochiminhcity.gov.vn", // Cổng thông tin điện tử TP. Hồ Chí Minh
	"gov.vn",               // other state agencies
}

// MaxURLBytes is the longest link accepted.
const MaxURLBytes = 2000

// Why CheckURL refuses a link. They wrap ErrInvalid.
var (
	ErrURLScheme = errors.New("a link must be https")
	ErrURLHost   = errors.New("a link's host is not in URLDomains")
	ErrURLForm   = errors.New("a link must be a plain https://host/path address")
)

// CheckURL says why u may not be a procedure's link, or nil when it may: it must be an absolute https URL
// (https://host/…) of at most MaxURLBytes bytes, without user information or a port other than 443, whose host
// is one of URLDomains or a subdomain of one, and without white space, control characters, quotes, angle
// brackets, parentheses or backslashes (which would break the link out of an answer's Markdown or an HTML
// attribute; encode them as %XX). An empty u is nil: the link is optional. Errors wrap ErrInvalid.
func CheckURL(u string) error {
	if u == "" {
		return nil
	}
	if len(u) > MaxURLBytes || !utf8.ValidString(u) {
		return errors.Join(ErrURLForm, ErrInvalid)
	}
	for _, r := range u {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || strings.ContainsRune("\"'`<>()\\", r) {
			return errors.Join(ErrURLForm, ErrInvalid)
		}
	}
	if len(u) < len("https://") || !strings.EqualFold(u[:len("https://")], "https://") {
		return errors.Join(ErrURLScheme, ErrInvalid)
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Opaque != "" || p.User != nil || p.Host == "" {
		return errors.Join(ErrURLForm, ErrInvalid)
	}
	if port := p.Port(); port != "" && port != "443" {
		return errors.Join(ErrURLForm, ErrInvalid)
	}
	if !AllowedHost(p.Hostname()) {
		return errors.Join(ErrURLHost, ErrInvalid)
	}
	return nil
}

// AllowedHost reports whether host is one of URLDomains or a subdomain of one (case-insensitively).
func AllowedHost(host string) bool {
	host = strings.ToLower(host)
	if host == "" || strings.HasSuffix(host, ".") {
		return false
	}
	for _, d := range URLDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// SafeURL returns u when CheckURL accepts it and "" otherwise. Whatever serves a link to citizens — answers,
// citations, the API — passes it through SafeURL, so that a record stored with a bad link (written before the
// check existed, or directly to the store) is shown without it.
func SafeURL(u string) string {
	if u == "" || CheckURL(u) != nil {
		return ""
	}
	return u
}
