package metadata

import "github.com/twmb/franz-go/pkg/kbin"

// RegisterBrokerRecord (type 0, versions 0-3) registers a broker or replaces
// its registration with a new epoch.
type RegisterBrokerRecord struct {
	versionPin
	BrokerID             int32
	IsMigratingZkBroker  bool // v2+; always false once ZooKeeper is gone
	IncarnationID        [16]byte
	BrokerEpoch          int64
	EndPoints            []BrokerEndpoint
	Features             []BrokerFeature
	Rack                 *string
	Fenced               bool
	InControlledShutdown bool       // v1+
	LogDirs              [][16]byte // v3+, tag 0
	UnknownTags          []Tag
}

// BrokerEndpoint is one listener of a registered broker.
type BrokerEndpoint struct {
	Name             string
	Host             string
	Port             uint16
	SecurityProtocol int16
	UnknownTags      []Tag
}

// BrokerFeature is the range of levels of one feature a broker supports.
type BrokerFeature struct {
	Name                string
	MinSupportedVersion int16
	MaxSupportedVersion int16
	UnknownTags         []Tag
}

func (*RegisterBrokerRecord) Type() int16 { return TypeRegisterBroker }

// Version is 3, the version Kafka 4.0 writes, unless pinned.
func (r *RegisterBrokerRecord) Version() int16 { return r.pick(3) }

func (r *RegisterBrokerRecord) AppendTo(dst []byte) []byte {
	v := r.Version()
	dst = kbin.AppendInt32(dst, r.BrokerID)
	if v >= 2 {
		dst = kbin.AppendBool(dst, r.IsMigratingZkBroker)
	}
	dst = kbin.AppendUuid(dst, r.IncarnationID)
	dst = kbin.AppendInt64(dst, r.BrokerEpoch)
	dst = kbin.AppendCompactArrayLen(dst, len(r.EndPoints))
	for _, e := range r.EndPoints {
		dst = appendStr(dst, e.Name)
		dst = appendStr(dst, e.Host)
		dst = kbin.AppendUint16(dst, e.Port)
		dst = kbin.AppendInt16(dst, e.SecurityProtocol)
		dst = appendTags(dst, nil, e.UnknownTags)
	}
	dst = kbin.AppendCompactArrayLen(dst, len(r.Features))
	for _, f := range r.Features {
		dst = appendStr(dst, f.Name)
		dst = kbin.AppendInt16(dst, f.MinSupportedVersion)
		dst = kbin.AppendInt16(dst, f.MaxSupportedVersion)
		dst = appendTags(dst, nil, f.UnknownTags)
	}
	dst = appendNullableStr(dst, r.Rack)
	dst = kbin.AppendBool(dst, r.Fenced)
	if v >= 1 {
		dst = kbin.AppendBool(dst, r.InControlledShutdown)
	}
	var known []Tag
	if v >= 3 && len(r.LogDirs) > 0 {
		known = append(known, Tag{0, appendUUIDs(nil, r.LogDirs)})
	}
	return appendTags(dst, known, r.UnknownTags)
}

func (r *RegisterBrokerRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 3); err != nil {
		return err
	}
	*r = RegisterBrokerRecord{}
	r.SetVersion(v)
	rd := newReader(b)
	r.BrokerID = rd.Int32()
	if v >= 2 {
		r.IsMigratingZkBroker = rd.Bool()
	}
	r.IncarnationID = rd.Uuid()
	r.BrokerEpoch = rd.Int64()
	r.EndPoints = readEndpoints(&rd)
	r.Features = readBrokerFeatures(&rd)
	r.Rack = rd.nullableStr()
	r.Fenced = rd.Bool()
	if v >= 1 {
		r.InControlledShutdown = rd.Bool()
	}
	r.UnknownTags = rd.tags(func(key uint32, f *reader) bool {
		if key == 0 && v >= 3 {
			r.LogDirs = f.uuids(false)
			return true
		}
		return false
	})
	return rd.finish()
}

func readEndpoints(rd *reader) []BrokerEndpoint {
	n := rd.arrayLen(false, 6)
	if n <= 0 {
		return nil
	}
	s := make([]BrokerEndpoint, n)
	for i := range s {
		e := &s[i]
		e.Name = rd.str()
		e.Host = rd.str()
		e.Port = rd.Uint16()
		e.SecurityProtocol = rd.Int16()
		e.UnknownTags = rd.tags(nil)
	}
	return s
}

func readBrokerFeatures(rd *reader) []BrokerFeature {
	n := rd.arrayLen(false, 6)
	if n <= 0 {
		return nil
	}
	s := make([]BrokerFeature, n)
	for i := range s {
		f := &s[i]
		f.Name = rd.str()
		f.MinSupportedVersion = rd.Int16()
		f.MaxSupportedVersion = rd.Int16()
		f.UnknownTags = rd.tags(nil)
	}
	return s
}

// UnregisterBrokerRecord (type 1, version 0) removes a broker's registration.
type UnregisterBrokerRecord struct {
	BrokerID    int32
	BrokerEpoch int64
	UnknownTags []Tag
}

func (*UnregisterBrokerRecord) Type() int16    { return TypeUnregisterBroker }
func (*UnregisterBrokerRecord) Version() int16 { return 0 }

func (r *UnregisterBrokerRecord) AppendTo(dst []byte) []byte {
	return appendIDEpoch(dst, r.BrokerID, r.BrokerEpoch, r.UnknownTags)
}

func (r *UnregisterBrokerRecord) ReadFrom(b []byte, v int16) error {
	return readIDEpoch(b, v, &r.BrokerID, &r.BrokerEpoch, &r.UnknownTags)
}

// FenceBrokerRecord (type 7, version 0) fences a broker. Kafka's controller
// writes BrokerRegistrationChangeRecord instead since 3.3; the type is still
// read so older logs replay.
type FenceBrokerRecord struct {
	ID          int32
	Epoch       int64
	UnknownTags []Tag
}

func (*FenceBrokerRecord) Type() int16    { return TypeFenceBroker }
func (*FenceBrokerRecord) Version() int16 { return 0 }

func (r *FenceBrokerRecord) AppendTo(dst []byte) []byte {
	return appendIDEpoch(dst, r.ID, r.Epoch, r.UnknownTags)
}

func (r *FenceBrokerRecord) ReadFrom(b []byte, v int16) error {
	return readIDEpoch(b, v, &r.ID, &r.Epoch, &r.UnknownTags)
}

// UnfenceBrokerRecord (type 8, version 0) unfences a broker; see
// FenceBrokerRecord.
type UnfenceBrokerRecord struct {
	ID          int32
	Epoch       int64
	UnknownTags []Tag
}

func (*UnfenceBrokerRecord) Type() int16    { return TypeUnfenceBroker }
func (*UnfenceBrokerRecord) Version() int16 { return 0 }

func (r *UnfenceBrokerRecord) AppendTo(dst []byte) []byte {
	return appendIDEpoch(dst, r.ID, r.Epoch, r.UnknownTags)
}

func (r *UnfenceBrokerRecord) ReadFrom(b []byte, v int16) error {
	return readIDEpoch(b, v, &r.ID, &r.Epoch, &r.UnknownTags)
}

// appendIDEpoch and readIDEpoch serve the three v0 records whose fields are
// exactly a broker id and epoch.
func appendIDEpoch(dst []byte, id int32, epoch int64, tags []Tag) []byte {
	dst = kbin.AppendInt32(dst, id)
	dst = kbin.AppendInt64(dst, epoch)
	return appendTags(dst, nil, tags)
}

func readIDEpoch(b []byte, v int16, id *int32, epoch *int64, tags *[]Tag) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	*id = rd.Int32()
	*epoch = rd.Int64()
	*tags = rd.tags(nil)
	return rd.finish()
}

// BrokerRegistrationChangeRecord (type 17, versions 0-2) changes a broker's
// fencing, controlled-shutdown state or log dirs without re-registering it.
type BrokerRegistrationChangeRecord struct {
	versionPin
	BrokerID    int32
	BrokerEpoch int64
	// Fenced is FenceChangeUnfence, FenceChangeNone or FenceChangeFence (tag 0).
	Fenced int8
	// InControlledShutdown is 0 for no change, 1 for "now shutting down"
	// (v1+, tag 1).
	InControlledShutdown int8
	LogDirs              [][16]byte // v2+, tag 2; empty means no change
	UnknownTags          []Tag
}

// Values of BrokerRegistrationChangeRecord.Fenced.
const (
	FenceChangeUnfence int8 = -1
	FenceChangeNone    int8 = 0
	FenceChangeFence   int8 = 1
)

func (*BrokerRegistrationChangeRecord) Type() int16 { return TypeBrokerRegistrationChange }

// Version is 2, the version Kafka 4.0 writes, unless pinned.
func (r *BrokerRegistrationChangeRecord) Version() int16 { return r.pick(2) }

func (r *BrokerRegistrationChangeRecord) AppendTo(dst []byte) []byte {
	v := r.Version()
	dst = kbin.AppendInt32(dst, r.BrokerID)
	dst = kbin.AppendInt64(dst, r.BrokerEpoch)
	var known []Tag
	if r.Fenced != 0 {
		known = append(known, Tag{0, kbin.AppendInt8(nil, r.Fenced)})
	}
	if v >= 1 && r.InControlledShutdown != 0 {
		known = append(known, Tag{1, kbin.AppendInt8(nil, r.InControlledShutdown)})
	}
	if v >= 2 && len(r.LogDirs) > 0 {
		known = append(known, Tag{2, appendUUIDs(nil, r.LogDirs)})
	}
	return appendTags(dst, known, r.UnknownTags)
}

func (r *BrokerRegistrationChangeRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 2); err != nil {
		return err
	}
	*r = BrokerRegistrationChangeRecord{}
	r.SetVersion(v)
	rd := newReader(b)
	r.BrokerID = rd.Int32()
	r.BrokerEpoch = rd.Int64()
	r.UnknownTags = rd.tags(func(key uint32, f *reader) bool {
		switch {
		case key == 0:
			r.Fenced = f.Int8()
		case key == 1 && v >= 1:
			r.InControlledShutdown = f.Int8()
		case key == 2 && v >= 2:
			r.LogDirs = f.uuids(false)
		default:
			return false
		}
		return true
	})
	return rd.finish()
}
