package staff_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
)

// TestGoAPI publishes a draft through the use cases' Go API, without HTTP, on the embedded store, reads it
// back from the catalog and the history, and gets each kind of refusal as an *staff.Error.
func TestGoAPI(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	ctx := t.Context()
	e.addUser("lan", staff.RolePublisher)
	require.NoError(t, staff.SetUnit(ctx, e.repo, "lan", "UBND phường Bàn Cờ", e.clock.Now()))
	lan := staff.Actor{Username: "lan", Role: staff.RolePublisher}
	const code = "1.000002"

	rec, err := e.store.Get(ctx, code)
	require.NoError(t, err)
	rec.Name = "Cấp lại thẻ căn cước (sửa)"
	d, err := e.svc.SaveDraft(ctx, lan, code, rec, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, d.Version)
	assert.Equal(t, "lan", d.UpdatedBy)

	// A save from a stale version is a conflict that carries the procedure as it is now.
	_, err = e.svc.SaveDraft(ctx, lan, code, rec, 0)
	require.ErrorIs(t, err, staff.ErrConflict)
	var se *staff.Error
	require.True(t, errors.As(err, &se))
	assert.NotEmpty(t, se.Message)
	assert.NotNil(t, se.Current)
	_, err = e.svc.Publish(ctx, lan, code, 2, "")
	require.ErrorIs(t, err, staff.ErrConflict)

	v, err := e.svc.Publish(ctx, lan, code, d.Version, "  sửa tên  ")
	require.NoError(t, err)
	assert.Equal(t, staff.ActionPublish, v.Action)
	assert.Equal(t, 2, v.Version, "version 1 keeps the catalog's record")
	assert.Equal(t, "sửa tên", v.Note)

	got, err := e.store.Get(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, "Cấp lại thẻ căn cước (sửa)", got.Name)
	assert.Equal(t, "lan", got.Attribution.By)
	assert.Equal(t, "UBND phường Bàn Cờ", got.Attribution.Unit)
	vs, err := e.repo.Versions(ctx, code)
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.Equal(t, []string{staff.ActionPublish, staff.ActionCatalog}, []string{vs[0].Action, vs[1].Action})
	_, err = e.repo.Draft(ctx, code)
	require.ErrorIs(t, err, staff.ErrNotFound, "publishing drops the draft")
	audit, err := e.repo.Audit(ctx, 0, 10)
	require.NoError(t, err)
	require.NotEmpty(t, audit)
	assert.Equal(t, "publish", audit[0].Action)
	assert.Equal(t, "lan", audit[0].Actor)

	// Restoring the catalog's version publishes it again.
	r, err := e.svc.Restore(ctx, lan, code, 1, "")
	require.NoError(t, err)
	assert.Equal(t, 3, r.Version)
	got, err = e.store.Get(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, "Cấp lại thẻ căn cước", got.Name)

	// The other refusals.
	_, err = e.svc.Publish(ctx, lan, code, 0, "")
	require.ErrorIs(t, err, staff.ErrNotFound, "no draft to publish")
	viewer := staff.Actor{Username: "an", Role: staff.RoleViewer}
	_, err = e.svc.SaveDraft(ctx, viewer, code, rec, 0)
	require.ErrorIs(t, err, staff.ErrForbidden)
	rec.Name = " "
	_, err = e.svc.SaveDraft(ctx, lan, code, rec, 0)
	require.ErrorIs(t, err, staff.ErrInvalid)
	require.True(t, errors.As(err, &se))
	assert.Contains(t, se.Fields, staff.FieldReason{Field: "name", Reason: "Tên thủ tục không được để trống."})
	_, err = e.svc.Unpublish(ctx, lan, "9.999999", "")
	require.ErrorIs(t, err, staff.ErrNotFound)
	assert.ErrorIs(t, err, knowledge.ErrNotFound)
}
