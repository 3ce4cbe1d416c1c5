package zalo

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/knowledge"
)

// id is a Zalo id or timestamp: the wire carries them as strings, sometimes as numbers too large for a
// float64, so both are read as their literal digits.
type id string

func (v *id) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*v = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = id(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*v = id(n)
	return nil
}

// envelope is the part of a webhook delivery the channel reads.
type envelope struct {
	AppID     id     `json:"app_id"`
	EventName string `json:"event_name"`
	Timestamp id     `json:"timestamp"`
	Sender    struct {
		ID id `json:"id"`
	} `json:"sender"`
	Recipient struct {
		ID id `json:"id"`
	} `json:"recipient"`
	Follower struct {
		ID id `json:"id"`
	} `json:"follower"`
	Message struct {
		Text  string `json:"text"`
		MsgID id     `json:"msg_id"`
	} `json:"message"`
}

// route is what the channel does with an event.
type route int

const (
	routeIgnore route = iota // acknowledged and counted, nothing else
	routeText
	routeUnsupported
	routeFollow
	routeEcho // the OA's own text message: it may confirm a send whose outcome was unknown
)

// events is the explicit routing table: an event name not listed here is acknowledged and ignored.
// Receipts and oa_send_* echoes (the OA's own sends, staff replies typed in Zalo's console included) are
// never answered, so the channel never answers itself; an oa_send_text echo is only matched against a send
// whose outcome is unknown (Service.echo).
var events = map[string]route{
	"user_send_text":        routeText,
	"user_send_image":       routeUnsupported,
	"user_send_gif":         routeUnsupported,
	"user_send_sticker":     routeUnsupported,
	"user_send_audio":       routeUnsupported,
	"user_send_video":       routeUnsupported,
	"user_send_file":        routeUnsupported,
	"user_send_link":        routeUnsupported,
	"user_send_location":    routeUnsupported,
	"follow":                routeFollow,
	"unfollow":              routeIgnore,
	"user_click_chatnow":    routeIgnore,
	"user_received_message": routeIgnore,
	"user_seen_message":     routeIgnore,
	"oa_send_text":          routeEcho,
	"oa_send_image":         routeIgnore,
	"oa_send_gif":           routeIgnore,
	"oa_send_list":          routeIgnore,
	"oa_send_file":          routeIgnore,
	"oa_send_sticker":       routeIgnore,
}

var userIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// Sign returns the X-ZEvent-Signature value of a delivery: "mac=" and the lowercase hex SHA-256 of
// appID + body + timestamp + secret. Tests and tools that replay deliveries use it.
func Sign(appID string, body []byte, timestamp, secret string) string {
	sum := digest(appID, body, timestamp, secret)
	return "mac=" + hex.EncodeToString(sum[:])
}

func digest(appID string, body []byte, timestamp, secret string) [32]byte {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(secret))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// verify checks a signature header in constant time.
func verify(header, appID string, body []byte, timestamp, secret string) bool {
	v := strings.TrimSpace(header)
	if len(v) < 4 || !strings.EqualFold(v[:4], "mac=") {
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(v[4:]))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	want := digest(appID, body, timestamp, secret)
	return subtle.ConstantTimeCompare(got, want[:]) == 1
}

// Limits of replies; Options overrides them.
const (
	DefaultMaxTextRunes   = 2000 // characters of one text message
	DefaultMaxButtons     = 5
	DefaultButtonTitleMax = 100 // characters of a button title
	DefaultQueryPayload   = 1000
	procedureButtonTitle  = "Xem thủ tục"
)

// limits of one reply.
type limits struct {
	text, buttons, title, payload int
}

// wireMessage is the body of POST /v3.0/oa/message/cs.
type wireMessage struct {
	Recipient struct {
		UserID string `json:"user_id"`
	} `json:"recipient"`
	Message struct {
		Text       string          `json:"text"`
		Attachment *wireAttachment `json:"attachment,omitempty"`
	} `json:"message"`
}

type wireAttachment struct {
	Type    string `json:"type"`
	Payload struct {
		Buttons []wireButton `json:"buttons"`
	} `json:"payload"`
}

type wireButton struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Payload any    `json:"payload"`
}

type urlPayload struct {
	URL string `json:"url"`
}

// messages turns a reply into the bodies of the messages that carry it: the text split at ≤ lim.text
// characters, the buttons (the first cited procedure's page, then quick replies) on the last message.
func messages(user, text string, buttons []wireButton, lim limits) ([][]byte, error) {
	parts := Split(text, lim.text)
	if len(parts) == 0 {
		return nil, errors.New("zalo: empty reply")
	}
	out := make([][]byte, 0, len(parts))
	for i, p := range parts {
		var m wireMessage
		m.Recipient.UserID = user
		m.Message.Text = p
		if i == len(parts)-1 && len(buttons) > 0 {
			m.Message.Attachment = &wireAttachment{Type: "template"}
			m.Message.Attachment.Payload.Buttons = buttons
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			return nil, err
		}
		out = append(out, bytes.TrimRight(b.Bytes(), "\n"))
	}
	return out, nil
}

// answerButtons are the buttons of an answer: "Xem thủ tục" opening the first cited procedure with a link
// knowledge.CheckURL accepts (https on an allowed state domain), then the options of a clarifying question or the alternatives of an answer (their payload names the
// option and its code, which the assistant reads as the choice; their titles are short and distinct), then the
// suggested follow-ups ("Xem đầy đủ" first), at most lim.buttons in all.
func answerButtons(ans assistant.Answer, lim limits) []wireButton {
	var bs []wireButton
	for _, c := range ans.Citations {
		if knowledge.SafeURL(c.URL) != "" {
			bs = append(bs, wireButton{Title: clip(procedureButtonTitle, lim.title), Type: "oa.open.url", Payload: urlPayload{URL: c.URL}})
			break
		}
	}
	add := func(title, payload string) {
		title, payload = clip(title, lim.title), clip(payload, lim.payload)
		if len(bs) >= lim.buttons || title == "" || payload == "" {
			return
		}
		bs = append(bs, wireButton{Title: title, Type: "oa.query.show", Payload: payload})
	}
	names := make([]string, len(ans.Options))
	for i, o := range ans.Options {
		names[i] = o.Name
	}
	for i, title := range assistant.Labels(names, lim.title) {
		o := ans.Options[i]
		add(title, clip(o.Name, lim.payload-len(" (mã )")-len(o.Code))+" (mã "+o.Code+")")
	}
	for _, s := range ans.Suggestions {
		add(s, s)
	}
	if len(bs) > lim.buttons {
		bs = bs[:lim.buttons]
	}
	return bs
}

// clip shortens s to at most n characters, at a word boundary with an ellipsis when it has to cut.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := len(r)
	for i := len(r) - 1; i > len(r)/2; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), func(c rune) bool { return unicode.IsSpace(c) || unicode.IsPunct(c) }) + "…"
}

// Split cuts text into parts of at most max characters, preferring a paragraph break, then a line break, then
// the end of a sentence, then a space, in the second half of the allowed length; a single word longer than
// max (never seen in real answers) is cut. Parts are trimmed; empty parts are dropped.
func Split(text string, max int) []string {
	if max < 2 {
		max = 2
	}
	var out []string
	rest := strings.TrimSpace(text)
	for rest != "" {
		r := []rune(rest)
		if len(r) <= max {
			out = append(out, rest)
			break
		}
		cut := cutPoint(r[:max+1], max)
		part := strings.TrimSpace(string(r[:cut]))
		if part != "" {
			out = append(out, part)
		}
		rest = strings.TrimSpace(string(r[cut:]))
	}
	return out
}

// cutPoint returns where to cut w (max+1 characters) so that the first part has at most max characters.
func cutPoint(w []rune, max int) int {
	low := max / 2
	// Paragraph break: the cut goes after the blank line.
	for i := max - 1; i >= low; i-- {
		if w[i] == '\n' && w[i+1] == '\n' {
			return i + 1
		}
	}
	for i := max; i >= low; i-- {
		if w[i] == '\n' {
			return i
		}
	}
	for i := max; i >= low; i-- {
		if unicode.IsSpace(w[i]) && i > 0 && strings.ContainsRune(".!?;:…", w[i-1]) {
			return i
		}
	}
	for i := max; i >= 1; i-- {
		if unicode.IsSpace(w[i]) {
			return i
		}
	}
	return max
}

// parseMillis reads a millisecond timestamp.
func parseMillis(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
