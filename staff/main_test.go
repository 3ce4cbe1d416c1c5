package staff_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/ingest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	kpg "github.com/trolyao/trolyao/knowledge/postgres"
	"github.com/trolyao/trolyao/knowledge/postgres/pgtest"
	"github.com/trolyao/trolyao/knowledge/storetest"
	"github.com/trolyao/trolyao/staff"
	staffpg "github.com/trolyao/trolyao/staff/postgres"
)

// secondEnv names the PostgreSQL schema a second serve process works on; when set, the test binary is that
// process (see secondProcess) instead of running tests.
const secondEnv = "TROLYAO_STAFF_SECOND_SCHEMA"

func TestMain(m *testing.M) {
	if schema := os.Getenv(secondEnv); schema != "" {
		if err := secondProcess(schema, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	staff.CheapHashes() // tests of hashing and of logins whose timing depends on it call staff.RealHashes
	code := m.Run()
	removeTemplate()
	os.Exit(code)
}

// answer is what the second process says about a question.
type answer struct {
	Top   string `json:"top"`   // the searcher's first hit
	Cited string `json:"cited"` // the assistant's first citation
	Text  string `json:"text"`
}

// secondProcess is a minimal serve process on the same database: the PostgreSQL store, the staff service
// keeping runtime synonyms and centre corrections current (Run), and the assistant with the units and centres
// data. It answers one question per input line.
func secondProcess(schema string, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := kpg.Open(ctx, kpg.Config{URL: os.Getenv("TROLYAO_TEST_DATABASE"), Schema: schema})
	if err != nil {
		return err
	}
	defer st.Close()
	data := os.Getenv("TROLYAO_DATA")
	seed, err := ingest.LoadCentres(data)
	if err != nil {
		return err
	}
	u, err := ingest.LoadUnits(data)
	if err != nil {
		return err
	}
	centres := knowledge.NewLiveCentres(seed)
	a := newAssistant(st, memconv.New())
	a.Units, a.Centres = u, centres
	svc, err := staff.New(staff.Options{Repo: staffpg.New(st.Pool()), Store: st, Embedder: knowledge.HashEmbedder{},
		Centres: centres, Searcher: a.Searcher, Lexicon: a.Searcher.Lexicon})
	if err != nil {
		return err
	}
	go svc.Run(ctx)
	enc := json.NewEncoder(out)
	if err := enc.Encode(answer{Text: "ready"}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for n := 0; sc.Scan(); n++ {
		q := sc.Text()
		var ans answer
		r, err := a.Searcher.Search(ctx, q, 5)
		if err != nil {
			return err
		}
		if len(r.Hits) > 0 {
			ans.Top = r.Hits[0].Code
		}
		rep, err := a.Reply(ctx, fmt.Sprintf("c%d", n), q, nil)
		if err != nil {
			return err
		}
		ans.Text = rep.Text
		if len(rep.Citations) > 0 {
			ans.Cited = rep.Citations[0].Code
		}
		if err := enc.Encode(ans); err != nil {
			return err
		}
	}
	return sc.Err()
}

// second is a running second process.
type second struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.Writer
	out *json.Decoder
}

// secondWait bounds the wait for a line of the second process: one that failed or hung fails the test
// instead of leaving it waiting forever.
const secondWait = 2 * time.Minute

// next reads the second process's next answer, within secondWait; the process is killed when none comes.
func (s *second) next() answer {
	s.t.Helper()
	type result struct {
		a   answer
		err error
	}
	got := make(chan result, 1)
	go func() {
		var a answer
		err := s.out.Decode(&a)
		got <- result{a, err}
	}()
	select {
	case r := <-got:
		require.NoError(s.t, r.err, "reading the second process's answer (did it fail? its errors are on stderr)")
		return r.a
	case <-time.After(secondWait):
		_ = s.cmd.Process.Kill()
		s.t.Fatalf("the second process said nothing within %v", secondWait)
		return answer{}
	}
}

func startSecond(t *testing.T, schema string) *second {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), secondEnv+"="+schema, "TROLYAO_DATA="+storetest.DataDir(t))
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	s := &second{t: t, cmd: cmd, in: in, out: json.NewDecoder(out)}
	require.Equal(t, "ready", s.next().Text)
	return s
}

func (s *second) ask(q string) answer {
	s.t.Helper()
	_, err := io.WriteString(s.in, strings.ReplaceAll(q, "\n", " ")+"\n")
	require.NoError(s.t, err)
	return s.next()
}

// pgStore opens a PostgreSQL store on schema (a new one when "").
func pgStore(t *testing.T, schema string) *kpg.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := kpg.Open(ctx, kpg.Config{URL: pgtest.URL(t), Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}
