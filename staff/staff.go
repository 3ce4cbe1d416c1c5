// Package staff is the knowledge-base management backend for staff: accounts, sessions and API tokens with
// roles, procedure drafts with optimistic concurrency, publishing (re-indexing one record through a
// knowledge.Store), version history and restore, catalog imports and export, the feedback queue (unanswered,
// low-confidence and thumbs-down questions, aliases, runtime synonyms), corrections of the communes' service
// centres (applied to the assistant's knowledge.LiveCentres at once), the chat widget's starter questions
// (applied to Options.Starters at once) and an append-only audit log, served as the JSON API described in
// openapi.yaml under /api/v1/staff/.
//
// The use cases that change something are methods of Service with a Go API, apart from HTTP: Publish,
// Unpublish, Restore, SaveDraft, DiscardDraft, StartImport, ApplyImport, LinkAlias, AddSynonym, DeleteSynonym,
// CorrectCentre, RevertCentre, SetStarters, ResetStarters, CreateUser and UpdateUser. Each takes the Actor,
// checks its role, writes the audit entry and refuses with an *Error of kind ErrNotFound, ErrConflict,
// ErrForbidden or ErrInvalid, with a Vietnamese message. The JSON API's handlers decode a request, check its
// limits, call the use case and answer its error through one mapper to the shared error vocabulary
// (internal/apierr).
//
// Logins are throttled per username and per client address (behind a reverse proxy, set
// Options.TrustedProxies so that the address is the client's, from X-Forwarded-For): an attempt is counted
// before its password is hashed; 5 failures lock a username and 20 an address, for 30 s, then twice as long
// for each further failure (up to 15 min); an address has at most 2 attempts in flight. At most
// Options.LoginHashSlots passwords are hashed at once (19 MiB each); a login that gets no slot within
// Options.LoginHashWait is answered 503 — but a login from a browser that has logged in to the account
// before (DeviceCookieName), and then one to an account that has had no failed login lately, get the next
// slot given back before the others, so that a flood from many addresses does not keep staff out. The counts are kept in memory, per process. An account's failures
// are also read back from the audit log (Repo.LoginFailures), so the serve processes sharing a PostgreSQL
// database lock an account on their failures together, and a restart does not unlock it. A client address,
// a username that has no account and the hashing bound are per process: N processes let an address fail
// 20×N times before all lock it. And since an account is locked across processes but an unknown username
// is not, a client that spreads attempts over several processes can tell from the 429s whether a username
// has an account.
//
// Storage is the Repo interface, and StarterRepo beside it, implemented by staff/embedded (a bbolt file) and
// staff/postgres (the staff_ tables of knowledge/postgres/migrations), both held to the contract in
// staff/stafftest. Repo is made of one interface per concern (AccountRepo, SessionRepo, DraftRepo,
// HistoryRepo, ImportRepo, QueueRepo, CentreRepo, AuditRepo); a consumer that needs one concern takes only
// its interface (the account commands take UserAdmin). Failed logins, lockouts and CSRF refusals are logged as security events without names, passwords or addresses;
// Options.Registerer gets the staff metrics. The package imports knowledge, ingest, assistant (for previews
// and redaction), the standard library, golang.org/x/crypto, the Prometheus client and internal packages;
// never a driver.
package staff

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/trolyao/trolyao/knowledge"
)

// Errors of a Repo. Callers test them with errors.Is.
var (
	ErrNotFound = knowledge.ErrNotFound
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("version conflict")
)

// Role is what a staff account or API token may do; each role includes the ones before it.
type Role string

// Roles, weakest first.
const (
	RoleViewer    Role = "viewer"
	RoleEditor    Role = "editor"
	RolePublisher Role = "publisher"
	RoleAdmin     Role = "admin"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether r includes the rights of need.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RolePublisher:
		return 3
	case RoleAdmin:
		return 4
	}
	return 0
}

// User is a staff account. Password is the encoded argon2id hash (see HashPassword), never the password.
type User struct {
	Username string `json:"username"`
	Role     Role   `json:"role"`
	Password string `json:"-"`
	Disabled bool   `json:"disabled"`
	// Unit is the unit the account publishes for ("UBND phường Bàn Cờ"), named in the answers citizens get
	// from the records it publishes (knowledge.Attribution); "" for none.
	Unit      string    `json:"unit,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Token is an API token. Hash is the SHA-256 of its secret.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Hash      []byte     `json:"-"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Session is a logged-in browser. Hash is the SHA-256 of the cookie's id; ExpiresAt the absolute end.
type Session struct {
	Hash      []byte
	Username  string
	CSRF      string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}

// Draft is the edited, unpublished record of one procedure.
type Draft struct {
	Code      string              `json:"code"`
	Version   int                 `json:"version"`
	Procedure knowledge.Procedure `json:"procedure"`
	UpdatedBy string              `json:"updated_by"`
	UpdatedAt time.Time           `json:"updated_at"`
}

// Actions of a version.
const (
	ActionPublish   = "publish"
	ActionUnpublish = "unpublish"
	ActionRestore   = "restore"
	ActionImport    = "import"
	ActionAlias     = "alias"
	// ActionCatalog is the record as the catalog ingest left it, kept as version 1 when staff first publish,
	// import, link or remove a procedure that came from the catalog.
	ActionCatalog = "catalog"
)

// CatalogAuthor is the By of an ActionCatalog version.
const CatalogAuthor = "danh mục"

// Version is one entry of a procedure's publishing history. Procedure is the record published (for
// unpublish, the record removed); it is nil in lists.
type Version struct {
	Code      string               `json:"code"`
	Version   int                  `json:"version"`
	Action    string               `json:"action"`
	By        string               `json:"by"`
	At        time.Time            `json:"at"`
	Note      string               `json:"note,omitempty"`
	Hash      string               `json:"hash,omitempty"`
	Procedure *knowledge.Procedure `json:"procedure,omitempty"`
}

// PublishIntent is a publish written down before the catalog store is changed: the versions it is to add (with
// their records, numbers unset) and the drafts it is to drop (code → draft version), as AddVersions takes
// them. The staff service completes it once the store holds the records, or deletes it if the store was not
// changed, so that a process killed between the two writes loses nothing and applies nothing by halves (see
// Service.Recover).
type PublishIntent struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	Versions   []Version      `json:"versions"`
	DropDrafts map[string]int `json:"drop_drafts,omitempty"`
	// Import is the import batch the publish publishes (0: none), marked published when it is completed.
	Import int64 `json:"import,omitempty"`
}

// Statuses of an imported record.
const (
	StatusNew       = "new"
	StatusChanged   = "changed"
	StatusUnchanged = "unchanged"
	StatusInvalid   = "invalid"
)

// Counts summarises an import's records by status.
type Counts struct {
	New       int `json:"new"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Invalid   int `json:"invalid"`
	Total     int `json:"total"`
}

// Import is a batch of imported records (the summary; records are kept apart).
type Import struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Format      string     `json:"format"`
	By          string     `json:"by"`
	At          time.Time  `json:"at"`
	Status      string     `json:"status"` // "open" or "published"
	Counts      Counts     `json:"counts"`
	Published   int        `json:"published,omitempty"`
	PublishedBy string     `json:"published_by,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

// ImportRecord is one record of an import and its status. Procedure is kept for new and changed records.
type ImportRecord struct {
	Code      string               `json:"code,omitempty"`
	Name      string               `json:"name,omitempty"`
	File      string               `json:"file,omitempty"`
	Status    string               `json:"status"`
	Reason    string               `json:"reason,omitempty"`
	Procedure *knowledge.Procedure `json:"-"`
}

// Handled records that a queue group was marked handled.
type Handled struct {
	Kind string    // "question" or "procedure"
	Key  string    // the folded question or the code
	By   string    // username
	At   time.Time // when
}

// Synonym is a runtime lexicon rule staff added.
type Synonym struct {
	ID     int64     `json:"id"`
	Phrase string    `json:"phrase"`
	To     string    `json:"to"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// CentreCorrection is staff's correction of one commune's public administrative service centre: the name,
// address, precision, phone and opening hours citizens are told instead of the centres file's, which stays the
// seed (see knowledge.Centres.Corrected). Version increases by one per save.
type CentreCorrection struct {
	UnitCode  string    `json:"unit_code"`
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	Precision string    `json:"precision,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Hours     string    `json:"hours,omitempty"`
	Note      string    `json:"note,omitempty"` // for staff: how it was checked
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

// Fix is the correction as knowledge.Centres.Corrected takes it.
func (c CentreCorrection) Fix() knowledge.Centre {
	return knowledge.Centre{UnitCode: c.UnitCode, Name: c.Name, Address: c.Address, Precision: c.Precision,
		Phone: c.Phone, Hours: c.Hours, Checked: c.At}
}

// Starters are the starter questions staff set for the chat widget: the questions it offers as buttons when a
// conversation starts (the most asked procedures), instead of the operator's or the built-in ones. Version
// increases by one per save.
type Starters struct {
	Version   int       `json:"version"`
	Questions []string  `json:"questions"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

// AuditEntry is one staff action. Details never hold passwords or secrets.
type AuditEntry struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Target  string          `json:"target,omitempty"`
	Details json.RawMessage `json:"details,omitempty"`
}

// Repo stores everything of the staff backend: the stores of each concern below, each of which a consumer
// takes alone when it needs no other. Implementations: staff/embedded and staff/postgres; both pass
// staff/stafftest. Methods returning one item return ErrNotFound when it is absent.
type Repo interface {
	AccountRepo
	SessionRepo
	DraftRepo
	HistoryRepo
	ImportRepo
	QueueRepo
	CentreRepo
	AuditRepo
	Close() error
}

// AccountRepo stores the staff accounts and the API tokens.
type AccountRepo interface {
	CreateUser(ctx context.Context, u User) error // ErrExists
	User(ctx context.Context, username string) (User, error)
	UpdateUser(ctx context.Context, u User) error // by Username; ErrNotFound
	Users(ctx context.Context) ([]User, error)    // by username

	CreateToken(ctx context.Context, t Token) (Token, error) // assigns ID
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	Tokens(ctx context.Context) ([]Token, error) // by ID
	DeleteToken(ctx context.Context, id int64) error
}

// SessionRepo stores the logged-in browsers.
type SessionRepo interface {
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, hash []byte) (Session, error)
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	DeleteSession(ctx context.Context, hash []byte) error
	DeleteSessions(ctx context.Context, username string) error // all of a user's sessions
}

// DraftRepo stores the procedures' drafts, with optimistic concurrency.
type DraftRepo interface {
	Draft(ctx context.Context, code string) (Draft, error)
	Drafts(ctx context.Context) ([]Draft, error) // by code
	// SaveDraft stores d as the next version of the code's draft if its current version is base (0: there
	// is none); otherwise ErrConflict. It returns the stored draft.
	SaveDraft(ctx context.Context, d Draft, base int) (Draft, error)
	// DeleteDraft removes the draft if its version is base; ErrConflict otherwise, ErrNotFound if absent.
	DeleteDraft(ctx context.Context, code string, base int) error
}

// HistoryRepo stores the procedures' publishing history and the publishes written down before the catalog
// store is changed (PublishIntent).
type HistoryRepo interface {
	// AddVersions appends versions (numbered from 1 per code, in order) and, for each code in dropDrafts
	// with the given version, removes that draft — all atomically. It returns the versions as stored.
	AddVersions(ctx context.Context, vs []Version, dropDrafts map[string]int) ([]Version, error)
	Versions(ctx context.Context, code string) ([]Version, error) // newest first, without records
	Version(ctx context.Context, code string, version int) (Version, error)
	LatestVersions(ctx context.Context) (map[string]int, error) // code → latest version number

	// AddPublishIntent stores a publish before the catalog store is changed; it assigns ID.
	AddPublishIntent(ctx context.Context, in PublishIntent) (PublishIntent, error)
	PublishIntents(ctx context.Context) ([]PublishIntent, error) // by ID, with the versions' records
	// CompletePublishIntent does AddVersions with the intent's versions and drafts and removes the intent,
	// all atomically; it returns the versions as stored, ErrNotFound if the intent is absent.
	CompletePublishIntent(ctx context.Context, id int64) ([]Version, error)
	DeletePublishIntent(ctx context.Context, id int64) error // ErrNotFound if absent
}

// ImportRepo stores the catalog imports and their records.
type ImportRepo interface {
	CreateImport(ctx context.Context, im Import, recs []ImportRecord) (Import, error) // assigns ID
	Import(ctx context.Context, id int64) (Import, []ImportRecord, error)
	Imports(ctx context.Context, limit int) ([]Import, error) // newest first
	// MarkImportPublished records the batch as published; ErrConflict if it already is.
	MarkImportPublished(ctx context.Context, id int64, by string, at time.Time, n int) error
}

// QueueRepo stores what staff did with the feedback queue: the groups marked handled and the runtime
// synonyms.
type QueueRepo interface {
	SetHandled(ctx context.Context, h Handled) error
	Handled(ctx context.Context) ([]Handled, error)

	AddSynonym(ctx context.Context, s Synonym) (Synonym, error) // replaces the target of an existing phrase
	DeleteSynonym(ctx context.Context, id int64) error
	Synonyms(ctx context.Context) ([]Synonym, error) // by ID
}

// CentreRepo stores staff's corrections of the communes' service centres.
type CentreRepo interface {
	CentreCorrections(ctx context.Context) ([]CentreCorrection, error) // by unit code
	CentreCorrection(ctx context.Context, unit string) (CentreCorrection, error)
	// SaveCentreCorrection stores c as the next version of its unit's correction if the current version is
	// base (0: there is none); otherwise ErrConflict. It returns the stored correction.
	SaveCentreCorrection(ctx context.Context, c CentreCorrection, base int) (CentreCorrection, error)
	// DeleteCentreCorrection removes a unit's correction (back to the seed) if its version is base;
	// ErrConflict otherwise, ErrNotFound if absent.
	DeleteCentreCorrection(ctx context.Context, unit string, base int) error
}

// Auditor appends to the audit log.
type Auditor interface {
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) // assigns ID
}

// AuditRepo stores the append-only audit log.
type AuditRepo interface {
	Auditor
	Audit(ctx context.Context, before int64, limit int) ([]AuditEntry, error) // newest first, ID < before (0: all)
	// LoginFailures counts the audit entries of action "login_failed" with actor username, at or after since,
	// that follow its last "login" entry, and returns the time of the last one (zero if none). A store may
	// count only the last 32 failures. The staff service throttles logins on it across the processes
	// sharing a Repo, so it must stay cheap however long the audit log grows.
	LoginFailures(ctx context.Context, username string, since time.Time) (n int, last time.Time, err error)
}

// UserAdmin is what the account commands (AddUser, AddToken, SetUnit) need: the accounts, and the audit log
// they record their changes in.
type UserAdmin interface {
	AccountRepo
	Auditor
}

// StarterRepo stores the widget's starter questions staff set. It is an optional capability of a Repo, kept
// apart from Repo for this one concern: both staff/embedded and staff/postgres have it (the contract is
// stafftest.RunStarters); without it the staff API has no starter questions to set.
type StarterRepo interface {
	Starters(ctx context.Context) (Starters, error) // ErrNotFound when staff set none
	// SaveStarters stores s as the next version if the current version is base (0: staff set none);
	// otherwise ErrConflict. It returns the stored starters.
	SaveStarters(ctx context.Context, s Starters, base int) (Starters, error)
	// DeleteStarters removes staff's starters (back to the default ones) if their version is base;
	// ErrConflict otherwise, ErrNotFound if staff set none.
	DeleteStarters(ctx context.Context, base int) error
}

// Watcher is an optional capability of a Repo shared by several processes (staff/postgres): Watch calls
// changed whenever another process (or this one) changes the synonyms, the centre corrections or the starter
// questions, until ctx ends.
type Watcher interface {
	Watch(ctx context.Context, changed func()) error
}
