package config

// StandardAuthorizerClass is Kafka's KRaft authorizer, the only value of
// authorizer.class.name Spool accepts besides empty.
const StandardAuthorizerClass = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

// authzDefs are the authorization configs (Kafka's names and defaults).
var authzDefs = []Def{
	def("authorizer.class.name", TypeClass, "", "Authorizer: empty for none, or "+StandardAuthorizerClass+" for ACLs kept in the metadata log.").rule(oneOf("", StandardAuthorizerClass)),
	def("super.users", TypeString, "", "Principals allowed everything, separated by semicolons (User:admin;User:broker).").noDefault(),
	def("allow.everyone.if.no.acl.found", TypeBoolean, "false", "Allow an action on a resource no ACL names; with false only super users may."),
}
