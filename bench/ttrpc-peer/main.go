// SPDX-License-Identifier: Apache-2.0

// ttrpc-peer: the bench's reference ttRPC server. It serves grpc.Health/Check (proto/health.proto)
// on containerd's ttrpc, the library the Kata shim talks to the agent with, and answers SERVING.
// Built offline in GOPATH mode against Debian's golang-github-containerd-ttrpc-dev (see
// bench/build-peer.sh). Usage: ttrpc-peer SOCKET_PATH
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/containerd/ttrpc"
)

// checkRequest is grpc.CheckRequest: field 1, string service.
type checkRequest struct {
	Service string
}

// healthCheckResponse is grpc.HealthCheckResponse: field 1, enum status (SERVING = 1).
type healthCheckResponse struct {
	Status uint64
}

// The codec (gogo/protobuf's proto.Marshal) uses these methods when a type has them, so two
// one-field messages need no generated code.
func (m *checkRequest) Reset()         { *m = checkRequest{} }
func (m *checkRequest) String() string { return fmt.Sprintf("service:%q", m.Service) }
func (*checkRequest) ProtoMessage()    {}

func (m *healthCheckResponse) Reset()         { *m = healthCheckResponse{} }
func (m *healthCheckResponse) String() string { return fmt.Sprintf("status:%d", m.Status) }
func (*healthCheckResponse) ProtoMessage()    {}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func readVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("bad varint")
}

func (m *checkRequest) Marshal() ([]byte, error) {
	if m.Service == "" {
		return []byte{}, nil
	}
	b := appendVarint([]byte{0x0a}, uint64(len(m.Service)))
	return append(b, m.Service...), nil
}

// Unmarshal reads field 1 and skips any other field, as protobuf requires.
func (m *checkRequest) Unmarshal(b []byte) error {
	m.Reset()
	for len(b) > 0 {
		key, n, err := readVarint(b)
		if err != nil {
			return err
		}
		b = b[n:]
		switch key & 7 {
		case 0:
			_, n, err = readVarint(b)
			if err != nil {
				return err
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errors.New("short fixed64")
			}
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return errors.New("short fixed32")
			}
			b = b[4:]
		case 2:
			l, n, err := readVarint(b)
			if err != nil || uint64(len(b)-n) < l {
				return errors.New("bad length")
			}
			if key>>3 == 1 {
				m.Service = string(b[n : n+int(l)])
			}
			b = b[n+int(l):]
		default:
			return errors.New("bad wire type")
		}
	}
	return nil
}

func (m *healthCheckResponse) Marshal() ([]byte, error) {
	if m.Status == 0 {
		return []byte{}, nil
	}
	return appendVarint([]byte{0x08}, m.Status), nil
}

func (m *healthCheckResponse) Unmarshal(b []byte) error {
	m.Reset()
	if len(b) >= 2 && b[0] == 0x08 {
		v, _, err := readVarint(b[1:])
		m.Status = v
		return err
	}
	return nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-peer SOCKET_PATH")
		os.Exit(2)
	}
	path := os.Args[1]
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s, err := ttrpc.NewServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s.Register("grpc.Health", map[string]ttrpc.Method{
		"Check": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req checkRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &healthCheckResponse{Status: 1}, nil
		},
	})
	if err := s.Serve(context.Background(), l); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
