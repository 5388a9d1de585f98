package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleDescribeUserScramCredentials is DescribeUserScramCredentials v0
// (KIP-554), answered from the image: each user's mechanisms and iteration
// counts, never salts or keys.
func (b *Broker) handleDescribeUserScramCredentials(req *protocol.Request, respond func(protocol.Response)) {
	respond(protocol.Msg(metadata.DescribeScram(b.Image(), req.Msg.(*kmsg.DescribeUserSCRAMCredentialsRequest))))
}
