package knowledge

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckURL(t *testing.T) {
	good := []string{
		"",
		"https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.014064",
		"https://dichvucong.gov.vn",
		"https://thutuc.dichvucong.gov.vn/a",
		"https://hochiminhcity.gov.vn/",
		"https://dichvucong.hochiminhcity.gov.vn/vi/procedure",
		"https://moj.gov.vn/tthc",
		"HTTPS://DichVuCong.gov.vn/a",
		"https://dichvucong.gov.vn:443/a",
		"https://dichvucong.gov.vn/a#muc-2",
	}
	for _, u := range good {
		assert.NoError(t, CheckURL(u), u)
		assert.Equal(t, u, SafeURL(u), u)
	}
	bad := []struct{ u, why string }{
		{"javascript:alert(1)", "script"},
		{"JavaScript:alert(document.cookie)//https://dichvucong.gov.vn", "script"},
		{"  javascript:alert(1)", "leading space"},
		{"java\tscript:alert(1)", "tab"},
		{"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data"},
		{"vbscript:msgbox(1)", "vbscript"},
		{"http://dichvucong.gov.vn/a", "http"},
		{"ftp://dichvucong.gov.vn/a", "ftp"},
		{"//dichvucong.gov.vn/a", "scheme-relative"},
		{"/p/home/a.html", "relative"},
		{"https:dichvucong.gov.vn", "opaque"},
		{"https:///dichvucong.gov.vn", "no host"},
		{"https://evil.example/dichvucong.gov.vn", "other host"},
		{"https://dichvucong.gov.vn.evil.example/a", "allowed name as a prefix"},
		{"https://evildichvucong.gov.vn.example/", "suffix without a dot"},
		{"https://notgov.vn/", "gov.vn without a dot"},
		{"https://dichvucong.gov.vn@evil.example/", "user information"},
		{"https://user:pw@dichvucong.gov.vn/", "user information on an allowed host"},
		{"https://dichvucong.gov.vn:8443/a", "port"},
		{"https://dichvucong.gov.vn./a", "trailing dot"},
		{"https://127.0.0.1/a", "address"},
		{"https://dichvucong.gov.vn/a)[x](https://evil.example", "parenthesis breaks a Markdown link"},
		{`https://dichvucong.gov.vn/"onmouseover="alert(1)`, "quote"},
		{"https://dichvucong.gov.vn/<script>", "angle brackets"},
		{"https://dichvucong.gov.vn\\@evil.example", "backslash"},
		{"https://dichvucong.gov.vn/a b", "space"},
		{"https://dichvucong.gov.vn/a\u200b", "zero-width"},
		{"https://dichvucong.gov.vn/" + strings.Repeat("a", MaxURLBytes), "too long"},
		{"https://dichvucong.gov.vn/\xff", "invalid UTF-8"},
	}
	for _, tt := range bad {
		err := CheckURL(tt.u)
		assert.ErrorIs(t, err, ErrInvalid, tt.why)
		assert.Empty(t, SafeURL(tt.u), tt.why)
	}
	assert.ErrorIs(t, CheckURL("http://dichvucong.gov.vn/"), ErrURLScheme)
	assert.ErrorIs(t, CheckURL("https://evil.example/"), ErrURLHost)
}
