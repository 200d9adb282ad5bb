package send_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/roundfeed/roundfeed/parser"
	"github.com/roundfeed/roundfeed/source/webhook/send"
)

func ExampleSender_Notify() {
	// Discord, played by a test server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	s, err := send.New(send.DefaultConfig(srv.URL+"/api/webhooks/123/token"), nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	name, _ := parser.ValidateName("2026-01-15-222119-te_escape2-round-1.txt")
	err = s.Notify(context.Background(), send.Notification{Name: name, Size: 4096})
	fmt.Println(err, send.FileMessage(send.Notification{Name: name}, "x").Content)
	// Output: <nil> 📊 `2026-01-15-222119-te_escape2-round-1.txt`
}
