package broker

// Kafka's ACL operation codes (AclOperation), which the authorized-
// operations fields of Metadata, DescribeCluster and DescribeGroups carry
// as bits.
const (
	opRead            = 3
	opWrite           = 4
	opCreate          = 5
	opDelete          = 6
	opAlter           = 7
	opDescribe        = 8
	opClusterAction   = 9
	opDescribeConfigs = 10
	opAlterConfigs    = 11
	opIdempotentWrite = 12
)

// authorizedOperationsUnset is Kafka's "not requested" value.
const authorizedOperationsUnset = -2147483648

// The operations each resource type supports, as Kafka lists them.
var (
	topicOperations   = opBits(opRead, opWrite, opCreate, opDelete, opAlter, opDescribe, opDescribeConfigs, opAlterConfigs)
	clusterOperations = opBits(opCreate, opAlter, opDescribe, opClusterAction, opDescribeConfigs, opAlterConfigs, opIdempotentWrite)
	groupOperations   = opBits(opRead, opDescribe, opDelete)
)

func opBits(ops ...int) int32 {
	var b int32
	for _, op := range ops {
		b |= 1 << op
	}
	return b
}

// authorizedOperations answers an authorized-operations field: Kafka's
// "not requested" value unless the client asked, and otherwise every
// operation the resource type supports, which is what Kafka answers when no
// authorizer is configured (ACLs will narrow it to the principal's).
func authorizedOperations(requested bool, supported int32) int32 {
	if !requested {
		return authorizedOperationsUnset
	}
	return supported
}
