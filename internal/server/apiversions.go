package server

// ApiVersions (key 18), v0–v4. Served by the server itself from the table of
// registered APIs. v3 adds client software name/version (ignored); a request
// newer than v4 is answered with a v0 response carrying UNSUPPORTED_VERSION
// and the table, so the client retries at a version we serve (KIP-511).

import (
	"context"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	apiVersionsKey     = 18
	unsupportedVersion = 35 // UNSUPPORTED_VERSION
)

func (s *Server) handleApiVersions(_ context.Context, r *broker.Request, _ kmsg.Request) (kmsg.Response, broker.Finish) {
	return s.apiVersionsResponse(r.Version, 0), nil
}

func (s *Server) apiVersionsResponse(version int16, errCode int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = version
	resp.ErrorCode = errCode
	for _, a := range s.apis {
		if a == nil {
			continue
		}
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey = a.Key
		k.MinVersion = a.MinVersion
		k.MaxVersion = a.MaxVersion
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	return resp
}
