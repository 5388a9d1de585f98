package broker

// producerStates is the idempotent producer state of one partition.
type producerStates struct{}

func newProducerStates() *producerStates { return &producerStates{} }
