package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriteFillsTypeAndTitle(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, Problem{Status: http.StatusConflict, Code: "replay_conflict", Detail: "d", Field: "f"})
	if rec.Code != http.StatusConflict || rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
	}
	var got Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := Problem{Type: "https://corridor.invalid/problems/replay_conflict", Title: "Conflict", Status: 409, Code: "replay_conflict", Detail: "d", Field: "f"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	rec, got = httptest.NewRecorder(), Problem{}
	Write(rec, Problem{Type: "about:blank", Title: "Message refused", Status: http.StatusBadRequest, Code: "malformed"})
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Type != "about:blank" || got.Title != "Message refused" || got.Field != "" {
		t.Fatalf("given type and title: %+v (%v)", got, err)
	}
}
