package console

import (
	"os"
	"testing"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	samsatest.RemoveBinary()
	os.Exit(code)
}
