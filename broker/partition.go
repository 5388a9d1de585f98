package broker

import (
	"slices"
	"sync"

	"spool/controller/metadata"
	"spool/storage"
)

// partition is one hosted replica: its log and what the image says about
// its leadership.
type partition struct {
	topic   string
	id      int32
	topicID [16]byte
	log     *storage.Log

	mu          sync.RWMutex
	leader      int32
	leaderEpoch int32
	isr         []int32
	isLeader    bool
}

func newPartition(topic string, id int32, topicID [16]byte, l *storage.Log) *partition {
	return &partition{topic: topic, id: id, topicID: topicID, log: l, leader: -1}
}

func (p *partition) setState(mp *metadata.Partition, self int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.leader, p.leaderEpoch = mp.Leader, mp.LeaderEpoch
	p.isr = slices.Clone(mp.ISR)
	p.isLeader = mp.Leader == self
}

func (p *partition) close() {
	p.log.Close()
}
