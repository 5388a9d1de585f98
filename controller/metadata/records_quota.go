package metadata

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"
)

// TypeClientQuota is ClientQuotaRecord's type (Kafka's number).
const TypeClientQuota int16 = 14

// Quota entity types, as Kafka names them.
const (
	QuotaUser     = "user"
	QuotaClientID = "client-id"
	QuotaIP       = "ip"
)

// QuotaEntityData is one part of a quota entity: a type and a name, where
// a nil name is the type's default entity.
type QuotaEntityData struct {
	EntityType  string
	EntityName  *string
	UnknownTags []Tag
}

// ClientQuotaRecord (type 14, version 0) sets one quota of an entity, or
// removes it.
type ClientQuotaRecord struct {
	Entity      []QuotaEntityData
	Key         string
	Value       float64
	Remove      bool
	UnknownTags []Tag
}

func (*ClientQuotaRecord) Type() int16    { return TypeClientQuota }
func (*ClientQuotaRecord) Version() int16 { return 0 }

func (r *ClientQuotaRecord) AppendTo(dst []byte) []byte {
	dst = kbin.AppendCompactArrayLen(dst, len(r.Entity))
	for _, e := range r.Entity {
		dst = appendStr(dst, e.EntityType)
		dst = appendNullableStr(dst, e.EntityName)
		dst = appendTags(dst, nil, e.UnknownTags)
	}
	dst = appendStr(dst, r.Key)
	dst = kbin.AppendFloat64(dst, r.Value)
	dst = kbin.AppendBool(dst, r.Remove)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *ClientQuotaRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	n := rd.arrayLen(false, 3)
	for i := 0; i < n && rd.ok(); i++ {
		var e QuotaEntityData
		e.EntityType = rd.str()
		e.EntityName = rd.nullableStr()
		e.UnknownTags = rd.tags(nil)
		r.Entity = append(r.Entity, e)
	}
	r.Key = rd.str()
	r.Value = rd.Float64()
	r.Remove = rd.Bool()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// QuotaName is one entity type's part of a QuotaEntity: absent (Set
// false), the default entity, or a name.
type QuotaName struct {
	Set     bool
	Default bool
	Name    string
}

// QuotaEntity names what a quota applies to: a user, a client id, both, or
// an IP address, each possibly the default.
type QuotaEntity struct {
	User, ClientID, IP QuotaName
}

// EntityOf builds the entity of a record's entity data; an unknown or
// repeated type is an error.
func EntityOf(data []QuotaEntityData) (QuotaEntity, error) {
	var e QuotaEntity
	for _, d := range data {
		var p *QuotaName
		switch d.EntityType {
		case QuotaUser:
			p = &e.User
		case QuotaClientID:
			p = &e.ClientID
		case QuotaIP:
			p = &e.IP
		default:
			return e, fmt.Errorf("unknown quota entity type %q", d.EntityType)
		}
		if p.Set {
			return e, fmt.Errorf("quota entity type %q given twice", d.EntityType)
		}
		p.Set = true
		if d.EntityName == nil {
			p.Default = true
		} else {
			p.Name = *d.EntityName
		}
	}
	if len(data) == 0 || (e.IP.Set && (e.User.Set || e.ClientID.Set)) {
		return e, fmt.Errorf("invalid quota entity %v", data)
	}
	return e, nil
}

// Data is the entity as record entity data, in Kafka's type order.
func (e QuotaEntity) Data() []QuotaEntityData {
	var out []QuotaEntityData
	add := func(typ string, n QuotaName) {
		if !n.Set {
			return
		}
		d := QuotaEntityData{EntityType: typ}
		if !n.Default {
			name := n.Name
			d.EntityName = &name
		}
		out = append(out, d)
	}
	add(QuotaUser, e.User)
	add(QuotaClientID, e.ClientID)
	add(QuotaIP, e.IP)
	return out
}

func (e QuotaEntity) String() string {
	s := ""
	for _, d := range e.Data() {
		name := "<default>"
		if d.EntityName != nil {
			name = *d.EntityName
		}
		if s != "" {
			s += ","
		}
		s += d.EntityType + "=" + name
	}
	return s
}

// quotaDelta changes the quotas copy-on-write, per entity.
type quotaDelta struct {
	base map[QuotaEntity]map[string]float64
	next map[QuotaEntity]map[string]float64
}

func (d *quotaDelta) current() map[QuotaEntity]map[string]float64 {
	if d.next != nil {
		return d.next
	}
	return d.base
}

func (d *quotaDelta) set(r *ClientQuotaRecord) error {
	e, err := EntityOf(r.Entity)
	if err != nil {
		return err
	}
	if r.Key == "" {
		return fmt.Errorf("quota of %s without a key", e)
	}
	if d.next == nil {
		d.next = maps.Clone(d.base)
		if d.next == nil {
			d.next = map[QuotaEntity]map[string]float64{}
		}
	}
	m := maps.Clone(d.next[e])
	if m == nil {
		m = map[string]float64{}
	}
	if r.Remove {
		delete(m, r.Key)
	} else {
		m[r.Key] = r.Value
	}
	if len(m) == 0 {
		delete(d.next, e)
	} else {
		d.next[e] = m
	}
	return nil
}

func (img *Image) appendQuotaRecords(recs []Record) []Record {
	entities := slices.SortedFunc(maps.Keys(img.Quotas), func(a, b QuotaEntity) int { return cmp.Compare(a.String(), b.String()) })
	for _, e := range entities {
		m := img.Quotas[e]
		for _, k := range sortedKeys(m) {
			recs = append(recs, &ClientQuotaRecord{Entity: e.Data(), Key: k, Value: m[k]})
		}
	}
	return recs
}
