package protocol

import (
	"regexp"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// ServeFunc serves one decoded request.
type ServeFunc func(req *Request, respond func(Response))

type route struct {
	min, max int16
	serve    ServeFunc
	raw      bool // a private key: the body is not decoded
}

// Mux routes requests by API key to one handler per API, and answers
// ApiVersions from what is registered, so the advertised table can never
// claim an API nobody serves.
type Mux struct {
	routes map[int16]route
	log    *zap.Logger
	// Features fills the feature fields of ApiVersions v3+ responses.
	Features func(resp *kmsg.ApiVersionsResponse)
	// ClusterID and NodeID are this node's, checked against what an
	// ApiVersions v5 request names (KIP-1242); an empty ClusterID skips
	// the check.
	ClusterID string
	NodeID    int32
}

// NewMux returns a mux that already serves ApiVersions v0-v5.
func NewMux(log *zap.Logger) *Mux {
	m := &Mux{routes: map[int16]route{}, log: log}
	m.Handle(ApiVersionsKey, 0, 5, m.apiVersions)
	return m
}

// Handle registers serve for key, versions min to max.
func (m *Mux) Handle(key, min, max int16, serve ServeFunc) {
	m.routes[key] = route{min: min, max: max, serve: serve}
}

// HandleRaw registers a private key (version 0) whose body reaches serve
// undecoded.
func (m *Mux) HandleRaw(key int16, serve ServeFunc) {
	m.routes[key] = route{min: 0, max: 0, serve: serve, raw: true}
}

// Serve implements Handler. Like Kafka, it closes the connection on an
// unknown key, an unsupported version or an unparseable body, except that
// an unsupported ApiVersions version gets a v0 answer with
// UNSUPPORTED_VERSION and the table (KIP-511).
func (m *Mux) Serve(req *Request, respond func(Response)) {
	rt, ok := m.routes[req.Key]
	if !ok {
		req.badInput(m.log, "unknown api key; closing connection", zap.Int16("api_key", req.Key), zap.Stringer("remote", req.Remote))
		respond(CloseConn)
		return
	}
	if req.Version < rt.min || req.Version > rt.max {
		if req.Key == ApiVersionsKey {
			resp := kmsg.NewPtrApiVersionsResponse()
			resp.ErrorCode = kerr.UnsupportedVersion.Code
			resp.ApiKeys = m.Versions()
			respond(Response{Msg: resp}) // the header is v0 and resp is v0
			return
		}
		req.badInput(m.log, "unsupported api version; closing connection", zap.String("api", kmsg.NameForKey(req.Key)),
			zap.Int16("version", req.Version), zap.Int16("min", rt.min), zap.Int16("max", rt.max), zap.Stringer("remote", req.Remote))
		respond(CloseConn)
		return
	}
	if !rt.raw {
		if err := req.Decode(); err != nil {
			req.badInput(m.log, "unparseable request; closing connection", zap.String("api", kmsg.NameForKey(req.Key)),
				zap.Int16("version", req.Version), zap.Error(err), zap.Stringer("remote", req.Remote))
			respond(CloseConn)
			return
		}
	}
	rt.serve(req, respond)
}

// Versions is the ApiVersions table of every registered API. Private keys
// are listed too: a tool must know a broker is Spool before sending one,
// because other Kafka implementations may hang or fail on a key they do
// not know instead of closing the connection, and clients skip keys they
// do not know.
func (m *Mux) Versions() []kmsg.ApiVersionsResponseApiKey {
	var out []kmsg.ApiVersionsResponseApiKey
	for key, rt := range m.routes {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = key, rt.min, rt.max
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ApiKey < out[j].ApiKey })
	return out
}

// clientSoftwareRE is Kafka's rule for ApiVersions v3+ client software
// name and version.
var clientSoftwareRE = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func (m *Mux) apiVersions(req *Request, respond func(Response)) {
	r := req.Msg.(*kmsg.ApiVersionsRequest)
	resp := r.ResponseKind().(*kmsg.ApiVersionsResponse)
	if code := m.checkTarget(r); code != 0 {
		// As Kafka answers: the error alone, without the table.
		resp.ErrorCode = code
		respond(Msg(resp))
		return
	}
	resp.ApiKeys = m.Versions()
	if r.Version >= 3 && (!clientSoftwareRE.MatchString(r.ClientSoftwareName) || !clientSoftwareRE.MatchString(r.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
	} else if r.Version >= 3 && m.Features != nil {
		m.Features(resp)
	}
	respond(Msg(resp))
}

// checkTarget is KIP-1242's check of ApiVersions v5: a client that names
// the cluster and node it meant to reach learns, with
// REBOOTSTRAP_REQUIRED, that its address now leads somewhere else (a
// broker replaced behind the same name). Naming only one of the two is
// INVALID_REQUEST, as in Kafka.
func (m *Mux) checkTarget(r *kmsg.ApiVersionsRequest) int16 {
	if r.Version < 5 || (r.ClusterID == nil && r.NodeID < 0) {
		return 0
	}
	if r.ClusterID == nil || r.NodeID < 0 {
		return kerr.InvalidRequest.Code
	}
	if m.ClusterID != "" && (*r.ClusterID != m.ClusterID || r.NodeID != m.NodeID) {
		return kerr.RebootstrapRequired.Code
	}
	return 0
}
