package broker

import (
	"context"
	"time"

	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/tiered"
)

// remoteDeleteAttempts bounds the retries of a deleted topic's remote
// cleanup; between them the wait doubles from one second.
const remoteDeleteAttempts = 4

// deleteRemote removes the remote objects of a deleted tiered topic's
// partitions this broker hosted (every replica does it; deleting twice is
// harmless). It runs in the background, retrying while the store fails.
func (rm *replicaManager) deleteRemote(prev *metadata.Image, t *metadata.Topic) {
	b := rm.b
	if _, ok := b.tierLimits(prev, t.Name); !ok || !isReplicaOf(t, b.cfg.NodeID) {
		return
	}
	rm.wg.Add(1)
	go func() {
		defer rm.wg.Done()
		for _, p := range t.Partitions {
			key := tiered.PartitionKey{Topic: t.Name, TopicID: t.ID, Partition: p.ID}
			rp := b.cfg.Tier.Partition(key)
			wait := time.Second
			for i := 0; ; i++ {
				err := rp.DeleteAll(context.Background())
				if err == nil {
					break
				}
				if i+1 == remoteDeleteAttempts {
					b.log.Error("remote storage: deleted topic's objects remain", zap.String("topic", t.Name), zap.Int32("partition", p.ID), zap.Error(err))
					break
				}
				time.Sleep(wait)
				wait *= 2
			}
			b.cfg.Tier.Forget(key)
		}
		b.log.Info("remote storage: deleted topic's remote segments", zap.String("topic", t.Name))
	}()
}

func isReplicaOf(t *metadata.Topic, node int32) bool {
	for _, p := range t.Partitions {
		for _, r := range p.Replicas {
			if r == node {
				return true
			}
		}
	}
	return false
}
