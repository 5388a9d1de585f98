package protocol

import (
	"reflect"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// answered counts a written response and, when the request log is at
// DEBUG, logs it. It runs on the connection's writer for every request, so
// it takes no locks and, with the request log off, allocates nothing.
func (c *conn) answered(s *slot) {
	took := time.Since(s.read)
	failed := s.resp.Close || topErrorCode(s.resp.Msg) != 0
	c.reqs.Observe(s.hdr.Key, took, failed)
	rl := c.srv.RequestLog
	if rl == nil {
		return
	}
	if ce := rl.Check(zap.DebugLevel, "request"); ce != nil {
		client := ""
		if s.hdr.ClientID != nil {
			client = *s.hdr.ClientID
		}
		ce.Write(zap.String("api", kmsg.NameForKey(s.hdr.Key)), zap.Int16("version", s.hdr.Version),
			zap.Int32("correlation_id", s.hdr.CorrelationID), zap.String("client_id", client),
			zap.String("listener", c.listener), zap.Stringer("remote", c.nc.RemoteAddr()),
			zap.String("principal", s.who.String()), zap.Duration("took", took), zap.Bool("failed", failed))
	}
}

// errorField caches, per response type, the index of its top-level
// ErrorCode field (-1 when it has none: Produce and most of Fetch carry
// their errors per partition, which the broker counts per topic).
var errorField sync.Map // reflect.Type -> int

// topErrorCode is the response's top-level error code, 0 without one.
func topErrorCode(m kmsg.Response) int16 {
	if m == nil {
		return 0
	}
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0
	}
	v = v.Elem()
	t := v.Type()
	idx, ok := errorField.Load(t)
	if !ok {
		i := -1
		if f, found := t.FieldByName("ErrorCode"); found && f.Type.Kind() == reflect.Int16 && len(f.Index) == 1 {
			i = f.Index[0]
		}
		errorField.Store(t, i)
		idx = i
	}
	if i := idx.(int); i >= 0 {
		return int16(v.Field(i).Int())
	}
	return 0
}
