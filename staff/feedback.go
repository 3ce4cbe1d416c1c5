package staff

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/knowledge"
)

// Kinds of queue groups.
const (
	ByQuestion  = "question"
	ByProcedure = "procedure"
)

const (
	maxExamples     = 5
	maxGroupCodes   = 10
	defaultQueueAge = 90 * 24 * time.Hour
)

// QuestionKey is the group key of a question: its redacted, folded syllables, so that questions differing in
// case, accents, punctuation or personal numbers fall together.
func QuestionKey(q string) string {
	return strings.Join(knowledge.Syllables(assistant.Redact(q)), " ")
}

// Group is one row of the feedback queue.
type Group struct {
	Key           string     `json:"key"`
	Question      string     `json:"question,omitempty"`
	Code          string     `json:"code,omitempty"`
	Name          string     `json:"name,omitempty"`
	Count         int        `json:"count"`
	Abstained     int        `json:"abstained"`
	LowConfidence int        `json:"low_confidence"`
	ThumbsDown    int        `json:"thumbs_down"`
	FirstAt       time.Time  `json:"first_at"`
	LastAt        time.Time  `json:"last_at"`
	HandledAt     *time.Time `json:"handled_at,omitempty"`
	HandledBy     string     `json:"handled_by,omitempty"`
	Examples      []string   `json:"examples"`
	Codes         []string   `json:"codes,omitempty"`
	// Names are the names of Codes (by=question), in the same order; "" for a code no longer published.
	Names []string `json:"names,omitempty"`
	// Reasons counts the reasons citizens gave with their 👎 (knowledge.FeedbackReasons).
	Reasons map[string]int `json:"reasons,omitempty"`
	// Answers are the answers the citizens got, newest first (at most maxExamples).
	Answers []QueueAnswer `json:"answers"`
}

// QueueAnswer is one flagged answer as the citizen got it: the stored assistant message (redacted at rest,
// and again here for messages stored before redaction), with the question it answered.
type QueueAnswer struct {
	Question  string    `json:"question,omitempty"`
	Answer    string    `json:"answer"` // in the answers' Markdown subset, as stored
	Plain     string    `json:"plain"`  // the same as plain text (assistant.PlainText), for showing as text
	Codes     []string  `json:"codes,omitempty"`
	At        time.Time `json:"at"`
	Abstained bool      `json:"abstained,omitempty"`
	Feedback  int       `json:"feedback,omitempty"`
	Reason    string    `json:"reason,omitempty"` // with feedback -1: one of knowledge.FeedbackReasons
}

// GroupFlagged groups flagged messages by question or by procedure (the first cited code), most frequent
// first. Texts are redacted. below is the low-confidence threshold.
func GroupFlagged(fs []knowledge.Flagged, by string, below float64) []Group {
	m := map[string]*Group{}
	var order []string
	// fs are newest first (knowledge.FlagLister), so each group's answers are its newest.
	for _, f := range fs {
		q := assistant.Redact(f.Question)
		key := QuestionKey(f.Question)
		if by == ByProcedure {
			key = ""
			if len(f.Answer.Codes) > 0 {
				key = f.Answer.Codes[0]
			}
		}
		g, ok := m[key]
		if !ok {
			g = &Group{Key: key, FirstAt: f.Answer.At, LastAt: f.Answer.At, Examples: []string{}, Answers: []QueueAnswer{}}
			if by == ByProcedure {
				g.Code = key
			} else {
				g.Question = q
			}
			m[key] = g
			order = append(order, key)
		}
		g.Count++
		switch {
		case f.Answer.Abstain:
			g.Abstained++
		case f.Answer.Confidence > 0 && f.Answer.Confidence < below:
			g.LowConfidence++
		}
		if f.Answer.Feedback < 0 {
			g.ThumbsDown++
			if r := f.Answer.FeedbackReason; r != "" {
				if g.Reasons == nil {
					g.Reasons = map[string]int{}
				}
				g.Reasons[r]++
			}
		}
		if len(g.Answers) < maxExamples {
			text := assistant.Redact(f.Answer.Text)
			g.Answers = append(g.Answers, QueueAnswer{Question: q, Answer: text, Plain: assistant.PlainText(text),
				Codes: slices.Clone(f.Answer.Codes), At: f.Answer.At, Abstained: f.Answer.Abstain,
				Feedback: f.Answer.Feedback, Reason: f.Answer.FeedbackReason})
		}
		if f.Answer.At.Before(g.FirstAt) {
			g.FirstAt = f.Answer.At
		}
		if f.Answer.At.After(g.LastAt) {
			g.LastAt = f.Answer.At
		}
		if q != "" && len(g.Examples) < maxExamples && !slices.Contains(g.Examples, q) {
			g.Examples = append(g.Examples, q)
		}
		if by == ByQuestion {
			for _, c := range f.Answer.Codes {
				if len(g.Codes) < maxGroupCodes && !slices.Contains(g.Codes, c) {
					g.Codes = append(g.Codes, c)
				}
			}
		}
	}
	out := make([]Group, 0, len(order))
	for _, k := range order {
		out = append(out, *m[k])
	}
	slices.SortStableFunc(out, func(a, b Group) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return b.LastAt.Compare(a.LastAt)
	})
	return out
}

// queueQuery is what GET /unanswered asks for.
type queueQuery struct {
	by, status string
	limit      int
	since      time.Time
}

// readQueueQuery reads the parameters of GET /unanswered.
func (s *Service) readQueueQuery(r *http.Request) (queueQuery, *apiErr) {
	q := r.URL.Query()
	qq := queueQuery{by: q.Get("by"), status: q.Get("status"), since: s.now().Add(-defaultQueueAge)}
	if qq.by == "" {
		qq.by = ByQuestion
	}
	if qq.status == "" {
		qq.status = "open"
	}
	if (qq.by != ByQuestion && qq.by != ByProcedure) || (qq.status != "open" && qq.status != "handled" && qq.status != "all") {
		return qq, errf(http.StatusBadRequest, "bad_request", "Tham số by phải là question hoặc procedure; status là open, handled hoặc all.")
	}
	var e *apiErr
	if qq.limit, e = queryInt(r, "limit", 100, 1, MaxListLimit); e != nil {
		return qq, e
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return qq, errf(http.StatusBadRequest, "bad_request", "Tham số since phải là thời điểm RFC 3339, ví dụ 2026-07-01T00:00:00Z.")
		}
		qq.since = t
	}
	return qq, nil
}

func (s *Service) unanswered(w http.ResponseWriter, r *http.Request, _ *principal) {
	qq, e := s.readQueueQuery(r)
	if e != nil {
		e.write(w)
		return
	}
	by, status, limit, since := qq.by, qq.status, qq.limit, qq.since
	fl, ok := s.opt.Conversations.(knowledge.FlagLister)
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"groups": []Group{}})
		return
	}
	ctx := r.Context()
	fs, err := fl.Flagged(ctx, knowledge.FlagFilter{Since: since, Below: s.opt.LowConfidence})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hs, err := s.opt.Repo.Handled(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	handled := map[string]Handled{}
	for _, h := range hs {
		if h.Kind == by {
			handled[h.Key] = h
		}
	}
	names := map[string]string{}
	name := func(code string) string {
		n, ok := names[code]
		if !ok {
			if p, err := s.opt.Store.Get(ctx, code); err == nil {
				n = p.Name
			}
			names[code] = n
		}
		return n
	}
	var out []Group
	for _, g := range GroupFlagged(fs, by, s.opt.LowConfidence) {
		h, isHandled := handled[g.Key]
		if isHandled {
			at := h.At
			g.HandledAt, g.HandledBy = &at, h.By
		}
		open := !isHandled || g.LastAt.After(h.At)
		if (status == "open" && !open) || (status == "handled" && open) {
			continue
		}
		if g.Code != "" {
			g.Name = name(g.Code)
		}
		if len(g.Codes) > 0 {
			g.Names = make([]string, len(g.Codes))
			for i, c := range g.Codes {
				g.Names[i] = name(c)
			}
		}
		out = append(out, g)
		if len(out) == limit {
			break
		}
	}
	if out == nil {
		out = []Group{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
}

func (s *Service) markHandled(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		By  string `json:"by"`
		Key string `json:"key"`
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	if (req.By != ByQuestion && req.By != ByProcedure) || len(req.Key) > 2000 || !utf8.ValidString(req.Key) {
		writeError(w, http.StatusBadRequest, "bad_request", "Cần by (question hoặc procedure) và key (tối đa 2.000 ký tự).")
		return
	}
	// Group keys are redacted already; a key sent by hand may not be, and it is stored and audited.
	req.Key = assistant.Redact(req.Key)
	if err := s.opt.Repo.SetHandled(r.Context(), Handled{Kind: req.By, Key: req.Key, By: p.Actor(), At: s.now()}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r.Context(), p.Actor(), "queue_handled", req.By+":"+req.Key, nil)
	w.WriteHeader(http.StatusNoContent)
}

const msgQuestionLength = "Câu hỏi phải có từ 1 đến 500 ký tự."

// linkAlias is the alias a question becomes (redacted, in normal form); false when it is empty or too long.
func linkAlias(question string) (string, bool) {
	alias := knowledge.Normalize(assistant.Redact(strings.TrimSpace(question)))
	return alias, alias != "" && utf8.RuneCountInString(alias) <= knowledge.MaxQueryRunes && utf8.ValidString(alias)
}

func (s *Service) link(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Question string `json:"question"`
		Code     string `json:"code"`
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	if _, ok := linkAlias(req.Question); !ok {
		writeError(w, http.StatusBadRequest, "bad_request", msgQuestionLength)
		return
	}
	if !validCode(req.Code) {
		errNotFound.write(w)
		return
	}
	v, err := s.LinkAlias(r.Context(), p.actor(), req.Question, req.Code)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// LinkAlias links a citizen's question to the published procedure code: the question (redacted) becomes one
// of the record's aliases, published as a new version of its history (and added to its draft, if any, so that
// publishing the draft later keeps it), and the question's group of the feedback queue is marked handled. It
// returns the new version, or the latest one when the record has the alias already. ErrNotFound when the
// procedure is not published; for editors.
func (s *Service) LinkAlias(ctx context.Context, a Actor, question, code string) (Version, error) {
	if err := a.may(RoleEditor); err != nil {
		return Version{}, err
	}
	alias, ok := linkAlias(question)
	if !ok {
		return Version{}, invalid(msgQuestionLength, FieldReason{"question", msgQuestionLength})
	}
	if !validCode(code) {
		return Version{}, notFound("")
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	rec, err := s.publishedRecord(ctx, code)
	if err != nil {
		return Version{}, err
	}
	key := QuestionKey(alias)
	var v Version
	if !hasAlias(&rec, key) {
		v, err = s.addAlias(ctx, a, rec, alias, key)
	} else {
		v, err = s.latestVersion(ctx, code)
	}
	if err != nil {
		return Version{}, err
	}
	if err := s.opt.Repo.SetHandled(ctx, Handled{Kind: ByQuestion, Key: key, By: a.Name(), At: s.now()}); err != nil {
		return Version{}, err
	}
	s.record(ctx, a.Name(), "alias_link", code, map[string]any{"version": v.Version, "question_key": key})
	return v, nil
}

// hasAlias reports whether p has an alias of the question key.
func hasAlias(p *knowledge.Procedure, key string) bool {
	return slices.ContainsFunc(p.Aliases, func(a string) bool { return QuestionKey(a) == key })
}

// addAlias publishes rec with alias (of the question key) added, and adds it to the procedure's draft too.
func (s *Service) addAlias(ctx context.Context, a Actor, rec knowledge.Procedure, alias, key string) (Version, error) {
	rec.Aliases = append(rec.Aliases, alias)
	if fields := Validate(&rec); len(fields) > 0 {
		return Version{}, invalidRecord(fields)
	}
	vs, err := s.publishRecords(ctx, []knowledge.Procedure{rec}, nil, ActionAlias, a.Name(), "Thêm cách gọi: "+alias, nil, 0)
	if err != nil {
		return Version{}, err
	}
	// A draft of the procedure gets the alias too, so publishing it later keeps the link.
	if d, err := s.opt.Repo.Draft(ctx, rec.Code); err == nil && !hasAlias(&d.Procedure, key) {
		d.Procedure.Aliases = append(d.Procedure.Aliases, alias)
		d.UpdatedBy, d.UpdatedAt = a.Name(), s.now()
		if _, err := s.opt.Repo.SaveDraft(ctx, d, d.Version); err != nil {
			s.log.Warn("staff: alias not added to the draft", "code", rec.Code, "err", err)
		}
	}
	return vs[0], nil
}

// latestVersion is the latest version of code's history (without the record); only the code when it has none.
func (s *Service) latestVersion(ctx context.Context, code string) (Version, error) {
	vs, err := s.opt.Repo.Versions(ctx, code)
	if err != nil {
		return Version{}, err
	}
	if len(vs) > 0 {
		return vs[0], nil
	}
	return Version{Code: code}, nil
}

func (s *Service) listSynonyms(w http.ResponseWriter, r *http.Request, _ *principal) {
	ss, err := s.opt.Repo.Synonyms(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ss == nil {
		ss = []Synonym{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": ss})
}

func (s *Service) addSynonym(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Phrase string `json:"phrase"`
		To     string `json:"to"`
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return
	}
	out, err := s.AddSynonym(r.Context(), p.actor(), req.Phrase, req.To)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// AddSynonym adds the runtime synonym phrase → to (in normal form; it replaces the target of a phrase staff
// added already) and applies it at once (Options.Lexicon). ErrInvalid when it is not a valid synonym or there
// are knowledge.MaxSynonyms already; for editors.
func (s *Service) AddSynonym(ctx context.Context, a Actor, phrase, to string) (Synonym, error) {
	if err := a.may(RoleEditor); err != nil {
		return Synonym{}, err
	}
	syn := knowledge.Synonym{Phrase: strings.TrimSpace(knowledge.Normalize(phrase)), To: strings.TrimSpace(knowledge.Normalize(to))}
	if err := knowledge.CheckSynonym(syn); err != nil {
		return Synonym{}, invalid("Từ đồng nghĩa không hợp lệ.",
			FieldReason{"phrase", "Cụm từ gồm 1–100 ký tự; nghĩa thay thế tối đa 200 ký tự."})
	}
	if ss, err := s.opt.Repo.Synonyms(ctx); err != nil {
		return Synonym{}, err
	} else if len(ss) >= knowledge.MaxSynonyms && !slices.ContainsFunc(ss, func(x Synonym) bool { return x.Phrase == syn.Phrase }) {
		return Synonym{}, invalid("Đã đạt số từ đồng nghĩa tối đa.")
	}
	out, err := s.opt.Repo.AddSynonym(ctx, Synonym{Phrase: syn.Phrase, To: syn.To, By: a.Name(), At: s.now()})
	if err != nil {
		return Synonym{}, err
	}
	if err := s.ReloadSynonyms(ctx); err != nil {
		return Synonym{}, err
	}
	s.record(ctx, a.Name(), "synonym_add", syn.Phrase, map[string]any{"to": syn.To, "id": out.ID})
	return out, nil
}

func (s *Service) deleteSynonym(w http.ResponseWriter, r *http.Request, p *principal) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		errNotFound.write(w)
		return
	}
	if err := s.DeleteSynonym(r.Context(), p.actor(), id); err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// DeleteSynonym removes a runtime synonym and applies the others at once. ErrNotFound when there is no such
// synonym; for editors.
func (s *Service) DeleteSynonym(ctx context.Context, a Actor, id int64) error {
	if err := a.may(RoleEditor); err != nil {
		return err
	}
	if err := s.opt.Repo.DeleteSynonym(ctx, id); errors.Is(err, knowledge.ErrNotFound) {
		return notFound("")
	} else if err != nil {
		return err
	}
	if err := s.ReloadSynonyms(ctx); err != nil {
		return err
	}
	s.record(ctx, a.Name(), "synonym_delete", strconv.FormatInt(id, 10), nil)
	return nil
}
