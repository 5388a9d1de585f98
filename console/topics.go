package console

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

type topicSummary struct {
	Name            string `json:"name"`
	ID              string `json:"id"`
	Internal        bool   `json:"internal"`
	Partitions      int    `json:"partitions"`
	Replication     int    `json:"replication_factor"`
	UnderReplicated int    `json:"under_replicated"`
	Leaderless      int    `json:"leaderless"`
	// Size is the bytes of the partitions' leader replicas (one copy of
	// the data), -1 when the brokers did not say.
	Size int64 `json:"size"`
}

type topicsView struct {
	Topics    []topicSummary `json:"topics"`
	SizeError string         `json:"size_error,omitempty"`
}

// internalTopics are the topics Kafka marks internal.
var internalTopics = []string{"__consumer_offsets", "__transaction_state", "__share_group_state"}

// topics answers GET /v1/topics: every topic with its partition counts
// from the image and its size from DescribeLogDirs.
func (c *Console) topics(ctx context.Context, r *http.Request) (any, error) {
	img := c.image()
	v := topicsView{Topics: []topicSummary{}}
	img.Topics.Range(func(t *metadata.Topic) bool {
		// Metadata lists only the topics the user may describe.
		if c.may(ctx, r, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, t.Name) {
			v.Topics = append(v.Topics, summarize(t))
		}
		return true
	})
	slices.SortFunc(v.Topics, func(a, b topicSummary) int { return strings.Compare(a.Name, b.Name) })
	sizes, err := c.leaderSizes(ctx, img, nil)
	if err != nil {
		v.SizeError = err.Error()
	}
	for i := range v.Topics {
		t := &v.Topics[i]
		if err != nil {
			t.Size = -1
			continue
		}
		for _, s := range sizes[t.Name] {
			t.Size += max(s, 0)
		}
	}
	return v, nil
}

func summarize(t *metadata.Topic) topicSummary {
	s := topicSummary{Name: t.Name, ID: uuidString(t.ID), Internal: slices.Contains(internalTopics, t.Name), Partitions: len(t.Partitions)}
	for _, p := range t.Partitions {
		s.Replication = max(s.Replication, len(p.Replicas))
		if len(p.ISR) < len(p.Replicas) {
			s.UnderReplicated++
		}
		if p.Leader < 0 {
			s.Leaderless++
		}
	}
	return s
}

// leaderSizes returns the size of each partition's leader replica by topic
// and partition (-1 when its leader did not report it); topics nil asks
// for every topic.
func (c *Console) leaderSizes(ctx context.Context, img *metadata.Image, topics []string) (map[string]map[int32]int64, error) {
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	var set kadm.TopicsSet
	if topics != nil {
		// DescribeLogDirs names partitions; a topic with none listed is
		// answered with nothing.
		set = kadm.TopicsSet{}
		for _, name := range topics {
			if t := img.Topics.ByName(name); t != nil {
				for _, p := range t.Partitions {
					set.Add(name, p.ID)
				}
			}
		}
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, set)
	if err != nil {
		return nil, err
	}
	out := map[string]map[int32]int64{}
	img.Topics.Range(func(t *metadata.Topic) bool {
		if topics != nil && !slices.Contains(topics, t.Name) {
			return true
		}
		ps := map[int32]int64{}
		for _, p := range t.Partitions {
			ps[p.ID] = -1
		}
		out[t.Name] = ps
		return true
	})
	dirs.Each(func(d kadm.DescribedLogDir) {
		for topic, parts := range d.Topics {
			t := img.Topics.ByName(topic)
			for id, p := range parts {
				if t != nil && t.Partition(id) != nil && t.Partition(id).Leader == p.Broker && out[topic] != nil {
					out[topic][id] = p.Size
				}
			}
		}
	})
	return out, nil
}

type partitionView struct {
	Partition   int32   `json:"partition"`
	Leader      int32   `json:"leader"`
	LeaderEpoch int32   `json:"leader_epoch"`
	Replicas    []int32 `json:"replicas"`
	ISR         []int32 `json:"isr"`
	Adding      []int32 `json:"adding_replicas"`
	Removing    []int32 `json:"removing_replicas"`
	LogStart    int64   `json:"log_start_offset"`
	HighWater   int64   `json:"high_watermark"`
	Size        int64   `json:"size"`
	Error       string  `json:"error,omitempty"`
}

type configView struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive"`
}

type topicView struct {
	topicSummary
	PartitionList []partitionView `json:"partition_list"`
	Configs       []configView    `json:"configs"`
	Errors        []string        `json:"errors"`
}

// topic answers GET /v1/topics/{topic}: its partitions (assignment from
// the image, offsets from ListOffsets, sizes from DescribeLogDirs) and its
// configs whose source is not the default (DescribeConfigs).
func (c *Console) topic(ctx context.Context, r *http.Request) (any, error) {
	img := c.image()
	name := r.PathValue("topic")
	t := img.Topics.ByName(name)
	if t == nil {
		return nil, notFound("unknown topic " + name)
	}
	if err := c.mustMay(ctx, r, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, name); err != nil {
		return nil, err
	}
	v := topicView{topicSummary: summarize(t), PartitionList: []partitionView{}, Configs: []configView{}, Errors: []string{}}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	starts, serr := adm.ListStartOffsets(ctx, name)
	ends, eerr := adm.ListEndOffsets(ctx, name)
	sizes, zerr := c.leaderSizes(ctx, img, []string{name})
	for _, e := range []error{serr, eerr, zerr} {
		if e != nil {
			v.Errors = append(v.Errors, e.Error())
		}
	}
	for _, p := range t.Partitions {
		pv := partitionView{Partition: p.ID, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, Replicas: orEmpty(p.Replicas), ISR: orEmpty(p.ISR),
			Adding: orEmpty(p.AddingReplicas), Removing: orEmpty(p.RemovingReplicas), LogStart: -1, HighWater: -1, Size: -1}
		if o, ok := starts.Lookup(name, p.ID); ok && serr == nil {
			pv.LogStart = o.Offset
			if o.Err != nil {
				pv.Error = o.Err.Error()
			}
		}
		if o, ok := ends.Lookup(name, p.ID); ok && eerr == nil {
			pv.HighWater = o.Offset
			if o.Err != nil {
				pv.Error = o.Err.Error()
			}
		}
		if s, ok := sizes[name][p.ID]; ok {
			pv.Size = s
			v.Size += max(s, 0)
		}
		v.PartitionList = append(v.PartitionList, pv)
	}
	if err := c.mustMay(ctx, r, kmsg.ACLOperationDescribeConfigs, kmsg.ACLResourceTypeTopic, name); err != nil {
		v.Errors = append(v.Errors, err.Error())
	} else if v.Configs, err = c.topicConfigs(ctx, adm, name); err != nil {
		v.Errors = append(v.Errors, err.Error())
	}
	return v, nil
}

// topicConfigs lists the configs set anywhere but Kafka's defaults.
func (c *Console) topicConfigs(ctx context.Context, adm *kadm.Client, name string) ([]configView, error) {
	out := []configView{}
	rcs, err := adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return out, err
	}
	rc, err := rcs.On(name, nil)
	if err != nil {
		return out, err
	}
	if rc.Err != nil {
		return out, rc.Err
	}
	for _, cfg := range rc.Configs {
		if cfg.Source == kmsg.ConfigSourceDefaultConfig {
			continue
		}
		out = append(out, configView{Name: cfg.Key, Value: cfg.Value, Source: cfg.Source.String(), Sensitive: cfg.Sensitive})
	}
	slices.SortFunc(out, func(a, b configView) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func orEmpty(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}
