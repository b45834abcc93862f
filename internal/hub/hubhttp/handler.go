package hubhttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/problem"
)

// Refusal codes of the HTTP layer itself (the envelope's codes are in
// package envelope and protocol).
const (
	CodeTooLarge         envelope.Code = "too_large"
	CodeUnsupportedMedia envelope.Code = "unsupported_media_type"
)

// ReceiveTimeout bounds the receiver's work on one message.
const ReceiveTimeout = 30 * time.Second

// MessageHandler is POST <endpoint>/hub/v1/messages: it feeds r and
// answers 202 when the message was taken or is a duplicate, a 4xx problem
// with the refusal code when r refused it, and 503 when r failed (the
// sender retries; nothing was recorded).
func MessageHandler(r hub.Receiver, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeProblem(w, Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Detail: "messages are POSTed"})
			return
		}
		mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
		if err != nil || mt != ContentType || len(params) > 0 {
			refuse(w, &envelope.Refusal{Code: CodeUnsupportedMedia, Detail: "the body must be " + ContentType})
			return
		}
		if req.ContentLength > MaxEnvelopeBytes {
			refuse(w, &envelope.Refusal{Code: CodeTooLarge, Detail: "the envelope is larger than 1 MiB"})
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxEnvelopeBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				refuse(w, &envelope.Refusal{Code: CodeTooLarge, Detail: "the envelope is larger than 1 MiB"})
				return
			}
			writeProblem(w, Problem{Status: http.StatusBadRequest, Code: "unreadable", Detail: "the body could not be read"})
			return
		}
		// The receiver's commit must not be cut short by the sender hanging
		// up (a sender killed mid-request): an insert cancelled half-way
		// leaves the receiver unsure whether it committed. Bounded instead.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), ReceiveTimeout)
		defer cancel()
		if err := r.Receive(ctx, strings.TrimSpace(string(raw))); err != nil {
			var rf *envelope.Refusal
			if errors.As(err, &rf) {
				log.Warn("hubhttp: message refused", "code", rf.Code, "detail", rf.Detail, "remote", req.RemoteAddr)
				refuse(w, rf)
				return
			}
			// Not a refusal: the receiver could not act now (a database or a
			// downstream call failed). Its text stays in the log; the sender
			// retries the same envelope.
			log.Error("hubhttp: receiving message", "err", err, "remote", req.RemoteAddr)
			writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the receiver could not take the message now; retry"})
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// refusalStatus maps a refusal code to its HTTP status. The code, not the
// status, is the contract: the client maps any 4xx problem back to its
// code.
func refusalStatus(c envelope.Code) int {
	switch c {
	case envelope.CodeForged, protocol.CodeWrongSender:
		return http.StatusForbidden
	case envelope.CodeMisaddressed:
		return http.StatusMisdirectedRequest
	case envelope.CodeReplayConflict, envelope.CodeOutOfSequence:
		return http.StatusConflict
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case envelope.CodeMalformed, envelope.CodeUnsupportedVersion, envelope.CodeStale, envelope.CodeFuture, protocol.CodeUnknownType:
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

func refuse(w http.ResponseWriter, r *envelope.Refusal) {
	writeProblem(w, Problem{Status: refusalStatus(r.Code), Code: string(r.Code), Title: "Message refused", Detail: r.Detail})
}

func writeProblem(w http.ResponseWriter, p Problem) { problem.Write(w, p) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}
