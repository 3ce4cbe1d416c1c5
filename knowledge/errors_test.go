package knowledge

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStorageFull(t *testing.T) {
	write := func(errno error) error {
		return fmt.Errorf("embedded: append: %w", &fs.PathError{Op: "write", Path: "catalog.db", Err: errno})
	}
	for _, c := range []struct {
		err  error
		full bool
	}{
		{write(syscall.ENOSPC), true},
		{write(syscall.EDQUOT), true},
		{write(syscall.EFBIG), true},
		{write(syscall.EIO), false},
		{write(syscall.EACCES), false},
		{errors.New("no space left on device"), false}, // a message is not the error
		{nil, false},
	} {
		assert.Equal(t, c.full, StorageFull(c.err), "%v", c.err)
	}
}
