//go:build linux || darwin

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge/storetest"
)

// readmeExamples returns the command lines of the shell examples (```sh blocks) of the README's section
// heading: one per line, without blank and comment-only lines, in the README's order.
func readmeExamples(t *testing.T, readme, heading string) []string {
	t.Helper()
	var (
		lines            []string
		inSection, inSh  bool
		inFence, sawHead bool
	)
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case !inFence && strings.HasPrefix(l, "## "):
			inSection = l == heading
			sawHead = sawHead || inSection
		case inSection && strings.HasPrefix(l, "```"):
			inFence = !inFence
			inSh = inFence && strings.TrimPrefix(l, "```") == "sh"
		case inSection && inSh:
			if c := strings.TrimSpace(l); c != "" && !strings.HasPrefix(c, "#") {
				lines = append(lines, c)
			}
		}
	}
	require.True(t, sawHead, "the README has no %q section", heading)
	return lines
}

// process is a command running in the background (a serve), in its own process group.
type process struct {
	goRun bool // started by go run
	cmd   *exec.Cmd
	out   *syncBuffer
	done  chan error
}

// stop interrupts the process group (go run passes the signal on to the program it runs) and waits for the
// process to end.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return errors.New("did not stop within 60 s of SIGINT")
	}
}

var (
	listeningRE  = regexp.MustCompile(`msg=listening addr=(\S+)`)
	serveRE      = regexp.MustCompile(`(^|\s)(\./trolyao|go run \./cmd/trolyao) serve(\s|$)`)
	idRE         = regexp.MustCompile(`(^|\s)ID(\s|$)`)
	convIDRE     = regexp.MustCompile(`"conversation_id":"([^"]+)"`)
	defaultAddr  = "127.0.0.1:8080"
	sampleQuery  = "làm lại căn cước cần gì\n" // standard input of every command (the terminal chat reads it)
	readmeBudget = 20 * time.Minute
)

// TestReadmeRunIt executes every shell example of the README's "Run it" section, in order, against the real
// binary: `go run ./cmd/trolyao serve` starts on an empty embedded store and ingests the catalog (showing
// progress), every curl example must get a 2xx answer from it, then the other subcommands run once serve is
// stopped, each of which must exit 0. The examples run in a fresh directory laid out like a checkout (the
// shared data folder beside it); the go commands run in this checkout and build into that directory. What
// the test changes in the examples: the listen address (a free port instead of 8080, and the curl URLs with
// it), the store directory (the fresh one), and the placeholders ID (the conversation the streaming
// example started) and path/to/list.xlsx (a portal list of the data folder).
func TestReadmeRunIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), readmeBudget)
	defer cancel()
	data, err := filepath.Abs(storetest.DataDir(t))
	require.NoError(t, err)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	examples := readmeExamples(t, string(readme), "## Run it")
	require.NotEmpty(t, examples)
	_, err = exec.LookPath("curl")
	require.NoError(t, err, "the README's examples need curl")

	tmp := t.TempDir()
	work := filepath.Join(tmp, "checkout")
	require.NoError(t, os.MkdirAll(work, 0o755))
	require.NoError(t, os.Symlink(filepath.Dir(data), filepath.Join(tmp, "shared")))
	xlsx, err := filepath.Glob(filepath.Join(data, "procedures", "portal-lists", "*.xlsx"))
	require.NoError(t, err)
	require.NotEmpty(t, xlsx, "no portal list in the data folder")

	environ := []string{"TROLYAO_DATA=" + data, "TROLYAO_DIR=" + filepath.Join(work, ".trolyao"), "TROLYAO_ADDR=127.0.0.1:0"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TROLYAO_") {
			environ = append(environ, kv)
		}
	}
	// curl fails on an HTTP error status (and says which), so that a 400 fails the example.
	const prelude = "set -o pipefail; curl() { command curl --silent --show-error --fail-with-body --max-time 90 \"$@\"; }\n"
	command := func(line string) *exec.Cmd {
		c := exec.CommandContext(ctx, "bash", "-c", prelude+line)
		c.Dir = work
		if strings.HasPrefix(line, "go ") {
			c.Dir = root
		}
		c.Env = environ
		c.Stdin = strings.NewReader(sampleQuery)
		return c
	}

	var (
		server   *process
		addr     string
		convID   string
		started  int
		firstLog string
	)
	stopServer := func() {
		if server == nil {
			return
		}
		err := server.stop(t)
		log := server.out.String()
		if server.goRun {
			// go run exits 1 after an interrupt whatever the program did: read the program's own account.
			err = nil
		}
		assert.NoError(t, err, "serve did not shut down cleanly:\n%s", tail(log, 40))
		assert.Contains(t, log, "msg=\"shutting down\"", "serve did not shut down gracefully")
		assert.NotContains(t, log, "\ntrolyao: ", "serve ended with an error:\n%s", tail(log, 40))
		if started == 1 {
			firstLog = server.out.String()
		}
		server = nil
	}
	t.Cleanup(func() {
		if server != nil {
			_ = syscall.Kill(-server.cmd.Process.Pid, syscall.SIGKILL)
			<-server.done
		}
	})

	for _, line := range examples {
		line = strings.ReplaceAll(line, "-o trolyao ", "-o "+filepath.Join(work, "trolyao")+" ")
		line = strings.ReplaceAll(line, "path/to/list.xlsx", xlsx[0])
		if idRE.MatchString(line) {
			require.NotEmpty(t, convID, "%s: no conversation id from an earlier example", line)
			line = idRE.ReplaceAllString(line, "${1}"+convID+"${2}")
		}
		isCurl := strings.HasPrefix(line, "curl ")
		if !isCurl {
			stopServer() // the embedded store serves one process at a time
		}
		switch {
		case serveRE.MatchString(line):
			c := command(line)
			c.Stdin = nil
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			out := &syncBuffer{}
			c.Stdout, c.Stderr = out, out
			begin := time.Now()
			require.NoError(t, c.Start(), line)
			server = &process{goRun: strings.HasPrefix(line, "go run "), cmd: c, out: out, done: make(chan error, 1)}
			go func(p *process) { p.done <- p.cmd.Wait() }(server)
			started++
			addr = waitListening(t, ctx, server, line)
			t.Logf("%s: ready at %s after %s", line, addr, time.Since(begin).Round(time.Millisecond))
		case isCurl:
			require.NotNil(t, server, "%s: no serve example runs before it", line)
			line = strings.ReplaceAll(line, defaultAddr, addr)
			out, err := command(line).CombinedOutput()
			require.NoError(t, err, "%s:\n%s\nserve's log:\n%s", line, out, tail(server.out.String(), 20))
			require.NotEmpty(t, strings.TrimSpace(string(out)), line)
			t.Logf("%s: %s", line, tail(string(out), 3))
			if strings.Contains(line, "text/event-stream") {
				assert.Contains(t, string(out), "event: answer", line)
				if m := convIDRE.FindStringSubmatch(string(out)); m != nil {
					convID = m[1]
				}
			}
		default:
			begin := time.Now()
			c := command(line)
			out, err := c.CombinedOutput()
			require.NoError(t, err, "%s:\n%s", line, tail(string(out), 40))
			t.Logf("%s: %s", line, time.Since(begin).Round(time.Millisecond))
		}
	}
	stopServer()

	require.GreaterOrEqual(t, started, 1, "the section starts no serve")
	// The first start shows every step: reading the files, embedding, writing, then the rest of the start.
	for _, want := range []string{"empty store: ingesting the catalog", "read: ", "catalog files read", "embed: ",
		"catalog ingested", "loading the unit data", "msg=ready",
		// and the access log of the curl examples, by route
		"msg=http method=GET route=/api/v1/search status=200 ", "msg=http method=POST route=/api/v1/chat status=200 "} {
		assert.Contains(t, firstLog, want, "the first start's log")
	}
	assert.NotContains(t, firstLog, "cccd", "the access log carries a query string")
}

// waitListening waits until the serve p says where it listens, then until it answers /readyz with 200, and
// returns its address.
func waitListening(t *testing.T, ctx context.Context, p *process, line string) string {
	t.Helper()
	for ctx.Err() == nil {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited: %v\n%s", line, err, tail(p.out.String(), 40))
		case <-time.After(100 * time.Millisecond):
		}
		if m := listeningRE.FindStringSubmatch(p.out.String()); m != nil {
			waitReady(t, "http://"+m[1], 5*time.Minute)
			return m[1]
		}
	}
	t.Fatalf("%s: %v", line, ctx.Err())
	return ""
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (%d lines)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
