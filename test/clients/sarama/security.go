package main

import (
	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"

	"spool/test/clients/internal/spec"
)

// secure applies the matrix's security flags to a sarama config. sarama
// speaks SCRAM through a client the application supplies; xdgSCRAM is
// that client on xdg-go/scram, the library sarama's own example uses.
func secure(cfg *sarama.Config, s spec.Security) {
	if s.TLS() {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = s.TLSConfig()
	}
	if !s.SASL() {
		return
	}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.User, cfg.Net.SASL.Password = s.User, s.Password
	switch s.Mechanism {
	case "SCRAM-SHA-512":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{hash: scram.SHA512} }
	case "SCRAM-SHA-256":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{hash: scram.SHA256} }
	default:
		spec.Fail("sarama runner: no SASL mechanism %q", s.Mechanism)
	}
}

type xdgSCRAM struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (x *xdgSCRAM) Begin(user, pass, authzID string) error {
	cl, err := x.hash.NewClient(user, pass, authzID)
	if err != nil {
		return err
	}
	x.conv = cl.NewConversation()
	return nil
}

func (x *xdgSCRAM) Step(challenge string) (string, error) { return x.conv.Step(challenge) }

func (x *xdgSCRAM) Done() bool { return x.conv.Done() }
