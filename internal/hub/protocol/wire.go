package protocol

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
)

const (
	// CodeUnknownType refuses a verified message whose type is not in Types.
	CodeUnknownType envelope.Code = "unknown_type"
	// CodeWrongSender refuses a type the sender's trust-list role may not
	// send: a node signing a check result, or the hub signing a proposal.
	// Which node is transferring or acquiring is the hub's to check
	// against its record of the transaction.
	CodeWrongSender envelope.Code = "wrong_sender"
)

// Seal encodes payload as its table type at this protocol version and
// signs it. The header's Type and Version are set from the table.
func Seal(s envelope.Signer, h envelope.Header, payload any) (string, error) {
	typ, err := TypeOf(payload)
	if err != nil {
		return "", err
	}
	spec, _ := Lookup(typ)
	if !spec.Sequenced && h.Sequence != 0 {
		return "", fmt.Errorf("protocol: sealing %s: type is not sequenced but sequence is %d", typ, h.Sequence)
	}
	if spec.Sequenced && h.Sequence == 0 {
		return "", fmt.Errorf("protocol: sealing %s: sequence missing", typ)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("protocol: encoding %s: %w", typ, err)
	}
	h.Type, h.Version = typ, Version
	return s.Seal(h, body)
}

// Open verifies compact with v and decodes its payload. A body that does
// not decode as its type is refused as malformed, an unknown type with
// CodeUnknownType; both are refusals of the acknowledgement.
func Open(ctx context.Context, v envelope.Verifier, compact string) (envelope.Message, any, envelope.Disposition, error) {
	if v.Unsequenced == nil {
		v.Unsequenced = Unsequenced
	}
	m, d, err := v.Open(ctx, compact)
	if err != nil {
		return envelope.Message{}, nil, 0, err
	}
	spec, ok := Lookup(m.Type)
	if !ok {
		return envelope.Message{}, nil, 0, &envelope.Refusal{Code: CodeUnknownType, Detail: fmt.Sprintf("type %q", m.Type)}
	}
	entry, _ := v.Trust().Entry(m.From)
	hubMay := slices.Contains(spec.Senders, RoleHub)
	nodeMay := slices.Contains(spec.Senders, RoleTransferring) || slices.Contains(spec.Senders, RoleAcquiring)
	if (entry.Role == envelope.RoleHub && !hubMay) || (entry.Role == envelope.RoleNode && !nodeMay) {
		return envelope.Message{}, nil, 0, &envelope.Refusal{Code: CodeWrongSender, Detail: fmt.Sprintf("%s (%s) may not send %s", m.From, entry.Role, m.Type)}
	}
	payload, err := Decode(m.Type, m.Body)
	if err != nil {
		return envelope.Message{}, nil, 0, &envelope.Refusal{Code: envelope.CodeMalformed, Detail: err.Error()}
	}
	return m, payload, d, nil
}
