// Package jobmsg is the format of the jobs queue's messages: a job's fan-outs, which the API
// sends, and the chunks a fan-out expands into, which the worker sends. It imports no AWS client,
// so the job worker and the request metrics can read messages without linking SQS; the queue
// itself is shared/jobqueue.
package jobmsg

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tilgang/tilgang/shared/access"
)

// kindFanOut marks a fan-out message; a message without a kind is a chunk.
const kindFanOut = "fanout"

type fanOutBody struct {
	Kind string `json:"kind"`
	access.JobFanOut
}

// Message is one message of the jobs queue: exactly one of FanOut and Chunk is set.
type Message struct {
	FanOut *access.JobFanOut
	Chunk  *access.JobChunk
}

// ErrPoison marks a message that no retry can make readable: not JSON, of a kind this code does
// not know, or without what every message of its kind has. The worker parks such a message
// instead of failing it again and again.
var ErrPoison = errors.New("poison job message")

// FanOut renders a fan-out message's body.
func FanOut(f access.JobFanOut) (string, error) {
	b, err := json.Marshal(fanOutBody{Kind: kindFanOut, JobFanOut: f})
	if err != nil {
		return "", fmt.Errorf("marshal fan-out %d: %w", f.From, err)
	}
	return string(b), nil
}

// Chunk renders a chunk message's body.
func Chunk(ch access.JobChunk) (string, error) {
	b, err := json.Marshal(ch)
	if err != nil {
		return "", fmt.Errorf("marshal chunk %d: %w", ch.Index, err)
	}
	return string(b), nil
}

// Decode reads a message body; every error it returns wraps ErrPoison and says what is wrong
// without quoting the body.
func Decode(body string) (Message, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if !json.Valid([]byte(body)) {
		return Message{}, fmt.Errorf("%w: not JSON", ErrPoison)
	}
	if err := json.Unmarshal([]byte(body), &head); err != nil {
		return Message{}, fmt.Errorf("%w: not a JSON object", ErrPoison)
	}
	switch head.Kind {
	case kindFanOut:
		var f fanOutBody
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			return Message{}, fmt.Errorf("%w: fan-out fields of the wrong type", ErrPoison)
		}
		if !access.PlausibleID(f.TenantID) || !access.PlausibleID(f.JobID) || f.From < 0 || f.To <= f.From {
			return Message{}, fmt.Errorf("%w: fan-out without tenant, job or range", ErrPoison)
		}
		return Message{FanOut: &f.JobFanOut}, nil
	case "":
		var ch access.JobChunk
		if err := json.Unmarshal([]byte(body), &ch); err != nil {
			return Message{}, fmt.Errorf("%w: chunk fields of the wrong type", ErrPoison)
		}
		if !access.PlausibleID(ch.TenantID) || !access.PlausibleID(ch.JobID) || !access.PlausibleID(ch.RequesterID) ||
			!access.PlausibleID(ch.ConsultantID) || !ch.Action.Valid() || len(ch.ClientIDs) == 0 {
			return Message{}, fmt.Errorf("%w: chunk without tenant, job, requester, consultant, action or clients", ErrPoison)
		}
		return Message{Chunk: &ch}, nil
	}
	return Message{}, fmt.Errorf("%w: unknown kind", ErrPoison)
}

// Parked is a poison message on its way to the archive queue.
type Parked struct {
	MessageID string // the id it had on the queue it came from
	Queue     string // "jobs" or "dead-letter"
	Reason    string // what is wrong with it, never its content
	Body      string
}
