package controller

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

// tieringCheck applies config.CheckTiering to a topic's configs before and
// after a change.
type tieringCheck func(prev, next map[string]string) *topicError

// tieringCheck resolves unset keys as this controller sees them: the
// cluster's dynamic defaults, then its static file, whose
// remote.log.storage.system.enable decides whether topics may tier (as in
// Kafka, controllers need it set too).
func (c *Controller) tieringCheck(img *metadata.Image) tieringCheck {
	return tieringFor(img, c.cfg.Static)
}

func tieringFor(img *metadata.Image, static *config.Config) tieringCheck {
	layers := config.Layers{
		Static:     static,
		DynamicAll: img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceBroker}],
	}
	enabled := static.Bool("remote.log.storage.system.enable")
	return func(prev, next map[string]string) *topicError {
		if err := config.CheckTiering(layers, prev, next, enabled); err != nil {
			return errf(kerr.InvalidConfig, "%s", err.Error())
		}
		return nil
	}
}

// checkTiering checks a new topic's requested configs.
func (tc *topicCreator) checkTiering(cfgs []kmsg.CreateTopicsRequestTopicConfig) *topicError {
	own := make(map[string]string, len(cfgs))
	for _, c := range cfgs {
		if c.Value != nil {
			own[c.Name] = *c.Value
		}
	}
	return tieringFor(tc.img, tc.static)(nil, own)
}
