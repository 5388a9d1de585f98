package metadata

import "fmt"

// brokersDelta changes broker registrations copy-on-write: the map is copied
// on the first change and a changed broker is a new Broker.
type brokersDelta struct {
	base map[int32]*Broker
	next map[int32]*Broker // nil until the first change
}

func (b *brokersDelta) current() map[int32]*Broker {
	if b.next != nil {
		return b.next
	}
	return b.base
}

func (b *brokersDelta) writable() map[int32]*Broker {
	if b.next == nil {
		b.next = cloneMap(b.base)
	}
	return b.next
}

func (b *brokersDelta) register(r *RegisterBrokerRecord) {
	b.writable()[r.BrokerID] = brokerFromRecord(r)
}

// lookup finds broker id and checks the record was written for its current
// registration, as Kafka does: a record for an older epoch is corrupt.
func (b *brokersDelta) lookup(id int32, epoch int64) (*Broker, error) {
	br := b.current()[id]
	if br == nil {
		return nil, fmt.Errorf("unknown broker %d", id)
	}
	if br.Epoch != epoch {
		return nil, fmt.Errorf("broker %d has epoch %d, record has %d", id, br.Epoch, epoch)
	}
	return br, nil
}

func (b *brokersDelta) unregister(id int32, epoch int64) error {
	if _, err := b.lookup(id, epoch); err != nil {
		return err
	}
	delete(b.writable(), id)
	return nil
}

// change applies a fencing change (FenceChange*), a controlled-shutdown
// change (0 none, 1 now shutting down) and new log dirs (empty: none).
func (b *brokersDelta) change(id int32, epoch int64, fenced, shutdown int8, logDirs [][16]byte) error {
	br, err := b.lookup(id, epoch)
	if err != nil {
		return err
	}
	if fenced < FenceChangeUnfence || fenced > FenceChangeFence {
		return fmt.Errorf("broker %d: fenced change %d", id, fenced)
	}
	if shutdown < 0 || shutdown > 1 {
		return fmt.Errorf("broker %d: controlled shutdown change %d", id, shutdown)
	}
	nb := *br
	switch fenced {
	case FenceChangeFence:
		nb.Fenced = true
	case FenceChangeUnfence:
		nb.Fenced = false
	}
	if shutdown == 1 {
		nb.InControlledShutdown = true
	}
	if len(logDirs) > 0 {
		nb.LogDirs = logDirs
	}
	b.writable()[id] = &nb
	return nil
}
