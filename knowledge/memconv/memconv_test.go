package memconv_test

import (
	"testing"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/convtest"
	"github.com/trolyao/trolyao/knowledge/memconv"
)

func TestContract(t *testing.T) {
	convtest.Run(t, func(*testing.T) knowledge.Conversations { return memconv.New() })
}
