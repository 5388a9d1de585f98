package protocol

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// ServeSaslHandshake answers SaslHandshake v0-1 from the connection's SASL
// session. Both the broker and the controller listeners register it. On a
// listener without SASL the request is out of place: ILLEGAL_SASL_STATE,
// as Kafka answers, and the connection stays open as in Kafka.
func ServeSaslHandshake(req *Request, respond func(Response)) {
	r := req.Msg.(*kmsg.SASLHandshakeRequest)
	resp := r.ResponseKind().(*kmsg.SASLHandshakeResponse)
	if req.Auth == nil || req.Auth.SASL == nil {
		resp.ErrorCode = illegalSaslState
		respond(Msg(resp))
		return
	}
	res := req.Auth.SASL.Handshake(r.Version, r.Mechanism, time.Now())
	resp.ErrorCode, resp.SupportedMechanisms = res.Code, res.Mechanisms
	respond(Response{Msg: resp, Close: res.Close})
}

const illegalSaslState = 34

// ServeSaslAuthenticate answers SaslAuthenticate v0-2 (KIP-152): a failure
// carries SASL_AUTHENTICATION_FAILED and Kafka's message, then the
// connection closes; success records the principal for later requests and
// reports the session lifetime (KIP-368).
func ServeSaslAuthenticate(req *Request, respond func(Response)) {
	r := req.Msg.(*kmsg.SASLAuthenticateRequest)
	resp := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	if req.Auth == nil || req.Auth.SASL == nil {
		resp.ErrorCode = illegalSaslState
		// Kafka's words: to its request handlers the connection has
		// authenticated already (with nothing).
		msg := "SaslAuthenticate request received after successful authentication"
		resp.ErrorMessage = &msg
		respond(Msg(resp))
		return
	}
	res := req.Auth.SASL.Authenticate(r.SASLAuthBytes, time.Now())
	resp.ErrorCode, resp.SASLAuthBytes = res.Code, res.Token
	if res.Message != "" {
		resp.ErrorMessage = &res.Message
	}
	if res.Done {
		resp.SessionLifetimeMillis = res.Lifetime.Milliseconds()
		req.Authenticated(res.Principal, res.TokenAuthenticated)
	}
	if res.Code != 0 {
		if c := req.conn; c != nil {
			c.srv.Stats.AuthFailed.Add(1)
			c.log.Info("SASL authentication failed; closing connection", zap.String("mechanism", req.Auth.SASL.Mechanism()),
				zap.Int16("error_code", res.Code), zap.Error(res.Err))
		}
	}
	respond(Response{Msg: resp, Close: res.Close})
}
