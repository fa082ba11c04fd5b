package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// TestServeRunsConsoleThatRecoversWhenBrokerReturns runs the real binary:
// `samsa serve` serves a console for its own broker; a console whose
// broker stops answers "unreachable" and recovers when it restarts.
func TestServeRunsConsoleThatRecoversWhenBrokerReturns(t *testing.T) {
	bin := samsatest.BuildBinary(t)
	p := samsatest.StartProcess(t, bin, t.TempDir(), "--console-listen", "127.0.0.1:0")
	var line string
	samsatest.Eventually(t, 10*time.Second, "the console's ready line", func() bool {
		line = p.LogLine("samsa console ready")
		return line != ""
	})
	_, rest, _ := strings.Cut(line, "url=")
	url := strings.Fields(rest)[0]
	resp, err := http.Get(url + "/api/brokers")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s/api/brokers: %s", url, resp.Status)
	}

	srv := startConsole(t, p.Addr(), func(c *Config) { c.RequestTimeout = 500 * time.Millisecond })
	var h health
	mustCall(t, srv, 200, "GET", "/api/health", nil, &h)
	if !h.OK || h.Nodes != 1 {
		t.Errorf("health = %+v", h)
	}
	p.Stop()
	// The client may answer from metadata cached a moment ago.
	samsatest.Eventually(t, 10*time.Second, "the console to see the broker gone", func() bool {
		code, _ := call(t, srv, "GET", "/api/health", nil, nil)
		return code == 503
	})
	body := mustCall(t, srv, 503, "GET", "/topics", nil, nil)
	if !strings.Contains(body, "Cluster unreachable") {
		t.Errorf("topics page with the broker down does not say the cluster is unreachable")
	}
	p.Restart()
	samsatest.Eventually(t, 20*time.Second, "the console to see the broker again", func() bool {
		code, _ := call(t, srv, "GET", "/api/health", nil, nil)
		return code == 200
	})
	mustCall(t, srv, 200, "GET", "/topics", nil, nil)
}
