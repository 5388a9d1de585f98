package metadata

// Broker is a registered broker as the image sees it.
type Broker struct {
	ID                   int32
	Epoch                int64
	IncarnationID        [16]byte
	Endpoints            []Endpoint
	Rack                 *string
	Fenced               bool
	InControlledShutdown bool
	// Features are the levels the broker supports, which bound the levels
	// the controller may finalize.
	Features map[string]FeatureRange
	LogDirs  [][16]byte
}

// Endpoint is one listener of a broker.
type Endpoint struct {
	Name             string
	Host             string
	Port             uint16
	SecurityProtocol int16
}

// FeatureRange is a closed range of feature levels.
type FeatureRange struct {
	Min, Max int16
}

// Endpoint returns the broker's listener called name.
func (b *Broker) Endpoint(name string) (Endpoint, bool) {
	for _, e := range b.Endpoints {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}

func brokerFromRecord(r *RegisterBrokerRecord) *Broker {
	b := &Broker{
		ID:                   r.BrokerID,
		Epoch:                r.BrokerEpoch,
		IncarnationID:        r.IncarnationID,
		Rack:                 r.Rack,
		Fenced:               r.Fenced,
		InControlledShutdown: r.InControlledShutdown,
		LogDirs:              r.LogDirs,
	}
	for _, e := range r.EndPoints {
		b.Endpoints = append(b.Endpoints, Endpoint{e.Name, e.Host, e.Port, e.SecurityProtocol})
	}
	if len(r.Features) > 0 {
		b.Features = make(map[string]FeatureRange, len(r.Features))
		for _, f := range r.Features {
			b.Features[f.Name] = FeatureRange{f.MinSupportedVersion, f.MaxSupportedVersion}
		}
	}
	return b
}

func (b *Broker) record() *RegisterBrokerRecord {
	r := &RegisterBrokerRecord{
		BrokerID:             b.ID,
		IncarnationID:        b.IncarnationID,
		BrokerEpoch:          b.Epoch,
		Rack:                 b.Rack,
		Fenced:               b.Fenced,
		InControlledShutdown: b.InControlledShutdown,
		LogDirs:              b.LogDirs,
	}
	for _, e := range b.Endpoints {
		r.EndPoints = append(r.EndPoints, BrokerEndpoint{Name: e.Name, Host: e.Host, Port: e.Port, SecurityProtocol: e.SecurityProtocol})
	}
	for _, name := range sortedKeys(b.Features) {
		f := b.Features[name]
		r.Features = append(r.Features, BrokerFeature{Name: name, MinSupportedVersion: f.Min, MaxSupportedVersion: f.Max})
	}
	return r
}
