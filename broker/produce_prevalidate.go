package broker

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/record"
)

// checkedBatch is one partition's batch validated ahead of its append.
type checkedBatch struct {
	h    record.Header
	bad  batchProblem
	done bool
}

// parallelValidateBytes is the request size from which batches are
// validated on several cores at once: below it, handing work to other
// goroutines costs more than it saves. Measured end to end with franz-go's
// snappy batches on two cores, also splitting smaller requests by their
// inflated size spent more CPU than the latency it saved was worth.
const parallelValidateBytes = 256 << 10

// prevalidate resolves each topic once and, when the request carries
// several batches worth spreading, validates them on all cores before the
// appends. Validating (CRC, inflating, walking every record) is the
// costliest part of a produce and touches only the request's own bytes;
// the appends that follow still run one by one on the reading goroutine,
// in request order.
func (b *Broker) prevalidate(pr *produceRequest) {
	r := pr.r
	pr.topics = pr.topicsBuf[:0]
	if len(r.Topics) > len(pr.topicsBuf) {
		pr.topics = make([]produceTopicInfo, 0, len(r.Topics))
	}
	n, size, batches := 0, 0, 0
	for i := range r.Topics {
		t := &r.Topics[i]
		pr.topics = append(pr.topics, produceTopicInfo{first: n})
		ti := &pr.topics[i]
		n += len(t.Partitions)
		if ti.topic = produceTopicOf(pr.img, r.Version, t); ti.topic == nil {
			continue
		}
		ti.cfg = b.produceConfig(pr.img, ti.topic.Name)
		for j := range t.Partitions {
			if validatable(ti.topic, &t.Partitions[j]) {
				size += len(t.Partitions[j].Records)
				batches++
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), batches)
	if workers < 2 || size < parallelValidateBytes || (r.Acks != 0 && r.Acks != 1 && r.Acks != -1) {
		return
	}
	type job struct{ topic, partition int }
	jobs := make([]job, 0, batches)
	for i := range r.Topics {
		for j := range r.Topics[i].Partitions {
			if t := pr.topics[i].topic; t != nil && validatable(t, &r.Topics[i].Partitions[j]) {
				jobs = append(jobs, job{i, j})
			}
		}
	}
	pr.checked = make([]checkedBatch, n)
	var next atomic.Int32
	work := func() {
		for k := int(next.Add(1)) - 1; k < len(jobs); k = int(next.Add(1)) - 1 {
			j := jobs[k]
			info := &pr.topics[j.topic]
			c := &pr.checked[info.first+j.partition]
			c.h, c.bad = validateProduce(r.Topics[j.topic].Partitions[j.partition].Records, r.Version, &info.cfg, pr.params.nowMs, pr.room)
			c.done = true
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

// produceTopicOf finds a request topic by name, or by id from v13
// (KIP-516).
func produceTopicOf(img *metadata.Image, version int16, t *kmsg.ProduceRequestTopic) *metadata.Topic {
	if version >= 13 {
		return img.Topics.ByID(t.TopicID)
	}
	return img.Topics.ByName(t.Topic)
}

// validatable reports whether producePartition would get as far as
// validating the partition's batch: the topic is not internal and has the
// partition.
func validatable(t *metadata.Topic, p *kmsg.ProduceRequestTopicPartition) bool {
	return !isInternal(t.Name) && t.Partition(p.Partition) != nil
}
