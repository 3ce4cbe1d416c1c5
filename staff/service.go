package staff

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trolyao/trolyao/internal/apierr"
	"github.com/trolyao/trolyao/internal/clientip"
	"github.com/trolyao/trolyao/knowledge"
)

// Prefix is where Handler serves the API.
const Prefix = "/api/v1/staff/"

// CookieName is the session cookie.
const CookieName = "trolyao_staff"

// Defaults of Options.
const (
	DefaultSessionIdle    = 30 * time.Minute
	DefaultSessionMax     = 12 * time.Hour
	DefaultLowConfidence  = 0.6
	DefaultMaxImportBytes = 200 << 20
	MaxJSONBody           = 2 << 20
	MaxListLimit          = 1000
	// DefaultLoginHashSlots is how many logins hash a password at once, each hash taking 19 MiB (argon2id)
	// and a core for tens of milliseconds.
	DefaultLoginHashSlots = 2
	// DefaultLoginHashWait is how long a login waits for a hashing slot before it gets 503 busy.
	DefaultLoginHashWait = time.Second
)

// Options configure a Service. Repo, Store and Embedder are required.
type Options struct {
	Repo     Repo
	Store    knowledge.Store    // the published catalog; publishing applies to it
	Embedder knowledge.Embedder // the embedder the store's index was built with
	// Phrasebook gives the question bank's phrasings, indexed with each published record as ingest does
	// (nil: none; it must be the one ingest uses, or publishing re-indexes records differently).
	Phrasebook knowledge.Phrasebook
	// Conversations, when it implements knowledge.FlagLister, feeds the feedback queue; nil leaves it empty.
	Conversations knowledge.Conversations
	Logger        *slog.Logger
	Now           func() time.Time // the clock (tests inject one)
	SessionIdle   time.Duration    // a session ends after this long without a request
	SessionMax    time.Duration    // and at most this long after login
	SecureCookie  bool             // mark the cookie Secure (behind HTTPS)
	// LowConfidence is the confidence (the decision policy's probability that the answer is right) under which an
	// answer joins the feedback queue.
	LowConfidence  float64
	MaxImportBytes int64  // largest upload of POST /imports
	TempDir        string // where archives are unpacked; "" is os.TempDir()
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header is believed when throttling logins
	// per client address: when the peer address is in one of them, the client is the right-most
	// X-Forwarded-For entry that is not a trusted proxy. Empty means the peer address is the client.
	TrustedProxies []netip.Prefix
	// Centres are the communes' service centres the assistant names (the centres file as seed): staff
	// corrections are applied to them at once (see ReloadCentres). nil: there are no centres to correct.
	Centres *knowledge.LiveCentres
	// LoginHashSlots is how many logins may hash a password at once (0: DefaultLoginHashSlots): each hash
	// takes 19 MiB and a core for tens of milliseconds, so this bounds the memory and CPU logins can take,
	// in each process. LoginHashWait is how long a login waits for a slot (0: DefaultLoginHashWait); at most
	// 16 logins per slot wait in each lane, the others are refused at once. A login that gets no slot is
	// answered 503 busy with Retry-After, and is not counted as a failed attempt. The throttle keeps one
	// address to 2 waiting or hashing logins, so a flood from a few addresses leaves room for others; a flood
	// from many addresses is held to the bound, and the next slot given back goes first to a login from a
	// browser that has logged in to its account before (DeviceCookieName), then to a login to an account
	// nobody has failed on lately — a staff member's first login on a new browser — and only then to the
	// others: unknown usernames, accounts with recent failures (see lane for what is guaranteed).
	LoginHashSlots int
	LoginHashWait  time.Duration
	// Lexicon is where the runtime synonyms go (ReloadSynonyms): the *knowledge.Lexicon of the searchers that
	// answer citizens. nil: staff keep synonyms that nothing applies.
	Lexicon Lexicon
	// Searcher ranks procedures for the staff search. Give the assistant's, whose Lexicon is the one above, so
	// that staff see the ranking citizens get (nil: one over Store and Embedder with knowledge.DefaultWeights
	// and the built-in rules of the lexicon).
	Searcher *knowledge.Searcher
	// Composer writes the preview of a draft: the assistant citizens ask, so that a preview names their ward's
	// centre as the answer will (nil: an assistant without units or centres).
	Composer Composer
	// Registerer, when set, gets the staff metrics: actions by kind and the open unanswered questions.
	Registerer prometheus.Registerer
	// Starters is where the starter questions staff set take effect: the chat widget offers them at once (see
	// ReloadStarters). nil, or a Repo that is not a StarterRepo: there are no starter questions to set.
	Starters StarterTarget
}

// Lexicon takes the runtime synonyms, all of them, whenever they change (a *knowledge.Lexicon). Invalid ones
// are skipped and reported in the error; the others are applied anyway.
type Lexicon interface {
	SetSynonyms(ss []knowledge.Synonym) error
}

// Service is the staff backend. Create it with New; serve Handler under Prefix and run Run in the background.
type Service struct {
	opt      Options
	log      *slog.Logger
	users    *throttle // login attempts per username
	ips      *throttle // login attempts per client address
	hashes   *hashGate // password hashes of logins running at once
	pubMu    sync.Mutex
	routes   []route
	mux      *http.ServeMux
	synMu    sync.Mutex
	synReady chan struct{}
	centMu   sync.Mutex  // serialises ReloadCentres, so the last reload applies the latest corrections
	starters StarterRepo // the Repo's, when it has them and Options.Starters is set
	startMu  sync.Mutex  // serialises ReloadStarters, as centMu does ReloadCentres
	metrics  *metrics
	// searcher ranks procedures for the staff search as the assistant does (Options.Searcher).
	searcher *knowledge.Searcher

	// checkPassword is CheckPassword (tests wrap it to count the hashes).
	checkPassword func(encoded, password string) bool
	// hashTook is how long the last password check of a login took, in nanoseconds.
	hashTook atomic.Int64
}

// phrasings are the question bank's phrasings of a code.
func (s *Service) phrasings(code string) []string {
	return knowledge.PhrasingsOf(s.opt.Phrasebook, code)
}

// New returns a Service over opt.
func New(opt Options) (*Service, error) {
	if opt.Repo == nil || opt.Store == nil || opt.Embedder == nil {
		return nil, errors.New("staff: new: Repo, Store and Embedder are required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SessionIdle <= 0 {
		opt.SessionIdle = DefaultSessionIdle
	}
	if opt.SessionMax <= 0 {
		opt.SessionMax = DefaultSessionMax
	}
	if opt.LowConfidence <= 0 {
		opt.LowConfidence = DefaultLowConfidence
	}
	if opt.MaxImportBytes <= 0 {
		opt.MaxImportBytes = DefaultMaxImportBytes
	}
	if opt.LoginHashSlots <= 0 {
		opt.LoginHashSlots = DefaultLoginHashSlots
	}
	if opt.LoginHashWait <= 0 {
		opt.LoginHashWait = DefaultLoginHashWait
	}
	s := &Service{opt: opt, log: opt.Logger, synReady: make(chan struct{}), checkPassword: CheckPassword,
		users: newThrottle(loginFreePerUser, 0), ips: newThrottle(loginFreePerAddress, loginPendingPerAddress),
		hashes: newHashGate(opt.LoginHashSlots, opt.LoginHashWait)}
	if sr, ok := opt.Repo.(StarterRepo); ok && opt.Starters != nil {
		s.starters = sr
	}
	s.metrics = newMetrics(s, opt.Registerer)
	s.searcher = opt.Searcher
	if s.searcher == nil {
		s.searcher = &knowledge.Searcher{Store: opt.Store, Embedder: opt.Embedder, Weights: knowledge.DefaultWeights}
	}
	s.routes = s.routeTable()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+strings.TrimSuffix(Prefix, "/")+rt.Path, s.wrap(rt))
	}
	s.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "Không tìm thấy địa chỉ này.")
	})
	return s, nil
}

// Handler is the API, to be mounted at Prefix (it expects the full path, e.g. /api/v1/staff/login).
func (s *Service) Handler() http.Handler { return s.mux }

// Run loads the runtime synonyms into Options.Lexicon, the centre corrections into Options.Centres and the
// starter questions into Options.Starters, and keeps them current until ctx ends: with a Repo that is a
// Watcher (staff/postgres) it reloads on every change made by any process; otherwise changes made through
// this Service reload them directly. Run it in a goroutine; it returns nil when ctx ends, or an error if the
// first load fails.
func (s *Service) Run(ctx context.Context) error {
	if err := s.ReloadSynonyms(ctx); err != nil {
		return err
	}
	if err := s.ReloadCentres(ctx); err != nil {
		return err
	}
	if err := s.ReloadStarters(ctx); err != nil {
		return err
	}
	w, ok := s.opt.Repo.(Watcher)
	if !ok {
		<-ctx.Done()
		return nil
	}
	return w.Watch(ctx, func() {
		if err := s.ReloadSynonyms(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("staff: reload synonyms", "err", err)
		}
		if err := s.ReloadCentres(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("staff: reload centres", "err", err)
		}
		if err := s.ReloadStarters(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("staff: reload starter questions", "err", err)
		}
	})
}

// ReloadSynonyms reads the synonyms from the Repo and hands them to the query analyser (Options.Lexicon).
func (s *Service) ReloadSynonyms(ctx context.Context) error {
	s.synMu.Lock()
	defer s.synMu.Unlock()
	ss, err := s.opt.Repo.Synonyms(ctx)
	if err != nil {
		return fmt.Errorf("staff: reload synonyms: %w", err)
	}
	ks := make([]knowledge.Synonym, len(ss))
	for i, x := range ss {
		ks[i] = knowledge.Synonym{Phrase: x.Phrase, To: x.To}
	}
	if s.opt.Lexicon == nil {
		return nil
	}
	if err := s.opt.Lexicon.SetSynonyms(ks); err != nil {
		s.log.Warn("staff: some synonyms were skipped", "err", err)
	}
	return nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// route is one endpoint: who may call it and what serves it.
type route struct {
	Method, Path string // Path below Prefix, with a leading slash and {wildcards}
	Role         Role   // "" for public (login)
	Handle       func(w http.ResponseWriter, r *http.Request, p *principal)
}

// Routes lists the endpoints as "METHOD /path" with the role each needs ("" for none), for documentation and
// tests.
func (s *Service) Routes() [][3]string {
	out := make([][3]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = [3]string{rt.Method, rt.Path, string(rt.Role)}
	}
	return out
}

func (s *Service) routeTable() []route {
	return []route{
		{"POST", "/login", "", s.login},
		{"GET", "/me", RoleViewer, s.me},
		{"POST", "/logout", RoleViewer, s.logout},

		{"GET", "/procedures", RoleViewer, s.listProcedures},
		{"GET", "/procedures/{code}", RoleViewer, s.getProcedure},
		{"GET", "/procedures/{code}/draft", RoleViewer, s.getDraft},
		{"PUT", "/procedures/{code}/draft", RoleEditor, s.saveDraft},
		{"DELETE", "/procedures/{code}/draft", RoleEditor, s.discardDraft},
		{"GET", "/procedures/{code}/diff", RoleViewer, s.diff},
		{"POST", "/procedures/{code}/preview", RoleEditor, s.preview},
		{"POST", "/procedures/{code}/publish", RolePublisher, s.publish},
		{"POST", "/procedures/{code}/unpublish", RolePublisher, s.unpublish},
		{"GET", "/procedures/{code}/versions", RoleViewer, s.versions},
		{"GET", "/procedures/{code}/versions/{version}", RoleViewer, s.version},
		{"POST", "/procedures/{code}/versions/{version}/restore", RolePublisher, s.restore},

		{"GET", "/imports", RoleViewer, s.listImports},
		{"POST", "/imports", RoleEditor, s.createImport},
		{"GET", "/imports/{id}", RoleViewer, s.getImport},
		{"POST", "/imports/{id}/publish", RolePublisher, s.publishImport},
		{"GET", "/export", RoleViewer, s.export},

		{"GET", "/unanswered", RoleViewer, s.unanswered},
		{"POST", "/unanswered/handled", RoleEditor, s.markHandled},
		{"POST", "/unanswered/link", RoleEditor, s.link},
		{"GET", "/synonyms", RoleViewer, s.listSynonyms},
		{"POST", "/synonyms", RoleEditor, s.addSynonym},
		{"DELETE", "/synonyms/{id}", RoleEditor, s.deleteSynonym},

		{"GET", "/centres", RoleViewer, s.listCentres},
		{"GET", "/centres/{unit}", RoleViewer, s.getCentre},
		{"PUT", "/centres/{unit}", RolePublisher, s.correctCentre},
		{"DELETE", "/centres/{unit}", RolePublisher, s.revertCentre},

		{"GET", "/starters", RoleViewer, s.getStarters},
		{"PUT", "/starters", RolePublisher, s.setStarters},
		{"DELETE", "/starters", RolePublisher, s.resetStarters},

		{"GET", "/users", RoleAdmin, s.listUsers},
		{"POST", "/users", RoleAdmin, s.createUser},
		{"PATCH", "/users/{username}", RoleAdmin, s.updateUser},
		{"GET", "/tokens", RoleAdmin, s.listTokens},
		{"POST", "/tokens", RoleAdmin, s.createToken},
		{"DELETE", "/tokens/{id}", RoleAdmin, s.deleteToken},
		{"GET", "/audit", RoleAdmin, s.audit},
	}
}

// principal is who makes a request.
type principal struct {
	Username string   // the account, or "" for a token
	Token    *Token   // the API token used, if any
	Role     Role     //
	Session  *Session // the session used, if any
}

// Actor is the name the audit log records.
func (p *principal) Actor() string { return p.actor().Name() }

// wrap authenticates, checks CSRF and the role, then serves.
func (s *Service) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if rt.Role == "" {
			rt.Handle(w, r, nil)
			return
		}
		p, e := s.authenticate(r)
		if e != nil {
			e.write(w)
			return
		}
		if p.Session != nil && !safeMethod(r.Method) {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRF)) != 1 {
				token := "wrong"
				if got == "" {
					token = "missing"
				}
				s.log.Warn("security: staff request refused: CSRF token", "token", token, "method", r.Method, "route", rt.Path)
				writeError(w, http.StatusForbidden, "csrf", "Yêu cầu thiếu hoặc sai mã chống giả mạo (CSRF). Hãy tải lại trang.")
				return
			}
		}
		if !p.Role.Allows(rt.Role) {
			writeError(w, http.StatusForbidden, "forbidden", msgForbidden)
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("staff: panic", "route", rt.Path, "panic", fmt.Sprint(v))
				errInternal.write(w)
			}
		}()
		rt.Handle(w, r, p)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// apiErr is an error answer.
type apiErr struct {
	status        int
	code, message string
	fields        []FieldReason
	current       any
}

func (e *apiErr) write(w http.ResponseWriter) {
	body := map[string]any{"code": e.code, "message": e.message}
	if len(e.fields) > 0 {
		body["fields"] = e.fields
	}
	if e.current != nil {
		body["current"] = e.current
	}
	if e.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	writeJSON(w, e.status, map[string]any{"error": body})
}

func errf(status int, code, message string) *apiErr {
	return &apiErr{status: status, code: code, message: message}
}

// shared is the answer of an error of the vocabulary every API shares (apierr).
func shared(e *apierr.Error) *apiErr { return errf(e.Status, e.Code, e.Message) }

var (
	errUnauthenticated = errf(http.StatusUnauthorized, "unauthenticated", "Bạn chưa đăng nhập hoặc thông tin xác thực không hợp lệ.")
	errExpired         = errf(http.StatusUnauthorized, "session_expired", "Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.")
	errNotFound        = shared(apierr.NotFound)
	errInternal        = shared(apierr.Internal)
)

// FieldReason says why one field is invalid.
type FieldReason struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	errf(status, code, message).write(w)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail answers an error of the lower layers as the citizens' API does (apierr.Classify), logging a full disk
// (nothing was saved) and internal errors (errors never carry personal data or secrets).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apierr.Classify(err)
	if e.Logged() {
		s.log.Error("staff: request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
	}
	shared(e).write(w)
}

// decode reads a JSON body of at most MaxJSONBody bytes with no unknown fields into v.
func decode(w http.ResponseWriter, r *http.Request, v any) *apiErr {
	r.Body = http.MaxBytesReader(w, r.Body, MaxJSONBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("Nội dung gửi lên vượt quá %d MiB.", MaxJSONBody>>20))
		}
		if errors.Is(err, io.EOF) {
			return errf(http.StatusBadRequest, "bad_request", "Thiếu nội dung yêu cầu (JSON).")
		}
		return errf(http.StatusBadRequest, "bad_request", "Nội dung yêu cầu không phải JSON hợp lệ: "+err.Error())
	}
	if dec.More() {
		return errf(http.StatusBadRequest, "bad_request", "Nội dung yêu cầu chỉ được chứa một đối tượng JSON.")
	}
	return nil
}

// decodeOptional is decode for an optional body: an empty body leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) *apiErr {
	if r.ContentLength == 0 {
		return nil
	}
	if e := decode(w, r, v); e != nil && !(e.status == http.StatusBadRequest && e.message == "Thiếu nội dung yêu cầu (JSON).") {
		return e
	}
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// record appends an audit entry; a failure is logged (the action itself has happened).
func (s *Service) record(ctx context.Context, actor, action, target string, details map[string]any) {
	s.metrics.actions.WithLabelValues(action).Inc()
	e := AuditEntry{At: s.now(), Actor: actor, Action: action, Target: target}
	if len(details) > 0 {
		e.Details = mustJSON(details)
	}
	if _, err := s.opt.Repo.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("staff: audit append failed", "action", action, "err", err)
	}
}

// clientIP is the client's address for throttling logins: the peer address, or, when the peer is one of
// Options.TrustedProxies, the right-most X-Forwarded-For entry that is not a trusted proxy (a malformed entry
// stops the walk at the last trusted address).
func (s *Service) clientIP(r *http.Request) string {
	return clientAddr(r, s.opt.TrustedProxies)
}

func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	addr, raw := clientip.Of(r, trusted)
	if !addr.IsValid() {
		return raw
	}
	return addr.String()
}

// queryInt reads an integer query parameter in [lo, hi], def when absent.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, *apiErr) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errf(http.StatusBadRequest, "bad_request", fmt.Sprintf("Tham số %s phải là số nguyên từ %d đến %d.", name, lo, hi))
	}
	return n, nil
}
