// Package quota owns client quotas apart from any socket or log: the
// validation of AlterClientQuotas into ClientQuotaRecords, the
// DescribeClientQuotas filter over the image's quotas, the entity
// resolution a broker uses to find a client's quota (KIP-55's order), and
// the sampled-window rate that measures use against it (Kafka's
// quota.window.num x quota.window.size.seconds). It imports only
// controller/metadata (and kmsg).
package quota
