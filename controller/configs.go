package controller

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

// configChange computes a resource's new dynamic configs from its current
// ones (which it must not modify).
type configChange func(cur map[string]string) (map[string]string, *topicError)

// AlterConfigs replaces the whole set of dynamic configs of each resource:
// keys the request leaves out are deleted, as Kafka's legacy API does.
func (c *Controller) AlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) *kmsg.AlterConfigsResponse {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	resp.Resources = make([]kmsg.AlterConfigsResponseResource, len(req.Resources))
	targets := make([]configTarget, len(req.Resources))
	for i, r := range req.Resources {
		set := r.Configs
		targets[i] = configTarget{typ: int8(r.ResourceType), name: r.ResourceName, change: func(map[string]string) (map[string]string, *topicError) {
			return replaceConfigs(set)
		}}
	}
	errs := c.alterConfigs(ctx, targets, req.ValidateOnly)
	for i, r := range req.Resources {
		rr := &resp.Resources[i]
		*rr = kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		if e := errs[i]; e != nil {
			rr.ErrorCode, rr.ErrorMessage = e.err.Code, &e.msg
		}
	}
	return resp
}

// IncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT
// operations to each resource's dynamic configs.
func (c *Controller) IncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	resp.Resources = make([]kmsg.IncrementalAlterConfigsResponseResource, len(req.Resources))
	targets := make([]configTarget, len(req.Resources))
	for i, r := range req.Resources {
		ops, typ := r.Configs, int8(r.ResourceType)
		targets[i] = configTarget{typ: typ, name: r.ResourceName, change: func(cur map[string]string) (map[string]string, *topicError) {
			return incrementalConfigs(typ, cur, ops)
		}}
	}
	errs := c.alterConfigs(ctx, targets, req.ValidateOnly)
	for i, r := range req.Resources {
		rr := &resp.Resources[i]
		*rr = kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		if e := errs[i]; e != nil {
			rr.ErrorCode, rr.ErrorMessage = e.err.Code, &e.msg
		}
	}
	return resp
}

// configTarget is one resource of an alter request and what to do to it.
type configTarget struct {
	typ    int8
	name   string
	change configChange
}

// alterConfigs validates every target against the speculative image and
// writes the ConfigRecords of the valid ones; it returns each target's error.
func (c *Controller) alterConfigs(ctx context.Context, targets []configTarget, validateOnly bool) []*topicError {
	errs := make([]*topicError, len(targets))
	seen := map[metadata.ConfigResource]int{}
	for _, t := range targets {
		seen[metadata.ConfigResource{Type: t.typ, Name: t.name}]++
	}
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		var recs []metadata.Record
		for i, t := range targets {
			res := metadata.ConfigResource{Type: t.typ, Name: t.name}
			if seen[res] > 1 {
				errs[i] = errf(kerr.InvalidRequest, "Duplicate resource: type %d, name %q", t.typ, t.name)
				continue
			}
			rrecs, e := configRecords(img, res, t.change, c.tieringCheck(img), c.cfg.Static)
			if e != nil {
				errs[i] = e
				continue
			}
			if !validateOnly {
				recs = append(recs, rrecs...)
			}
		}
		return recs, nil
	})
	if err != nil {
		ke, _ := kerr.ErrorForCode(errorCode(err)).(*kerr.Error)
		if ke == nil {
			ke = kerr.UnknownServerError
		}
		e := &topicError{err: ke, msg: err.Error()}
		for i := range errs {
			if errs[i] == nil {
				errs[i] = e
			}
		}
	}
	return errs
}

// configRecords checks the resource, applies change to its current configs,
// validates every key whose value changes, and returns the records that take
// the resource from its current configs to the new ones.
func configRecords(img *metadata.Image, res metadata.ConfigResource, change configChange, tiering tieringCheck, static *config.Config) ([]metadata.Record, *topicError) {
	if e := checkConfigResource(img, res); e != nil {
		return nil, e
	}
	cur := img.Configs[res]
	next, e := change(cur)
	if e != nil {
		return nil, e
	}
	if res.Type == metadata.ConfigResourceTopic && tiering != nil {
		if e := tiering(cur, next); e != nil {
			return nil, e
		}
	}
	var recs []metadata.Record
	for _, name := range slices.Sorted(maps.Keys(next)) {
		v := next[name]
		if old, ok := cur[name]; ok && old == v {
			continue
		}
		if e := validateConfig(res.Type, name, v); e != nil {
			return nil, e
		}
		if res.Type == metadata.ConfigResourceGroup && static != nil {
			if err := static.CheckGroupBounds(name, v); err != nil {
				return nil, errf(kerr.InvalidConfig, "%v.", err)
			}
		}
		recs = append(recs, &metadata.ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: name, Value: &v})
	}
	for _, name := range slices.Sorted(maps.Keys(cur)) {
		if _, ok := next[name]; !ok {
			recs = append(recs, &metadata.ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: name})
		}
	}
	return recs, nil
}

func checkConfigResource(img *metadata.Image, res metadata.ConfigResource) *topicError {
	switch res.Type {
	case metadata.ConfigResourceTopic:
		if e := ValidateTopicName(res.Name); e != nil {
			return e
		}
		if img.Topics.ByName(res.Name) == nil {
			return errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", res.Name)
		}
	case metadata.ConfigResourceBroker:
		// "" is the cluster-wide default; any id is accepted, since a
		// broker's configs may be set before it first registers.
		if res.Name != "" {
			if id, err := strconv.ParseInt(res.Name, 10, 32); err != nil || id < 0 {
				return errf(kerr.InvalidRequest, "Unable to parse broker name %q as a base 10 node id.", res.Name)
			}
		}
	case metadata.ConfigResourceGroup:
		// Like Kafka, any group id may have configs, before the group
		// exists and after it is gone; only the empty one may not.
		if res.Name == "" {
			return errf(kerr.InvalidRequest, "Default group resources are not allowed.")
		}
	default:
		return errf(kerr.InvalidRequest, "Unsupported resource type %d: configs can be altered on topics (2), brokers (4) and groups (32).", res.Type)
	}
	return nil
}

// validateConfig checks one key and value for a resource type: the key
// must be known (and dynamic, on brokers) and the value must follow its
// rule. The message names the key and the rule.
func validateConfig(resType int8, name, value string) *topicError {
	var d *config.Def
	if resType == metadata.ConfigResourceTopic {
		if d = config.LookupTopic(name); d == nil {
			return errf(kerr.InvalidConfig, "Unknown topic config name: %s", name)
		}
	} else if resType == metadata.ConfigResourceGroup {
		if d = config.LookupGroup(name); d == nil {
			return errf(kerr.InvalidConfig, "Unknown group config name: %s", name)
		}
	} else if lk, ok := config.ReloadableListenerKey(name); ok {
		// A listener's keystore: the broker reloads it (broker/keystores.go).
		d = lk.Def
	} else {
		if d = config.LookupBroker(name); d == nil {
			return errf(kerr.InvalidConfig, "Unknown broker config name: %s", name)
		}
		if !d.Dynamic {
			// Kafka's code for a static key is INVALID_REQUEST.
			return errf(kerr.InvalidRequest, "Cannot update these configs dynamically: %s (set it in server.properties and restart)", name)
		}
	}
	if err := d.Check(value); err != nil {
		return errf(kerr.InvalidConfig, "Invalid value %s for configuration %s: %v", value, name, err)
	}
	return nil
}

// replaceConfigs is the new set of an AlterConfigs resource: exactly the
// request's keys. A null value leaves the key out, as Kafka does.
func replaceConfigs(set []kmsg.AlterConfigsRequestResourceConfig) (map[string]string, *topicError) {
	next := map[string]string{}
	seen := map[string]bool{}
	for _, c := range set {
		if seen[c.Name] {
			return nil, errf(kerr.InvalidRequest, "Error due to duplicate config keys: %s", c.Name)
		}
		seen[c.Name] = true
		if c.Value != nil {
			next[c.Name] = *c.Value
		}
	}
	return next, nil
}

// incrementalConfigs applies IncrementalAlterConfigs operations. APPEND
// and SUBTRACT start from the resource's own value or, when it has none,
// the config's default, as Kafka does.
func incrementalConfigs(resType int8, cur map[string]string, ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) (map[string]string, *topicError) {
	next := maps.Clone(cur)
	if next == nil {
		next = map[string]string{}
	}
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Name] {
			return nil, errf(kerr.InvalidRequest, "Error due to duplicate config keys: %s", op.Name)
		}
		seen[op.Name] = true
		switch op.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			if op.Value == nil {
				return nil, errf(kerr.InvalidRequest, "Null value not supported for: %s", op.Name)
			}
			next[op.Name] = *op.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(next, op.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			list, e := listBase(resType, next, op)
			if e != nil {
				return nil, e
			}
			items := config.SplitList(deref(op.Value))
			if op.Op == kmsg.IncrementalAlterConfigOpAppend {
				for _, it := range items {
					if !slices.Contains(list, it) {
						list = append(list, it)
					}
				}
			} else {
				list = slices.DeleteFunc(list, func(s string) bool { return slices.Contains(items, s) })
			}
			next[op.Name] = strings.Join(list, ",")
		default:
			return nil, errf(kerr.InvalidRequest, "Unknown config operation %d for %s", op.Op, op.Name)
		}
	}
	return next, nil
}

// listBase is the list an APPEND or SUBTRACT starts from.
func listBase(resType int8, cur map[string]string, op kmsg.IncrementalAlterConfigsRequestResourceConfig) ([]string, *topicError) {
	verb := "append"
	if op.Op == kmsg.IncrementalAlterConfigOpSubtract {
		verb = "subtract"
	}
	var d *config.Def
	switch resType {
	case metadata.ConfigResourceTopic:
		d = config.LookupTopic(op.Name)
	case metadata.ConfigResourceGroup:
		d = config.LookupGroup(op.Name)
	default:
		d = config.LookupBroker(op.Name)
	}
	if d == nil {
		return nil, validateConfig(resType, op.Name, "")
	}
	if d.Type != config.TypeList {
		return nil, errf(kerr.InvalidConfig, "Config value %s is not allowed for config key %s: it is a %s, not a list", verb, op.Name, d.Type)
	}
	if v, ok := cur[op.Name]; ok {
		return config.SplitList(v), nil
	}
	return config.SplitList(d.Default), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
