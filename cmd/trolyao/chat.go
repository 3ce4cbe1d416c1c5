package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/knowledge"
)

// chat is an interactive terminal chat for staff to try the assistant: one conversation, a line per message.
func (a *app) chat(ctx context.Context) (err error) {
	st, err := a.openCatalog(ctx)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	convs, err := conversationsOf(st)
	if err != nil {
		return err
	}
	as, err := a.assistant(st, convs)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "Trợ lý ảo thủ tục hành chính — gõ câu hỏi, Enter để gửi; /moi để bắt đầu hội thoại mới, /thoat để thoát.")
	sc := bufio.NewScanner(a.stdin)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	conv, n := fmt.Sprintf("cli-%d", time.Now().UnixNano()), 1
	for {
		fmt.Fprint(a.stdout, "\n> ")
		if !sc.Scan() {
			fmt.Fprintln(a.stdout)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "":
			continue
		case "/thoat", "/quit", "/exit":
			return nil
		case "/moi", "/new":
			n++
			conv = fmt.Sprintf("cli-%d-%d", time.Now().UnixNano(), n)
			fmt.Fprintln(a.stdout, "(hội thoại mới)")
			continue
		}
		ans, err := as.Reply(assistant.WithChannel(ctx, "cli"), conv, line, nil)
		switch {
		case errors.Is(err, knowledge.ErrQueryTooLong):
			fmt.Fprintf(a.stdout, "Câu hỏi quá dài (tối đa %d ký tự).\n", knowledge.MaxQueryRunes)
			continue
		case errors.Is(err, assistant.ErrEmpty):
			continue
		case err != nil:
			return err
		}
		fmt.Fprintln(a.stdout, assistant.PlainText(ans.Text))
		for i, o := range ans.Options {
			fmt.Fprintf(a.stdout, "  [%d] %s (mã %s)\n", i+1, o.Name, o.Code)
		}
		if n == 1 && ans.MessageID == 2 {
			fmt.Fprintf(a.stdout, "(mã hội thoại: %s)\n", conv)
		}
		if len(ans.Suggestions) > 0 {
			fmt.Fprintf(a.stdout, "[gợi ý: %s]\n", strings.Join(ans.Suggestions, " | "))
		}
	}
}
