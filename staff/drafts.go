package staff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/trolyao/trolyao/knowledge"
)

// The use cases of a procedure's record: its draft, publishing and history (see usecase.go).

func invalidRecord(fields []FieldReason) *Error {
	return invalid("Bản ghi thủ tục không hợp lệ.", fields...)
}

// draftConflict is ErrConflict for a draft saved, discarded or published from a stale version, with the
// procedure as it is now (its published record, version and draft).
func (s *Service) draftConflict(ctx context.Context, code string) error {
	return conflict(ctx, "Bản nháp đã được người khác thay đổi. Hãy xem bản hiện tại rồi sửa lại.",
		func(ctx context.Context) (any, error) { return s.current(ctx, code) })
}

// SaveDraft stores rec as the next version of the draft of code if the draft's version is base (0: there is
// none), and returns the stored draft. rec's code may be empty (it is code). The draft keeps the published
// record's attribution (who published a record is the server's to say), and a fee changed over the portal's
// note drops the note's fee statements now, so that the editor, the diff and the preview show what citizens
// will read. ErrConflict when the draft's version is not base; for editors.
func (s *Service) SaveDraft(ctx context.Context, a Actor, code string, rec knowledge.Procedure, base int) (Draft, error) {
	if err := a.may(RoleEditor); err != nil {
		return Draft{}, err
	}
	if !validCode(code) {
		return Draft{}, notFound("")
	}
	if rec.Code == "" {
		rec.Code = code
	}
	fields := Validate(&rec)
	if rec.Code != code {
		fields = append(fields, FieldReason{"code", "Mã thủ tục phải trùng với mã trong địa chỉ."})
	}
	if len(fields) > 0 {
		return Draft{}, invalidRecord(fields)
	}
	pub, err := s.published(ctx, code)
	if err != nil {
		return Draft{}, err
	}
	rec.Attribution = knowledge.Attribution{}
	if pub != nil {
		rec.Attribution = pub.Attribution
	}
	dropStaleFees(&rec, pub)
	d, err := s.opt.Repo.SaveDraft(ctx, Draft{Code: code, Procedure: rec, UpdatedBy: a.Name(), UpdatedAt: s.now()}, base)
	if errors.Is(err, ErrConflict) {
		return Draft{}, s.draftConflict(ctx, code)
	} else if err != nil {
		return Draft{}, err
	}
	s.record(ctx, a.Name(), "draft_save", code, map[string]any{"version": d.Version})
	return d, nil
}

const msgNoDraft = "Thủ tục này chưa có bản nháp."

// DiscardDraft removes the draft of code if its version is base: ErrConflict otherwise, ErrNotFound when
// there is none. For editors.
func (s *Service) DiscardDraft(ctx context.Context, a Actor, code string, base int) error {
	if err := a.may(RoleEditor); err != nil {
		return err
	}
	if !validCode(code) {
		return notFound("")
	}
	err := s.opt.Repo.DeleteDraft(ctx, code, base)
	switch {
	case errors.Is(err, ErrConflict):
		return s.draftConflict(ctx, code)
	case errors.Is(err, knowledge.ErrNotFound):
		return notFound(msgNoDraft)
	case err != nil:
		return err
	}
	s.record(ctx, a.Name(), "draft_discard", code, map[string]any{"version": base})
	return nil
}

// Publish publishes the draft of code, if its version is base, as the record citizens get (attributed to a
// and the account's unit, now), re-indexing it, and returns the new version of its history (with the record).
// note (at most MaxNoteRunes) goes with the version. ErrNotFound when the procedure has no draft and base is
// 0, ErrConflict when the draft's version is not base, ErrInvalid when the record cannot be published; for
// publishers.
func (s *Service) Publish(ctx context.Context, a Actor, code string, base int, note string) (Version, error) {
	if err := checkPublish(a, code, note); err != nil {
		return Version{}, err
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	d, err := s.opt.Repo.Draft(ctx, code)
	if errors.Is(err, knowledge.ErrNotFound) {
		if base == 0 {
			return Version{}, notFound("Thủ tục này chưa có bản nháp để xuất bản.")
		}
		return Version{}, s.draftConflict(ctx, code)
	} else if err != nil {
		return Version{}, err
	}
	if d.Version != base {
		return Version{}, s.draftConflict(ctx, code)
	}
	pub, err := s.published(ctx, code)
	if err != nil {
		return Version{}, err
	}
	attr, err := s.attribution(ctx, a)
	if err != nil {
		return Version{}, err
	}
	rec := asPublished(d.Procedure, pub, attr)
	if fields := Validate(&rec); len(fields) > 0 {
		return Version{}, invalidRecord(fields)
	}
	vs, err := s.publishRecords(ctx, []knowledge.Procedure{rec}, nil, ActionPublish, a.Name(), strings.TrimSpace(note),
		map[string]int{code: d.Version}, 0)
	if err != nil {
		return Version{}, err
	}
	v := vs[0]
	s.record(ctx, a.Name(), "publish", code, map[string]any{"version": v.Version, "draft_version": d.Version})
	return v, nil
}

// Unpublish removes the published record of code from what citizens get, and returns the new version of its
// history (without the record). ErrNotFound when the procedure is not published; for publishers.
func (s *Service) Unpublish(ctx context.Context, a Actor, code, note string) (Version, error) {
	if err := checkPublish(a, code, note); err != nil {
		return Version{}, err
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	rec, err := s.publishedRecord(ctx, code)
	if err != nil {
		return Version{}, err
	}
	vs, err := s.publishRecords(ctx, nil, []knowledge.Procedure{rec}, ActionUnpublish, a.Name(), strings.TrimSpace(note), nil, 0)
	if err != nil {
		return Version{}, err
	}
	s.record(ctx, a.Name(), "unpublish", code, map[string]any{"version": vs[0].Version})
	vs[0].Procedure = nil
	return vs[0], nil
}

// checkPublish refuses a publish, an unpublish or a restore that a may not make, or of a malformed code or a
// note that is too long.
func checkPublish(a Actor, code, note string) error {
	if err := a.may(RolePublisher); err != nil {
		return err
	}
	if !validCode(code) {
		return notFound("")
	}
	return checkNote(note)
}

// publishedRecord is the record of code citizens get; ErrNotFound when it is not published.
func (s *Service) publishedRecord(ctx context.Context, code string) (knowledge.Procedure, error) {
	rec, err := s.opt.Store.Get(ctx, code)
	if errors.Is(err, knowledge.ErrNotFound) {
		return rec, notFound("Thủ tục này không có trong danh mục đã xuất bản.")
	}
	return rec, err
}

// Restore publishes again the record of a version of code's history, and returns the new version (with the
// record). note defaults to "Khôi phục phiên bản N". ErrNotFound when there is no such version or it keeps no
// record, ErrInvalid when the record cannot be published; for publishers.
func (s *Service) Restore(ctx context.Context, a Actor, code string, version int, note string) (Version, error) {
	if err := checkPublish(a, code, note); err != nil {
		return Version{}, err
	}
	if version <= 0 {
		return Version{}, notFound("")
	}
	v, err := s.opt.Repo.Version(ctx, code, version)
	if errors.Is(err, knowledge.ErrNotFound) {
		return Version{}, notFound(msgNoVersion)
	} else if err != nil {
		return Version{}, err
	}
	if v.Procedure == nil {
		return Version{}, notFound("Phiên bản này không lưu bản ghi.")
	}
	if fields := Validate(v.Procedure); len(fields) > 0 {
		return Version{}, invalidRecord(fields)
	}
	n := strings.TrimSpace(note)
	if n == "" {
		n = fmt.Sprintf("Khôi phục phiên bản %d", v.Version)
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	vs, err := s.publishRecords(ctx, []knowledge.Procedure{*v.Procedure}, nil, ActionRestore, a.Name(), n, nil, 0)
	if err != nil {
		return Version{}, err
	}
	s.record(ctx, a.Name(), "restore", v.Code, map[string]any{"from_version": v.Version, "version": vs[0].Version})
	return vs[0], nil
}

const msgNoVersion = "Không có phiên bản này."
