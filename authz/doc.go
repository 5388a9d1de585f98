// Package authz is Spool's authorizer: Kafka's StandardAuthorizer rules
// (ACL bindings on topics, groups, the cluster, transactional ids,
// delegation tokens and users; LITERAL, PREFIXED and wildcard patterns;
// DENY over ALLOW; DESCRIBE implied by READ, WRITE, DELETE and ALTER and
// DESCRIBE_CONFIGS by ALTER_CONFIGS; super.users;
// allow.everyone.if.no.acl.found) over the bindings the metadata image
// holds, plus the filter and validation rules of CreateAcls, DescribeAcls
// and DeleteAcls.
//
// It owns no I/O: callers pass the image's ACL set, a principal, the
// client's host and an action. It imports controller/metadata (the ACL
// records) and security (principals) only, so the broker and the
// controller both use it.
package authz
