package quota

// Quota keys, as Kafka names them.
const (
	ProducerByteRate       = "producer_byte_rate"
	ConsumerByteRate       = "consumer_byte_rate"
	RequestPercentage      = "request_percentage"
	ControllerMutationRate = "controller_mutation_rate"
	ConnectionCreationRate = "connection_creation_rate"
)

// valueKind is how a key's value must look: Kafka defines the byte rates
// as longs, the percentages and mutation rate as doubles and the IP
// connection rate as an int.
type valueKind int8

const (
	kindDouble valueKind = iota
	kindLong
	kindInt
)

// clientKeys are the keys a user, client-id or user+client-id entity
// takes; ipKeys those an ip entity takes.
var (
	clientKeys = map[string]valueKind{
		ProducerByteRate:       kindLong,
		ConsumerByteRate:       kindLong,
		RequestPercentage:      kindDouble,
		ControllerMutationRate: kindDouble,
	}
	ipKeys = map[string]valueKind{
		ConnectionCreationRate: kindInt,
	}
)
